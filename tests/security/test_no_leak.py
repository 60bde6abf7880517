"""Nothing leaked: a whole session in a real kernel of a real Jupyter server at DEBUG, then a scan.

The application is a second sandbox client with a *private* secret (the demo one is
public), given to the server's environment as ``ORANGE_CLIENT_ID``/``ORANGE_CLIENT_SECRET``
the way a real deployment would. The session signs in through the server handoff (the
browser played by httpx, with the sandbox's sign-in and consent forms), calls, pages,
is expired server side, refreshes by force, meets API and token errors, uses ``-v``,
``--dry-run``, ``--export curl``, ``%orange status``, shows reprs, pickles, signs out.

Then the notebook is saved through the contents API with the outputs collected from the
kernel, and the scan looks for the token prefixes, the authorization code, the state, the
PKCE verifier, the nonce, the client secret and the server's kernel key in: the notebook
(as the API returns it and as written on disk), every widget model's state rebuilt from
the comm messages, every iopub message, IPython's ``Out``/``_orange_last`` and its history
database, and everything the server and its kernels wrote to stdout and stderr.
"""

from __future__ import annotations

import json
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from reliability_harness import Browser, Cell, IopubTap, JupyterServer, Kernel, scan

pytestmark = pytest.mark.slow

CLIENT_ID = f"leak-test-{secrets.token_hex(4)}"
CLIENT_SECRET = "private-" + secrets.token_urlsafe(24)
STDERR_MARKER = f"kernel-stderr-{secrets.token_hex(6)}"

SESSION = [
    """
    %load_ext orange_nb
    import logging, os, pickle
    # A person debugging HTTP: orange_nb's and httpx's loggers at DEBUG, on the kernel's stderr.
    handler = logging.StreamHandler()
    for name in ("orange_nb", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(handler)
    from orange_nb import Orange
    """,
    """
    orange = Orange.sandbox(client_id=os.environ["ORANGE_CLIENT_ID"],
                            client_secret=os.environ["ORANGE_CLIENT_SECRET"], open_browser=False)
    orange
    """,
    "%orange login",
    # (the browser signs in here)
    "orange.wait_for_login(60)",
    "%orange GET /sandbox/mobility/v1/zones",
    "%orange GET /sandbox/mobility/v1/zones/zone-01 -v",
    "%orange POST /sandbox/mobility/v1/reports zone_id=zone-01 name=leak --dry-run",
    "%orange GET /sandbox/mobility/v1/zones/zone-02 --export curl",
    "%orange POST /sandbox/echo/v1/anything note=hello -v",
    "%orange refresh",
    # (the server expires every access token here: the next call refreshes and retries)
    "%orange GET /sandbox/mobility/v1/zones/zone-01/presence start==2026-01-01 end==2026-01-02 --paginate -o week",
    "%orange GET /sandbox/mobility/v1/zones/nowhere",
    # (the token endpoint refuses the next refresh)
    "%orange refresh",
    "%orange status",
    "orange, orange.token, _orange_last, orange.keeper",
    "print(repr(_orange_last)); print(repr(Out))",
    "len(pickle.dumps(orange)), pickle.dumps(orange)",
    "orange.logout(); orange",
]
AFTER_LOGIN, AFTER_REFRESH, BEFORE_REFUSED = 3, 10, 12


