"""``%orange`` / ``%%orange``: parse, call through the current session, show the result."""

from __future__ import annotations

import json as jsonlib
import sys
import time
import weakref
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Int

from ..errors import OrangeAPIError, UsageError, correlator_of, redact_url, request_id_of
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
    dataframe = Enum(
        ("pandas", "polars"),
        "pandas",
        help="The kind of DataFrame records become: 'pandas' or 'polars' (the polars extra); "
        "--pandas / --polars choose for one call.",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        # The session %orange used last and the one before (for `%orange use -`): a new
        # current session is announced the first time %orange uses it, never silently.
        self._session: Any = None
        self._previous: Any = None
        self._born: weakref.WeakKeyDictionary[Any, int | None] = weakref.WeakKeyDictionary()
        existing = _current_or_none()
        if existing is not None:
            self._born[existing] = None  # made before %load_ext: its cell is unknown

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

    # --- which session ---------------------------------------------------------------------
    def _using(self) -> Any:
        """The current session, announced when it replaced a signed-in one that %orange used.

        That is the surprise (`o = Orange()` after a sign-in: "Not signed in"); a switch to
        another signed-in session was made on purpose, and `%orange status` names it anyway.
        """
        orange = _sessions().current()
        before = self._session
        if (
            before is not None
            and orange is not before
            and before.logged_in
            and not orange.logged_in
        ):
            print(
                f"Note: %orange now uses {self._describe(orange)}, the newest session; "
                f"before, {self._describe(self._session)} (`%orange use -` goes back).",
                file=sys.stderr,  # apart from the result, as the pages-left warning
            )
        self._switch_to(orange)
        return orange

    def _switch_to(self, orange: Any) -> None:
        if orange is not self._session:
            self._previous, self._session = self._session, orange

    def _describe(self, orange: Any) -> str:
        """``orange = <Orange sandbox …>, created in cell 3``: which variable holds it, when made."""
        assert self.shell is not None
        names = [
            name
            for name, value in list(self.shell.user_ns.items())
            if value is orange and not name.startswith("_")
        ]
        held = f"{' = '.join(names[:3])} = " if names else ""
        cell = self._born.get(orange)  # noted after the cell that made it
        made = f", created in cell {cell}" if cell is not None else ""
        return f"{held}{orange!r}{made}"

    def _seen_cell(self, result: Any = None) -> None:
        """After each cell: note the cell that made the sessions %orange may name."""
        for orange in (_current_or_none(), self._session, self._previous):
            if orange is not None and orange not in self._born:
                self._born[orange] = getattr(result, "execution_count", None)

    def _use(self, target: str) -> Any:
        if target == "-":
            chosen = self._previous
            if chosen is None:
                raise UsageError(
                    "`%orange use -` goes back to the session %orange used before, and there "
                    "is none yet. Name a variable instead: `%orange use orange`."
                )
        else:
            assert self.shell is not None
            chosen = self.shell.user_ns.get(target)
            if not isinstance(chosen, _sessions().Orange):
                raise UsageError(
                    f"`{target}` holds no Orange session. Create one (`{target} = Orange(…)` or "
                    f"`{target} = Orange.sandbox()`), then run `%orange use {target}`."
                )
        if self._session is None:  # nothing used yet: "before" is the current session
            self._session = _current_or_none()
        _sessions().use(chosen)
        self._switch_to(chosen)
        print(f"%orange now uses {self._describe(chosen)}.")
        return chosen

    # --- commands ------------------------------------------------------------------------
    def _command(self, command: Command) -> None:
        if command.name == "use":
            self._use(command.target or "")
            return
        if command.name == "keys":
            _new_keys(command)
            return
        orange = self._using()
        if command.name == "login":
            if command.sandbox and orange.preset != "sandbox":
                orange = _sessions().Orange.sandbox()
                self._switch_to(orange)
            if command.scopes is not None:
                orange.scopes = command.scopes
            before = orange.token
            orange.login(
                wait=command.wait,
                timeout=command.timeout,
                ciba=command.ciba,
                binding_message=command.message,
            )
            if command.wait and orange.token is not before and not self._widget_shows(orange):
                print(status_line(orange))  # in a terminal, the widget's line is not there
            return
        if command.name == "logout":
            orange.logout()
        elif command.name == "refresh":
            orange.refresh()
        if command.name == "status":
            print(self._status(orange))
            return
        print(status_line(orange))

    def _widget_shows(self, orange: Any) -> bool:
        """Whether login showed the widget (a kernel displays it), which then says it all."""
        return bool(orange.login_ui) and getattr(self.shell, "kernel", None) is not None

    def _status(self, orange: Any) -> str:
        """The state line, then which session this is and what it sends where."""
        ends = orange.endpoints
        token = orange.token
        rule = orange.redirect_rule()
        if token is None:
            held = "none"
        else:
            left = token.expires_in(time.time())
            when = "no expiry given" if left is None else _expiry(left)
            held = when + (", refreshable" if token.refresh_token is not None else "")
        rows = [
            ("session", self._describe(orange)),
            ("preset", orange.preset),
            ("API", f"{ends.api_url} (the token goes to this host only)"),
            ("client id", orange.client_id or "not set: Orange(client_id=…) or ORANGE_CLIENT_ID"),
            ("signed in as", orange.user or ("(no name given)" if token else "nobody")),
            ("token", held),
        ]
        if rule.handoff:
            rows.append(("redirect URI", f"{rule.uri} ({rule.handoff} handoff)"))
            rows.append(("", rule.note))
        else:
            rows.append(("redirect URI", rule.note))
        width = max(len(name) for name, _ in rows)
        lines = [status_line(orange), *(f"  {name:<{width}}  {value}" for name, value in rows)]
        return "\n".join(lines)

    # --- calls ---------------------------------------------------------------------------
    def _call(self, spec: CallSpec) -> Any:
        opts = spec.options
        orange = self._using()
        body = _body(spec)
        headers = _headers(spec, body.pop("content_type", None))
        url = orange.url_for(spec.path)
        last = LastCall(method=spec.method, url=url)
        assert self.shell is not None
        self.shell.user_ns["_orange_last"] = last
        if opts.export == "" and not opts.dry_run:
            print(export_list())
            return None
        if opts.dry_run or opts.export:
            # Asking for the code sends nothing: a POST shown as code creates nothing. A
            # request the call would refuse (the token to another host) is refused here too.
            request = _build(orange, spec, url, headers, body)
            _check_destination(orange, request)
            request.headers["Authorization"] = _REDACTED
            print(export(ExportRequest.from_request(request), opts.export or "curl"))
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
                frame="polars" if opts.polars else "pandas" if opts.pandas else self.dataframe,
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
        finally:
            for response in fetched.responses:
                scrub(response)
        last.responses, last.elapsed = fetched.responses, fetched.elapsed
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


def _new_keys(command: Command) -> None:
    """``%orange keys new``: a key pair for ``private_key_jwt``; the public JWK set printed."""
    from ..keys import new_key_pair

    pair = new_key_pair(command.out or ".", command.alg or "RS256")
    print(
        f"Private key: {pair.private_path} (yours only). Set `%config Orange.private_key = "
        f"{str(pair.private_path)!r}` and paste this public JWK set into the application's "
        "settings at Orange:"
    )
    print(jsonlib.dumps(pair.jwks, indent=2))


def _check_destination(orange: Any, request: Any) -> None:
    """``TokenSentElsewhere`` when the call would refuse to send the token where ``request`` goes.

    The session's bearer auth holds the one rule (allowed origins); it is asked without
    sending anything, and without taking or refreshing a token.
    """
    from ..oauth.auth import BearerAuth

    auth = orange.client.auth
    if isinstance(auth, BearerAuth):
        auth.check_origin(request)


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
            correlator=correlator_of(response),
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


def _expiry(seconds_left: float) -> str:
    from ..widget.words import clock

    if seconds_left <= 0:
        return "expired"
    at = time.strftime("%H:%M:%S", time.localtime(time.time() + seconds_left))
    return f"expires in {clock(seconds_left)} (at {at})"


def _current_or_none() -> Any:
    """The current session if one exists, creating none; ``None`` before the session module loads."""
    module = sys.modules.get("orange_nb.session.orange")
    return module.current_or_none() if module is not None else None


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
    older = getattr(shell, "_orange_nb_magic", None)
    if older is not None:  # registered again: the newer magic is the one watching cells
        shell.events.unregister("post_run_cell", older._seen_cell)
    shell.events.register("post_run_cell", magic._seen_cell)
    shell._orange_nb_magic = magic
    if magic not in shell.configurables:
        shell.configurables.append(magic)
    shell.set_hook("complete_command", _complete, str_key="%orange")
    shell.set_hook("complete_command", _complete, str_key="%%orange")
    return magic
