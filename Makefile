# Two commands for a new user: `make lab` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(HASH)
LAB_STAMP := $(VENV)/.lab-installed-$(HASH)

.PHONY: lab test lint unit bench fuzz clean

# A venv with orange_nb in editable mode and the extras named. An editable install leaves
# out the wheel's shared data: the server extension is enabled here as a regular install would.
define install_venv
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(1)]'
	install -D -m 644 jupyter-config/jupyter_server_config.d/orange_nb.json \
		$(VENV)/etc/jupyter/jupyter_server_config.d/orange_nb.json
endef
comma := ,

$(STAMP): pyproject.toml
	$(call install_venv,test$(comma)lab)
	rm -f $(VENV)/.installed-* $(VENV)/.lab-installed-*
	touch $@

# `make lab` needs the runtime and JupyterLab only, not the test tools (a test install,
# when there is one, has both).
$(LAB_STAMP): pyproject.toml
	$(call install_venv,lab)
	rm -f $(VENV)/.lab-installed-*
	touch $@

# npm packages inside the project, never global: configurable-http-proxy for the JupyterHub
# tests, oidc-provider for the CIBA interop tests (tests/interop).
CHP_VERSION := 5.3.0
OIDC_PROVIDER_VERSION := 9.13.3
NODE := .ci/node
NODE_STAMP := $(NODE)/.installed-chp-$(CHP_VERSION)-op-$(OIDC_PROVIDER_VERSION)

$(NODE_STAMP):
	npm install --prefix $(NODE) --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
		configurable-http-proxy@$(CHP_VERSION) oidc-provider@$(OIDC_PROVIDER_VERSION)
	rm -f $(NODE)/.installed-*
	touch $@

# Jupyter refuses root unless told; containers and CI machines often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# Jupyter options pass through ARGS: `make lab ARGS="--port 9999 --no-browser"`.
lab: $(if $(wildcard $(STAMP)),$(STAMP),$(LAB_STAMP))
	$(BIN)/jupyter lab $(ROOT_FLAG) $(ARGS) notebooks/01-quickstart.ipynb

lint: $(STAMP)
	$(BIN)/ruff check orange_nb tests benchmarks
	$(BIN)/ruff format --check orange_nb tests benchmarks
	$(BIN)/mypy

# The notebooks run in kernels with no Jupyter server: the embedded sandbox approves at
# once and a headless user agent stands in for the browser (the notebooks hold no test code).
NB_ENV := ORANGE_SANDBOX_AUTO_CONSENT=demo BROWSER="$(abspath $(BIN))/python -m orange_nb.sandbox.agent %s"

test: lint $(NODE_STAMP)
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)
	$(NB_ENV) $(BIN)/python -m pytest --nbval-lax notebooks $(PYTEST_ARGS)

# The bench extra (msgspec, polars, matplotlib) on top of the test install.
BENCH_STAMP := $(VENV)/.bench-installed-$(HASH)
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	rm -f $(VENV)/.bench-installed-*
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

fuzz: $(STAMP)
	ORANGE_FUZZ_EXAMPLES=100000 $(BIN)/python -m pytest tests/security -k fuzz

clean:
	rm -rf $(VENV) $(NODE) build dist *.egg-info
