"""Malformed answers and broken URLs in %orange: each fails the cell in one paragraph.

A loopback server answers what no real API should (HTML to ``--json``, JSON nested
thousands of levels deep); the magic runs in a real IPython shell signed in to the sandbox.
The JSON → frame decoder is also checked on any JSON value (hypothesis).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell
from peers import Answer, loopback_api, signed_in_sandbox_session

from orange_nb import Orange, OrangeAPIError, OrangeNBError
from orange_nb.errors import NestingError, RecordsPathError, UsageError
from orange_nb.sandbox import SandboxServer
from orange_nb.session import frames


def _nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def answer(path: str) -> Answer:
    """What the loopback API says for ``path``."""
    if path.startswith("/html"):
        return 200, "text/html; charset=utf-8", b"<html><body>Maintenance</body></html>"
    if path.startswith("/deep/"):  # /deep/<depth>/<obj|list>
        _, _, depth, kind = path.split("/")[:4]
        return 200, "application/json", _nested(int(depth), kind)
    return 404, "application/json", b'{"code": 60, "message": "Resource not found"}'


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with loopback_api(lambda method, path: answer(path)) as server:
        yield server.url


@pytest.fixture
def orange(sandbox: SandboxServer, shell: InteractiveShell, api: str) -> Iterator[Orange]:
    """The shell's current session, signed in to the sandbox; the loopback API may get the token."""
    with signed_in_sandbox_session(sandbox, allowed_hosts=[api]) as session:
        yield session


@pytest.fixture
def run(run_in_shell: Callable[[str], tuple[Any, str]]) -> Callable[[str], tuple[Any, str]]:
    return run_in_shell


Run = Callable[[str], tuple[Any, str]]


def failed_in_one_paragraph(result: Any, out: str, kind: type[BaseException]) -> str:
    assert not result.success
    assert isinstance(result.error_in_exec, kind), repr(result.error_in_exec)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "Traceback" not in out and "orange_nb/" not in out and "site-packages" not in out
    return lines[0]


def test_json_flag_on_an_html_answer_is_an_api_error(orange: Orange, run: Run, api: str) -> None:
    result, out = run(f"%orange GET {api}/html --json")
    line = failed_in_one_paragraph(result, out, OrangeAPIError)
    assert "text/html" in line and "--json" in line


@pytest.mark.parametrize("kind", ["obj", "list"])
@pytest.mark.parametrize("depth", [150, 900, 5000])
def test_deeply_nested_answers_fail_the_cell(
    orange: Orange, run: Run, api: str, depth: int, kind: str
) -> None:
    # At the limit, the answer is shown as it is.
    result, out = run(f"%orange GET {api}/deep/{frames.MAX_DEPTH}/{kind}")
    assert result.success and "Traceback" not in out and "RecursionError" not in out
    # 150 and 900 parse, but IPython's display runs out of stack from a few hundred levels;
    # 5000 is deeper than json itself reads.
    for flags in ("", " --json", " -o deep"):
        result, out = run(f"%orange GET {api}/deep/{depth}/{kind}{flags}")
        failed_in_one_paragraph(result, out, OrangeNBError)


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[::1]]/x",
        "http://exa mple.com/",
        "'http://exa mple.com/'",
        "http://host:99999/",
        "http://host:0/",
        "http://host:8o/",
        "http://:80/",
        "http://1.2.3.999/",
        "{{ typed }}",
    ],
)
def test_broken_urls_are_usage_errors(
    orange: Orange, run: Run, shell: InteractiveShell, url: str
) -> None:
    shell.user_ns["typed"] = "http://[::1"
    result, out = run(f"%orange GET {url}")
    failed_in_one_paragraph(result, out, UsageError)


# --- the JSON answer → frame or JSON decoder, on any JSON value ------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**300)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["2026-01-01", "2026-01-01T10:00:00Z", "0000-01-01", "9999-12-31T23:59"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["a", "b", "a.b", "", "items", "data"]), children, max_size=5
        )
    ),
    max_leaves=40,
)


def _deep(depth: int, leaf: Any, as_list: bool) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


_DEEP = st.builds(_deep, st.integers(min_value=0, max_value=5000), _SCALARS | _JSON, st.booleans())
_ANSWERS = _JSON | _DEEP | st.builds(lambda row: {"items": [row, row]}, _DEEP)


def _decodes(value: Any, records_path: str | None) -> None:
    try:
        result = frames.to_result(value, records_path)
    except (RecordsPathError, NestingError) as exc:
        assert isinstance(exc, OrangeNBError) and str(exc)
        return
    assert isinstance(result, pd.DataFrame) or result is value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ANSWERS, st.sampled_from([None, "", "items", "data.items", "items.0", "a.b"]))
def test_any_json_value_gives_a_frame_json_or_the_documented_error(
    value: Any, records_path: str | None
) -> None:
    _decodes(value, records_path)
    if frames.depth(value, 200) <= 200:  # as an answer brings it: through JSON text
        _decodes(json.loads(json.dumps(value)), records_path)


def test_deep_records_are_a_nesting_error() -> None:
    with pytest.raises(NestingError):
        frames.to_frame([{"x": _deep(5000, 1, as_list=False)}])
