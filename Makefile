# Two commands for a new user: `make lab` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: lab test lint unit bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,lab]'
	# An editable install leaves out the wheel's shared data: enable the server extension
	# in this environment as a regular install would.
	install -D -m 644 jupyter-config/jupyter_server_config.d/orange_nb.json \
		$(VENV)/etc/jupyter/jupyter_server_config.d/orange_nb.json
	rm -f $(VENV)/.installed-*
	touch $@

# Jupyter refuses root unless told; containers and CI machines often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/01-quickstart.ipynb

lint: $(STAMP)
	$(BIN)/ruff check orange_nb tests benchmarks
	$(BIN)/ruff format --check orange_nb tests benchmarks
	$(BIN)/mypy

# The notebooks run in kernels with no Jupyter server: the embedded sandbox approves at
# once and a headless user agent stands in for the browser (the notebooks hold no test code).
NB_ENV := ORANGE_SANDBOX_AUTO_CONSENT=demo BROWSER="$(abspath $(BIN))/python -m orange_nb.sandbox.agent %s"

test: lint
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)
	$(NB_ENV) $(BIN)/python -m pytest --nbval-lax notebooks $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

fuzz: $(STAMP)
	ORANGE_FUZZ_EXAMPLES=100000 $(BIN)/python -m pytest tests/security -k fuzz

clean:
	rm -rf $(VENV) build dist *.egg-info
