"""``%orange`` / ``%%orange``: parse, call through the current session, show the result."""

from __future__ import annotations

import json as jsonlib
import sys
import time
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Int

from ..errors import OrangeAPIError, UsageError, redact_url, request_id_of
from .bodies import encode
from .export import export, export_list
from .export.request import ExportRequest
from .results import LastCall, framed, scrub, scrub_error
from .syntax import USAGE, CallSpec, Command, completions, parse


def _sessions() -> Any:
    """The session module, with the first call: %load_ext does not load httpx."""
    from ..session import orange

    return orange


SANDBOX_PATHS = (
    "/sandbox/mobility/v1/zones",
    "/sandbox/mobility/v1/zones/{zone}",
    "/sandbox/mobility/v1/zones/{zone}/presence",
    "/sandbox/mobility/v1/reports",
    "/sandbox/echo/v1/",
    "/sandbox/kyc-match/v0.3/match",
)
_REDACTED = "Bearer YOUR_ACCESS_TOKEN"


def _body(spec: CallSpec) -> dict[str, Any]:
    """httpx keyword arguments for the request body, with its Content-Type."""
    if spec.body is None:
        return {}
    return {"content": encode(spec.body), "content_type": spec.body.content_type}


def _headers(spec: CallSpec, content_type: str | None) -> list[tuple[str, str]]:
    headers = list(spec.headers)
    if content_type and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", content_type))
    return headers


def _redacted_headers(headers: Any) -> str:
    lines = []
    for name, value in headers.items():
        shown = "Bearer ***" if name.lower() == "authorization" else value
        lines.append(f"  {name}: {shown}")
    return "\n".join(lines)


@magics_class
class OrangeMagic(Magics):
    """The ``%orange`` magic; settings via ``%config OrangeMagic.…``."""

    displaylimit = Int(10, help="Rows shown of a DataFrame result (0: all).").tag(config=True)
    progress = Bool(True, help="Show a progress bar on paginated pulls.").tag(config=True)

    @no_var_expand
    @line_cell_magic
    def orange(self, line: str, cell: str | None = None) -> Any:
        """Call an Orange API; see ``%orange?`` for the syntax."""
        if not line.strip() and not (cell or "").strip():
            print(USAGE)
            return None
        shell = self.shell
        assert shell is not None
        spec = parse(line, cell, namespace=shell.user_ns, evaluate=shell.ev)
        if isinstance(spec, Command):
            return self._command(spec)
        return self._call(spec)

    orange.__doc__ = f"Call an Orange API through the current session.\n\n{USAGE}"

    # --- commands ------------------------------------------------------------------------
    def _command(self, command: Command) -> None:
        if command.name == "login":
            orange = _sessions().current()
            if command.sandbox and orange.preset != "sandbox":
                orange = _sessions().Orange.sandbox()
            if command.scopes is not None:
                orange.scopes = command.scopes
            orange.login(wait=command.wait, timeout=command.timeout)
            return
        orange = _sessions().current()
        if command.name == "logout":
            orange.logout()
        elif command.name == "refresh":
            orange.refresh()
        print(status_line(orange))

    # --- calls ---------------------------------------------------------------------------
    def _call(self, spec: CallSpec) -> Any:
        opts = spec.options
        orange = _sessions().current()
        body = _body(spec)
        headers = _headers(spec, body.pop("content_type", None))
        url = orange.url_for(spec.path)
        last = LastCall(method=spec.method, url=url)
        assert self.shell is not None
        self.shell.user_ns["_orange_last"] = last
        if opts.dry_run:
            request = _build(orange, spec, url, headers, body)
            request.headers["Authorization"] = _REDACTED
            print(export(ExportRequest.from_request(request), opts.export or "curl"))
            return None
        if opts.export == "":
            print(export_list())
            return None
        started = time.perf_counter()
        try:
            fetched = orange.fetch(
                url,
                list(spec.query),
                method=spec.method,
                headers=headers,
                paginate=opts.paginate,
                records=opts.records,
                max_pages=opts.max_pages,
                limit=opts.limit,
                timeout=opts.timeout,
                progress=self.progress and opts.paginate and not opts.quiet,
                on_truncated=None if opts.quiet else _warn_pages_left,
                **body,
            )
        except BaseException as exc:
            last.error = scrub_error(_usage_error(exc, spec) or exc)
            last.elapsed = time.perf_counter() - started
            if last.error is not exc:
                raise last.error from None
            raise
        try:  # what needs the requests as sent, then no credential stays in them
            if opts.verbose:
                for response in fetched.responses:
                    _print_exchange(response)
            exported = (
                export(ExportRequest.from_request(fetched.responses[0].request), opts.export)
                if opts.export
                else None
            )
        finally:
            for response in fetched.responses:
                scrub(response)
        last.responses, last.elapsed = fetched.responses, fetched.elapsed
        if exported is not None:
            print(exported)
        try:
            result = self._result(fetched, opts)
        except Exception as exc:
            last.error = exc
            raise
        last.result = result
        if opts.output:
            self.shell.user_ns[opts.output] = result
            if opts.show:
                from IPython.display import display

                display(result)  # type: ignore[no-untyped-call]
            elif not opts.quiet and fetched.rows is not None:
                from .results import footer

                print(f"{opts.output}: {footer(fetched)}")
            return None
        return result

    def _result(self, fetched: Any, opts: Any) -> Any:
        """What the call gives: the response, its JSON, a frame, or the answer as it came.

        JSON nested deeper than ``frames.MAX_DEPTH`` is refused (``NestingError``): no
        display code shows it without running out of stack.
        """
        from ..session.frames import check_depth

        if opts.raw:
            return fetched.responses[-1]
        if opts.json:
            bodies = [_json_of(response) for response in fetched.responses]
            for body in bodies:
                check_depth(body)
            return bodies[0] if len(bodies) == 1 else bodies
        if fetched.rows is not None:
            return framed(fetched.result, fetched, self.displaylimit)
        if isinstance(fetched.result, dict | list):
            check_depth(fetched.result)
        return fetched.result