@pytest.fixture(scope="module")
def leak_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = JupyterServer(
        tmp_path_factory.mktemp("leak-server"),
        log_level="DEBUG",
        env={"ORANGE_CLIENT_ID": CLIENT_ID, "ORANGE_CLIENT_SECRET": CLIENT_SECRET},
    )
    try:
        server.launch()
        server.sandbox(
            "POST",
            "settings",
            {"clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]},
        )
        yield server
    finally:
        server.stop()


def outputs(cell: Cell) -> list[Any]:
    """The cell's outputs as a front-end saves them."""
    kinds = ("stream", "display_data", "execute_result", "error")
    return [nbformat.v4.output_from_msg(m) for m in cell.messages if m["msg_type"] in kinds]


def widget_states(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Every widget model's latest state, rebuilt from comm_open and update messages."""
    models: dict[str, Any] = {}
    for m in messages:
        content = m["content"]
        if m["msg_type"] == "comm_open" and content.get("target_name") == "jupyter.widget":
            state = content["data"]["state"]
            models[content["comm_id"]] = {
                "model_name": state.get("_model_name"),
                "model_module": state.get("_model_module"),
                "model_module_version": state.get("_model_module_version"),
                "state": dict(state),
            }
        elif m["msg_type"] == "comm_msg" and content["comm_id"] in models:
            data = content["data"]
            if data.get("method") == "update":
                models[content["comm_id"]]["state"].update(data.get("state", {}))
    return models


def test_a_whole_session_leaves_no_secret_anywhere(
    leak_server: JupyterServer, tmp_path: Path
) -> None:
    server = leak_server
    kernel: Kernel = server.start_kernels(1)[0]
    tap = IopubTap(kernel.connection_file)
    secrets_file = tmp_path / "needles.json"
    cells: list[Cell] = []
    try:
        for index, source in enumerate(SESSION):
            if index == AFTER_LOGIN:
                # The widget's link, as the person sees it (the login path is no secret).
                found = None
                for _ in range(50):  # the tap's thread may still be reading (bounded)
                    shown = json.dumps([m["content"] for m in cells[-1].messages + tap.messages])
                    found = re.search(r"/orange/login/[A-Za-z0-9_-]+", shown)
                    if found:
                        break
                    time.sleep(0.1)
                assert found, "the widget shows no sign-in link"
                link = found.group(0)
                landing = Browser(server).sign_in(link, username="leaky-user")
                assert landing.page.status_code == 200
            if index == AFTER_REFRESH:
                server.sandbox("POST", "expire-access-tokens", {})
            if index == BEFORE_REFUSED:
                server.sandbox(
                    "POST", "faults", {"match": "token", "status": 400, "error": "invalid_request"}
                )
            cells.append(kernel.run(source, check=False))
            if index == AFTER_LOGIN:
                # Out of band (silent, not in history): the secrets only the kernel holds.
                kernel.run(
                    f"""
                    import json
                    flow = orange.signin.attempt.flow
                    with open({str(secrets_file)!r}, "w") as f:
                        json.dump({{"verifier": flow.code_verifier.reveal(), "nonce": flow.nonce,
                                   "access": orange.token.access_token.reveal(),
                                   "refresh": orange.token.refresh_token.reveal(),
                                   "key": os.environ["ORANGE_NB_SERVER_KEY"]}}, f)
                    os.write(2, {STDERR_MARKER!r}.encode() + b"\\n")
                    """,
                    silent=True,
                    store_history=False,
                )
    finally:
        tap.close()
    secrets_file.chmod(stat.S_IRUSR)

    # What happened is what the session was meant to do.
    failed = [i for i, cell in enumerate(cells) if cell.status != "ok"]
    assert failed == [BEFORE_REFUSED - 1, BEFORE_REFUSED], [cells[i].error for i in failed]
    assert "OrangeAPIError" in cells[BEFORE_REFUSED - 1].error["ename"]  # type: ignore[index]
    assert cells[BEFORE_REFUSED].error["ename"] == "LoginError"  # type: ignore[index]

    # The notebook, saved as a front-end would save it.
    notebook = nbformat.v4.new_notebook()
    for n, cell in enumerate(cells, start=1):
        notebook.cells.append(
            nbformat.v4.new_code_cell(cell.code, execution_count=n, outputs=outputs(cell))
        )
    models = widget_states(tap.messages)
    # The widget went through the session (its last state is after the sign-out).
    assert any("Signed in as leaky-user" in json.dumps(m["content"]) for m in tap.messages)
    assert any("Not signed in" in json.dumps(m) for m in models.values())
    notebook.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "version_major": 2,
            "version_minor": 0,
            "state": models,
        }
    }
    nbformat.validate(notebook)
    with server.http() as http:
        saved = http.put(
            server.url + "api/contents/session.ipynb",
            json={"type": "notebook", "format": "json", "content": notebook},
        )
        assert saved.status_code in (200, 201), saved.text
        served = http.get(server.url + "api/contents/session.ipynb").text
    server.shutdown_kernel(kernel)  # IPython writes its history database on the way out
    history = server.tmp / "ipython" / "profile_default" / "history.sqlite"

    needles = json.loads(secrets_file.read_text())
    assert needles["access"].startswith("sbx_at_") and needles["refresh"].startswith("sbx_rt_")
    wanted = {
        "access token prefix": "sbx_at_",
        "refresh token prefix": "sbx_rt_",
        "authorization code": landing.code or "",
        "state": landing.state,
        "PKCE verifier": needles["verifier"],
        "nonce": needles["nonce"],
        "client secret": CLIENT_SECRET,
        "kernel API key": needles["key"],
    }
    places: dict[str, str | bytes] = {
        "notebook (contents API)": served,
        "notebook (file)": (server.tmp / "root" / "session.ipynb").read_bytes(),
        "widget states": json.dumps(models),
        "iopub messages": json.dumps([m["content"] for m in tap.messages], default=str),
        "IPython Out and _orange_last": cells[15].stdout + json.dumps(outputs(cells[14])),
        "IPython history database": history.read_bytes(),
    }
    # The nonce travels in the authorize URL, in the open (the browser's address bar); here
    # that URL is the sandbox's, served by this very server, whose DEBUG access log shows
    # every query value but code- and state-like ones. Against Orange it never passes here.
    logs = {"server and kernel stdout/stderr (DEBUG)": server.logs()}
    front_channel = {k: v for k, v in wanted.items() if k != "nonce"}
    # The places hold what they should: the scan looks at the real thing.
    assert STDERR_MARKER in server.logs()  # the kernels' stderr is in the server's capture
    assert "orange/callback" in server.logs() and "/orange/api/flows" in server.logs()
    assert b"%orange" in places["IPython history database"]  # type: ignore[operator]
    assert "Out" in cells[15].code and "LastCall(" in cells[15].stdout
    # And a place holding them all is found out (the needles are the right ones).
    control = secrets_file.read_text() + landing.callback_url + CLIENT_SECRET
    assert len(scan({"control": control}, wanted, count=False)) == len(wanted)

    hits = scan(places, wanted) + scan(logs, front_channel)
    assert hits == [], hits  # names of place and secret only: never the secret itself
    assert "authorization: Bearer ***" in cells[5].stdout  # -v showed the header, redacted
    assert "Bearer YOUR_ACCESS_TOKEN" in cells[6].stdout  # --dry-run, a placeholder
