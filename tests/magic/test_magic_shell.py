"""%orange in a real IPython shell against the sandbox: results, options, errors that fail the cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from orange_nb import Orange, OrangeAPIError
from orange_nb.errors import UsageError
from orange_nb.sandbox import SandboxServer

Run = Callable[[str], tuple[Any, str]]
PRESENCE = "/sandbox/mobility/v1/zones/zone-01/presence start==2026-01-01 end==2026-01-07"


def test_three_cells_to_a_dataframe(orange: Orange, run: Run, shell: InteractiveShell) -> None:
    result, _ = run("df = %orange GET /sandbox/mobility/v1/zones")
    assert result.success
    df = shell.user_ns["df"]
    assert isinstance(df, pd.DataFrame) and len(df) >= 10 and "name" in df.columns


def test_paginated_week_is_168_rows_with_footer(
    orange: Orange, run: Run, shell: InteractiveShell
) -> None:
    result, out = run(f"%orange GET {PRESENCE} --paginate -o week")
    assert result.success and result.result is None
    week = shell.user_ns["week"]
    assert len(week) == 168 and str(week["timestamp"].dtype).startswith("datetime64")
    assert "200 OK · 168 rows · 7 pages" in out


def test_the_footer_says_when_more_pages_wait(
    orange: Orange, run: Run, shell: InteractiveShell
) -> None:
    result, out = run(f"%orange GET {PRESENCE} -o first")
    assert result.success and len(shell.user_ns["first"]) < 168
    assert "more pages: add --paginate" in out
    _, out = run(f"%orange GET {PRESENCE} --paginate -o week")
    assert "more pages" not in out
    _, out = run("%orange GET /sandbox/mobility/v1/zones -o zones")
    assert "more pages" not in out


def test_display_shows_displaylimit_rows_and_footer(
    orange: Orange, run: Run, shell: InteractiveShell
) -> None:
    run("%config OrangeMagic.displaylimit = 5")
    try:
        result, _ = run(f"%orange GET {PRESENCE} --paginate")
        frame = result.result
        text = repr(frame)
        assert "168 rows" in text and "first 5 shown" in text
        assert len(frame) == 168  # the data is all there; only the display is short
        assert "orange-nb-footer" in (frame._repr_html_() or "")
        assert type(frame.head()) is pd.DataFrame
    finally:
        run("%config OrangeMagic.displaylimit = 10")


def test_max_pages_warns(
    orange: Orange, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell(f"%orange GET {PRESENCE} --paginate --max-pages 2 -o part")
    assert len(shell.user_ns["part"]) == 48
    assert "stopped after 2 pages" in capsys.readouterr().err


def test_limit_and_show(orange: Orange, run: Run, shell: InteractiveShell) -> None:
    _, out = run(f"%orange GET {PRESENCE} --paginate --limit 30 -o some --show")
    assert len(shell.user_ns["some"]) == 30 and "30 rows" in out


def test_json_and_raw(orange: Orange, run: Run) -> None:
    result, _ = run("%orange GET /sandbox/mobility/v1/zones --json")
    assert isinstance(result.result, dict) and "items" in result.result
    result, _ = run("%orange GET /sandbox/mobility/v1/zones --raw")
    assert isinstance(result.result, httpx.Response) and result.result.status_code == 200


def test_records_path(orange: Orange, run: Run) -> None:
    result, _ = run("%orange GET /sandbox/mobility/v1/zones --records items")
    assert isinstance(result.result, pd.DataFrame)


def test_interpolation_is_encoded_for_where_it_stands(
    orange: Orange, run: Run, shell: InteractiveShell
) -> None:
    shell.user_ns.update(seg="a/b c&é", val='x&y="q"/ü', tags=["a", 'b"c'], n=None)
    result, _ = run(
        "%orange POST /sandbox/echo/v1/{seg} q=={{ val }} X-Tag:{{ n or 'plain' }} --json\n"
    )
    assert result.success, result.error_in_exec
    echo = result.result
    assert echo["path"] == "/sandbox/echo/v1/a%2Fb%20c%26%C3%A9"
    assert ["q", 'x&y="q"/ü'] in echo["query"]
    cell = '%%orange --json\nPOST /sandbox/echo/v1/body\n\n{"tags": {{ tags }}, "n": {{ n }}, "v": {{ val }}}'
    result, _ = run(cell)
    import json

    assert json.loads(result.result["body"]) == {"tags": ["a", 'b"c'], "n": None, "v": 'x&y="q"/ü'}


def test_undefined_name_fails_the_cell_listing_it(orange: Orange, run: Run) -> None:
    result, out = run(
        "%orange GET /sandbox/mobility/v1/zones/{nowhere_zone}/presence start=={{ missing_day }}"
    )
    assert not result.success and isinstance(result.error_in_exec, UsageError)
    assert "nowhere_zone" in out and "missing_day" in out
    assert "Traceback" not in out and "site-packages" not in out


def test_api_error_fails_the_cell_in_one_paragraph(orange: Orange, run: Run) -> None:
    result, out = run("%orange GET /sandbox/mobility/v1/zones/nowhere")
    assert not result.success and isinstance(result.error_in_exec, OrangeAPIError)
    lines = [line for line in out.splitlines() if line.strip()]
    assert (
        len(lines) == 1 and "404" in lines[0] and "code 60" in lines[0] and "Request id" in lines[0]
    )
    run("print(repr(_orange_last))")


def test_usage_error_names_the_bad_part(orange: Orange, run: Run) -> None:
    result, out = run("%orange GET /sandbox/mobility/v1/zones --paginat")
    assert not result.success and "--paginat" in out and "--paginate" in out


def test_dry_run_prints_curl_with_token_redacted(
    orange: Orange, run: Run, sandbox: SandboxServer
) -> None:
    calls = sandbox.sandbox.stats()["api_calls"]
    _, out = run("%orange GET /sandbox/mobility/v1/zones limit==3 --dry-run")
    assert out.startswith("curl") and "YOUR_ACCESS_TOKEN" in out and "limit=3" in out
    assert "sbx_at_" not in out
    assert sandbox.sandbox.stats()["api_calls"] == calls  # nothing was sent


def test_verbose_redacts_authorization(orange: Orange, run: Run) -> None:
    token = orange.token
    assert token is not None
    _, out = run("%orange GET /sandbox/mobility/v1/zones -v -o z")
    assert "authorization: Bearer ***" in out and token.access_token.reveal() not in out


def test_export_prints_code_sends_nothing_and_lists(
    orange: Orange, run: Run, sandbox: SandboxServer, shell: InteractiveShell
) -> None:
    shell.user_ns.pop("z", None)
    calls = sandbox.sandbox.stats()["api_calls"]
    _, out = run("%orange GET /sandbox/mobility/v1/zones --export python-requests -o z")
    assert "import requests" in out and "YOUR_ACCESS_TOKEN" in out and "sbx_at_" not in out
    # Asking for code sends nothing (so stores no result either).
    assert sandbox.sandbox.stats()["api_calls"] == calls and "z" not in shell.user_ns
    _, out = run("%orange GET /sandbox/mobility/v1/zones --export")
    assert "curl" in out and "java-okhttp" in out


def test_status_refresh_logout(orange: Orange, run: Run) -> None:
    _, out = run("%orange status")
    assert out.startswith("Signed in as")
    before = orange.token
    _, out = run("%orange refresh")
    assert orange.token is not before and out.startswith("Signed in")
    _, out = run("%orange logout")
    assert out.startswith("Not signed in") and not orange.logged_in
    result, out = run("%orange GET /sandbox/mobility/v1/zones")
    assert not result.success and "login" in out


def test_last_call_repr_holds_no_secret(orange: Orange, run: Run, shell: InteractiveShell) -> None:
    run("%orange GET /sandbox/mobility/v1/zones -q -o z")
    token = orange.token
    assert token is not None
    text = repr(shell.user_ns["_orange_last"])
    assert "status=200" in text and token.access_token.reveal() not in text


def test_token_not_sent_to_other_hosts(orange: Orange, run: Run) -> None:
    result, out = run("%orange GET http://elsewhere.invalid/x")
    assert not result.success and "allowed_hosts" in out


def test_completion(shell: InteractiveShell) -> None:
    line = "%orange GET /sandbox/mobility/v1/zones --pag"
    _, matches = shell.Completer.complete(line_buffer=line, cursor_pos=len(line))
    assert "--paginate" in matches
    line = "%orange GET /sandbox/mobility/v1/z"
    _, matches = shell.Completer.complete(line_buffer=line, cursor_pos=len(line))
    assert "/sandbox/mobility/v1/zones" in matches


def test_config_magic_sets_current_and_future_sessions(
    shell: InteractiveShell, run: Run, sandbox: SandboxServer
) -> None:
    from orange_nb import current

    plain = Orange()
    run("%config Orange.scopes = 'openid mobility:read'")
    run("%config Orange.leeway = 30.0")
    assert current() is plain and plain.scope_list == ("openid", "mobility:read")
    later = Orange()
    assert later.scope_list == ("openid", "mobility:read") and later.leeway == 30.0
    given = Orange(scopes="profile")
    run("%config Orange.scopes = 'openid'")
    assert given.scope_list == ("profile",)  # a keyword argument wins over %config
    shell.config.Orange.clear()


def test_login_with_new_scopes_signs_in_again(
    orange: Orange, run: Run, sandbox: SandboxServer
) -> None:
    before = orange.token
    run("%orange login --scopes 'openid mobility:read kyc-match:match'")
    assert orange.status == "waiting" and orange.token is before  # a new sign-in has begun
    import httpx

    httpx.get(orange.login_url, follow_redirects=True)
    orange.wait_for_login(10)
    assert orange.token is not None and "kyc-match:match" in orange.token.scopes
    run("%orange login")  # same scopes, signed in: nothing to do
    assert orange.status == "signed_in"


def test_timeout_option_ends_a_slow_call_with_a_clear_error(
    orange: Orange, run: Run, sandbox: SandboxServer
) -> None:
    orange.max_retries = 0
    sandbox.sandbox.add_fault(match="/sandbox/", status=None, latency=2.0, count=1)
    result, out = run("%orange GET /sandbox/mobility/v1/zones --timeout 0.3")
    assert not result.success and "did not answer in time" in out


def test_quiet_prints_no_footer(orange: Orange, run: Run, shell: InteractiveShell) -> None:
    _, loud = run(f"%orange GET {PRESENCE} --paginate -o week")
    _, quiet = run(f"%orange GET {PRESENCE} --paginate -o week -q")
    assert "168 rows" in loud and quiet == ""


def test_three_cells_to_a_plotted_week(
    sandbox: SandboxServer, run: Run, shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    sandbox.sandbox.configure(auto_consent="demo")
    from orange_nb.session import orange as session

    monkeypatch.setattr(session, "_current", None)  # a fresh kernel: no session yet
    monkeypatch.setattr(session, "sandbox_root", lambda: (sandbox.url, False))  # this test's
    shell.user_ns.pop("week", None)
    cells = [
        "%load_ext orange_nb",
        "%orange login --sandbox --wait --timeout 20",
        f"week = %orange GET {PRESENCE} --paginate\nax = week.set_index('timestamp')[['residents', 'tourists']].plot.area()",
    ]
    for cell in cells:
        result, _ = run(cell)
        assert result.success, (cell, result.error_in_exec)
    assert len(shell.user_ns["week"]) == 168 and shell.user_ns["ax"].get_title() is not None