def _build(orange: Any, spec: CallSpec, url: str, headers: Any, body: dict[str, Any]) -> Any:
    try:
        return orange.client.build_request(
            spec.method, url, params=list(spec.query), headers=headers, **body
        )
    except BaseException as exc:
        error = _usage_error(exc, spec)
        if error is None:
            raise
        raise error from None


def _usage_error(exc: BaseException, spec: CallSpec) -> UsageError | None:
    """A URL the HTTP client refuses (which the parser's checks let through) as a UsageError."""
    import httpx

    if not isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return None
    return UsageError(
        f"{redact_url(spec.path)!r} cannot be requested ({exc}): check the URL's host and port."
    )


def _json_of(response: Any) -> Any:
    """``--json``: the body as JSON, ``None`` when empty; an answer that is no JSON is an error."""
    if not response.content:
        return None
    try:
        return jsonlib.loads(response.content)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python goes
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "untyped"
        raise OrangeAPIError(
            response.status_code,
            message="Not JSON",
            description=f"--json was asked, but the answer is {kind[:60]} that does not parse",
            request_id=request_id_of(response.headers),
            url=str(response.request.url),
            method=response.request.method,
            advice="Drop --json to get it as it came, or use --raw for the response.",
        ) from None


def _warn_pages_left(max_pages: int) -> None:
    print(
        f"Warning: stopped after {max_pages} pages with more left; raise --max-pages to get "
        "them all.",
        file=sys.stderr,
    )


def _print_exchange(response: Any) -> None:
    request = response.request
    print(f"> {request.method} {redact_url(str(request.url))}")
    print(_redacted_headers(request.headers))
    print(f"< {response.status_code} {response.reason_phrase}")
    print(_redacted_headers(response.headers))


def status_line(orange: Any) -> str:
    """The session's state in one line, as the widget words it."""
    from ..widget.words import Snapshot, view

    return view(Snapshot.of(orange), time.time()).text


def _complete(shell: Any, event: Any) -> list[str]:
    return completions(event.text_until_cursor, SANDBOX_PATHS)


def register(shell: Any) -> OrangeMagic:
    """Register ``%orange`` on ``shell``, its ``%config`` settings and tab completion."""
    magic = OrangeMagic(shell=shell)
    shell.register_magics(magic)
    if magic not in shell.configurables:
        shell.configurables.append(magic)
    shell.set_hook("complete_command", _complete, str_key="%orange")
    shell.set_hook("complete_command", _complete, str_key="%%orange")
    return magic
