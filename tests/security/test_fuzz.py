"""Bad input refused: hypothesis against the parsers and the server extension's handlers.

Only the documented outcomes may come out: ``UsageError`` from the magic parser,
``LoginError`` from the callback URL parser, and from the server (a real Jupyter server
process, over raw HTTP so that nothing is normalised on the way) 4xx answers in their
documented shapes, never a 500. Where input is accepted, an oracle written from the
documentation checks that it should have been, and that what was kept is what was sent.

Each example is one drawn byte string read as a sequence of choices (``Choices``): one
draw is far cheaper than many strategy draws, which matters at thousands of examples.
``ORANGE_FUZZ_EXAMPLES`` sets the examples of the whole file (default 10,500), shared out
so that the parsers get most and the HTTP handlers, at several ms each, fewer.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_harness import TALLY, JupyterServer
from tornado.httputil import parse_qs_bytes

from orange_nb import Orange
from orange_nb.errors import LoginError, UsageError
from orange_nb.handoff.paste import PasteHandoff
from orange_nb.magic.syntax import CallSpec, Command, parse
from orange_nb.oauth.flow import LoginFlow, callback_params

T = TypeVar("T")
TOTAL = int(os.environ.get("ORANGE_FUZZ_EXAMPLES", "10500"))
BYTES = st.binary(min_size=1, max_size=96)


def examples(share: float) -> settings:
    """Settings for a test that takes ``share`` of the file's examples."""
    return settings(
        max_examples=max(1, round(TOTAL * share)),
        deadline=None,
        database=None,  # nothing written into the work tree
        suppress_health_check=list(HealthCheck),
    )


ISSUER = "https://sandbox.orange-nb.invalid/openidconnect/fr/v1"
LANDED = "https://orange-nb.invalid/landed"
MAX_FIELD = 8192  # the server's documented cap per callback value (bytes)
ANSWER_KEYS = ("code", "state", "iss", "error", "error_description")
DISPLAY_CAPS = {"error": 200, "error_description": 1000}

# Letters, separators, quotes, escapes, controls, non-ASCII, a surrogate-free astral char.
ALPHABET = "aZ9_-./:=?&#%+;,{}[]\"' \\$@<>\t\r\n\x00\x7fé€\u2028\ue000😀"
SAFE = "aZ9_-./:=?&#%+;,[]\"' $@<>é€😀"  # what a quoted query value may hold, as is
NASTY = [
    "", " ", "<script>alert(1)</script>", "%", "%zz", "%ff", "&", "=", ";", "+", "#", "?",
    "\x00", "\r\n", "\u2028", "😀", "é", "\\", "'", '"', "{{", "}}", "javascript:",
]  # fmt: skip


class Choices:
    """Reads choices from one drawn byte string (cycling when it runs out)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        value = self.data[self.at % len(self.data)]
        self.at += 1
        return value

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.byte() % len(seq)]

    def one_in(self, n: int) -> bool:
        return self.byte() % n == 0

    def text(self, alphabet: str = ALPHABET, most: int = 16) -> str:
        return "".join(self.pick(alphabet) for _ in range(self.byte() % (most + 1)))

    def value(self, *specials: str) -> str:
        """Text, a nasty classic, an oversized value, or one of ``specials``."""
        kind = self.byte() % 8
        if kind < 3 and specials:
            return self.pick(specials)
        if kind < 5:
            return self.text()
        if kind < 7:
            return self.pick(NASTY)
        return "h" * (MAX_FIELD - 2 + self.byte() * 8)  # around the server's cap

    def query_part(self, key: str, value: str) -> str:
        """``key=value`` percent-encoded, as is, as raw (mostly non-UTF-8) bytes, or bare."""
        how = self.byte() % 5
        if how <= 1:
            return f"{quote(key, safe='')}={quote(value, safe='')}"
        if how == 2:
            return f"{key}={value}"
        if how == 3:
            raw = bytes(self.byte() for _ in range(1 + self.byte() % 5))
            return f"{quote(key, safe='')}={''.join(f'%{b:02X}' for b in raw)}"
        return quote(key, safe="")


# --- 1. the magic parser, from its grammar ---------------------------------------------

NAMESPACE = {"__builtins__": {}, "zone": "a/b", "n": 3, "tags": ["x", None]}
METHODS = ["GET", "get", "Post", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "GETT",
           "G3T", "login", "status", "logout", "refresh"]  # fmt: skip
PATHS = ["/sandbox/mobility/v1/zones", "/z/{zone}", "/z/{nowhere}", "/z/{{ zone }}", "{{ zone }}",
         "https://h.example/x?a=1", "HTTP://H/x", "/a?b=1#frag", "/a b", "relative", "//evil",
         "/p?x=%zz&&=", "/{{ 1/0 }}", "/{{ __import__('os') }}", "/{{", "/é/😀", "/a\x00b"]  # fmt: skip
SEPARATORS = ["==", ":", "=", ":=", "\\=", "\\:"]
ITEM_VALUES = ["[1,2]", '{"a": {{ tags }}}', "{{ n }}", "nul", "{{ zone }}x", "1e999", '"\\ud800"']
OPTIONS = ["-o", "-o df", "--output=df", "--show", "--json", "--raw", "--records items",
           "--paginate", "--max-pages 3", "--max-pages=0", "--max-pages -1", "--limit x",
           "--limit=2", "-q", "-v", "--dry-run", "--timeout nan", "--timeout=inf",
           "--timeout 1e999", "--timeout 2", "--export", "--export curl", "--export=cobol",
           "-f", "--form", "--bogus", "--", "-"]  # fmt: skip
HEADER_LINES = ["Content-Type: application/json", "Content-Type: text/plain", "X-A: {{ n }}",
                "POST /x HTTP/1.1", "GET /y", "not a header", "X-B:", ": v", "X-C: é"]  # fmt: skip
BODIES = ['{"a": 1}', '{"a": {{ tags }}}', "[1, 2", "{{ n }}", "a=b", "\\{{ x }}", "", "😀"]


def magic_request(c: Choices) -> tuple[str, str | None, list[tuple[str, str]] | None]:
    """A line (and maybe a cell), and for a well-formed line the query it must give."""
    if c.one_in(3):  # well formed: GET PATH name==value …, quoted as a shell would
        pairs = [
            (c.pick("abcxyzQ") + c.text("az09_-", 6), c.text(SAFE.replace("\\", ""), 10))
            for _ in range(c.byte() % 4)
        ]
        items = " ".join(shlex.quote(f"{k}=={v}") for k, v in pairs)
        return f"GET /sandbox/x {items}", None, pairs
    words = []
    if c.one_in(2):
        words.append(c.pick(METHODS))
    if c.one_in(2):
        words.append(c.pick(PATHS))
    for _ in range(c.byte() % 6):
        kind = c.byte() % 4
        if kind == 0:
            value = c.pick(ITEM_VALUES) if c.one_in(3) else c.value()
            words.append(c.text(most=6) + c.pick(SEPARATORS) + value)
        elif kind == 1:
            words.append(c.pick(OPTIONS))
        else:
            words.append(c.value())
    cell = None
    if c.one_in(3):
        lines = [c.pick(HEADER_LINES) if c.one_in(2) else f"{c.text()}: {c.text()}"]
        cell = "\n".join(lines * (1 + c.byte() % 2)) + "\n\n" + c.pick(BODIES) + c.text()
    return " ".join(words), cell, None


def _check_call(result: CallSpec) -> None:
    assert re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", result.method)
    assert result.path.startswith("/") or re.match(r"https?://", result.path, re.IGNORECASE)
    assert "#" not in result.path
    for name, value in result.headers:
        assert name and value.isascii() and not re.search(r"[\r\n\x00]", value)


@examples(0.2)
@given(data=BYTES)
def test_fuzz_magic_parser_grammar(data: bytes) -> None:
    TALLY.example("magic parser (grammar)")
    line, cell, pairs = magic_request(Choices(data))
    try:
        result = parse(line, cell, namespace=NAMESPACE)
    except UsageError as exc:
        assert pairs is None, f"a well-formed line was refused: {exc}"
        assert str(exc).strip()
        return
    if isinstance(result, Command):
        assert result.name in ("login", "status", "logout", "refresh")
        return
    _check_call(result)
    if pairs is not None:
        assert (result.method, result.path) == ("GET", "/sandbox/x")
        assert list(result.query) == pairs  # every value exactly, in order


# --- 2. the pasted callback URL (paste handoff) ----------------------------------------

FLOW = LoginFlow(
    "https://auth.example/authorize", "c", ("openid",), redirect_uri=LANDED, issuer=ISSUER
)
SCHEMES = ["https", "HTTPS", "https", "http", "javascript", "ftp", "", "https:", "data"]
HOSTS = ["orange-nb.invalid", "orange-nb.invalid", "ORANGE-NB.INVALID", "orange-nb.invalid:443",
         "orange-nb.invalid:8443", "evil.example", "orange-nb.invalid.evil.example",
         "evil.example@orange-nb.invalid", "orange-nb.invalid@evil.example", "[::1]", "[::1",
         "", "orange-nb.invalid:99999", "orange-nb.invalid:-1"]  # fmt: skip
LANDED_PATHS = ["/landed", "/landed", "/landed/", "/LANDED", "/landed/../landed", "", "/x"]
KEYS = [*ANSWER_KEYS, "state", "state", "code", "code", "x"]
OTHER_VALUES = ("good-code", "https://evil.example", "access_denied", FLOW.state + "x")


def pasted_url(c: Choices) -> str:
    parts = []
    for _ in range(c.byte() % 6):
        key = c.pick(KEYS) if c.byte() % 4 else c.text()
        parts.append(c.query_part(key, c.value(FLOW.state, FLOW.state, ISSUER, *OTHER_VALUES)))
    query = "&".join(parts) + c.pick(["", "", "", "&", "&%ff=%fe", ";state=x", "&state"])
    url = f"{c.pick(SCHEMES)}://{c.pick(HOSTS)}{c.pick(LANDED_PATHS)}"
    url += c.pick(["?", "?", "?", "#", "?#"]) + query
    return c.pick(["", "", " ", "\n"]) + url + c.pick(["", "", " ", "\t"])


@examples(0.34)
@given(data=BYTES)
def test_fuzz_pasted_callback_url(data: bytes) -> None:
    TALLY.example("pasted callback URL")
    url = pasted_url(Choices(data))
    try:
        code = FLOW.code_from(PasteHandoff.callback_from_url(FLOW, url).params)
    except LoginError as exc:
        assert str(exc).strip()
        return
    # Accepted: then it is this login's answer, on this login's redirect URI.
    parts = urlsplit(url.strip())
    assert parts.scheme.lower() == "https" and (parts.hostname or "") == "orange-nb.invalid"
    assert parts.port in (None, 443) and parts.path == "/landed"
    pairs = parse_qsl(parts.query or parts.fragment, keep_blank_values=True)
    assert [v for k, v in pairs if k == "state"] == [FLOW.state]
    assert [v for k, v in pairs if k == "iss"] in ([], [ISSUER])
    assert not [v for k, v in pairs if k == "error" and v]
    assert [v for k, v in pairs if k == "code"] == [code] and code


@examples(0.2)
@given(data=BYTES)
def test_fuzz_callback_params_any_text(data: bytes) -> None:
    TALLY.example("callback_params (any text)")
    c = Choices(data)
    text = pasted_url(c) if c.one_in(2) else c.text(most=60)
    try:
        params = callback_params(text)
    except LoginError as exc:
        assert str(exc).strip()
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())


# --- raw HTTP against the server process -----------------------------------------------


class Raw:
    """One keep-alive HTTP/1.1 connection that sends targets and headers exactly as given."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in range(2):
            try:
                self.conn.request(method, target, body=body, headers=headers)
                reply = self.conn.getresponse()
                data = reply.read()
                return reply.status, {k.lower(): v for k, v in reply.getheaders()}, data
            except (http.client.HTTPException, OSError):
                self.conn.close()  # the server closed a kept-alive connection: once more
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="module")
def raw(sec_server: JupyterServer) -> Iterator[Raw]:
    client = Raw(sec_server.port)
    yield client
    client.close()


class Flows:
    """Registers flows like a kernel (with the key) and keeps one pending for the callback."""

    def __init__(self, raw: Raw, key: str) -> None:
        self.raw, self.key = raw, key
        self.pending: tuple[str, str] = self.register()

    def api(self, method: str, path: str = "", body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, _, reply = self.raw.send(
            method, "/orange/api/flows" + path, {"X-Orange-NB-Key": self.key}, data
        )
        return status, json.loads(reply) if reply else None

    def register(self, authorize: str = "https://auth.example/authorize") -> tuple[str, str]:
        """A new pending flow: (its id, its state)."""
        state = secrets.token_urlsafe(32)
        url = f"{authorize}?client_id=c&{urlencode({'state': state})}"
        status, reply = self.api("POST", body={"state": state, "authorize_url": url})
        assert status == 201, reply
        return reply["id"], state


@pytest.fixture(scope="module")
def flows(raw: Raw, server_key: str) -> Flows:
    return Flows(raw, server_key)


def _html_page(headers: dict[str, str]) -> None:
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"


REDIRECT_KEYS = ["next", "redirect_uri", "url", "return_to", "authorize_url", "state"]


def callback_query(c: Choices, state: str, keys: Sequence[str] = (*KEYS, "")) -> str:
    """A query string for the callback: right and wrong states, repeats, huge and raw bytes."""
    parts = []
    for _ in range(c.byte() % 7):
        key = c.pick(keys) if c.byte() % 4 else c.text()
        value = c.value(state, state, state[:-1], ISSUER, "https://evil.example/", "//evil")
        parts.append(c.query_part(key, value))
    raw = c.pick(["&", "&", ";", "&&"]).join(parts)
    # A request line is ASCII without controls or spaces: a browser encodes the rest (UTF-8).
    return re.sub(r"[^\x21-\x7e]", lambda m: quote(m.group()), raw)


# --- 3. the callback handler -------------------------------------------------------------


def expected_answer(query: str, state: str) -> dict[str, str] | None:
    """What the documentation says the kernel gets for this query, or None (a 400 page)."""
    parsed = parse_qs_bytes(query, keep_blank_values=True)  # how tornado reads the query
    if any(len(v) != 1 for v in parsed.values()):
        return None
    if any(len(v[0]) > MAX_FIELD for v in parsed.values()):
        return None
    try:
        params = {k: v[0].decode("utf-8") for k, v in parsed.items()}
    except UnicodeDecodeError:
        return None
    if params.get("state") != state:
        return None
    return {k: params[k][: DISPLAY_CAPS.get(k)] for k in ANSWER_KEYS if k in params}


@examples(0.1)
@given(data=BYTES)
def test_fuzz_callback_handler_over_http(
    data: bytes, raw: Raw, flows: Flows, sec_server: JupyterServer
) -> None:
    TALLY.example("server callback handler (HTTP)")
    flow_id, state = flows.pending
    query = callback_query(Choices(data), state)
    auth = {"Authorization": f"token {sec_server.token}"}
    status, headers, body = raw.send("GET", "/orange/callback?" + query, auth)
    got = flows.api("GET", f"/{flow_id}?timeout=0")
    if got != (200, {"status": "pending"}):
        flows.pending = flows.register()  # answered (or lost): the next example needs a new one
    expected = expected_answer(query, state)
    assert status == (200 if expected is not None else 400), (status, query[:300])
    _html_page(headers)
    page = body.decode()
    assert "<script>alert" not in page
    shown = " ".join((expected or {}).get(k, "") for k in ("error", "error_description"))
    if state not in shown:
        assert state not in page  # the page never repeats the state (nor the code)
    if expected is None:
        assert got == (200, {"status": "pending"}), got  # a refused answer stores nothing
        return
    callback = f"http://127.0.0.1:{sec_server.port}/orange/callback"
    assert got == (200, {"status": "done", "params": expected, "redirect_uri": callback})


# --- 4. the kernel API ---------------------------------------------------------------------

URLS = ["https://auth.example/authorize", "http://127.0.0.1:1/a", "javascript:alert(1)//",
        "data:text/html,x", "ftp://h/x", "//evil.example/a", "http:///a", "https:evil.example",
        " http://h/a", "http://h/a\n", "http://h/\x00", "http://h/\u2028", "http://[::1/a",
        "http://h:99999/a", "HTTP://H/A", "http://é.example/é", "http://h/a?x=\r\nSet-Cookie:1",
        "file:///etc/passwd", "vbscript:x", "http://h/%0d%0aX:1", "https://h/a b", "http://h\t/a"]  # fmt: skip
JSON_VALUES: list[Any] = [None, True, 0, -1, 1.5, 1e308, "", "x", [], {}, [1, "a"], {"a": None}]


def registration(c: Choices) -> bytes:
    """A POST body: mostly near-valid registrations, else any JSON, bytes or an oversized body."""
    kind = c.byte() % 10
    if kind == 0:
        return json.dumps(c.pick(JSON_VALUES)).encode()
    if kind == 1:
        return bytes(c.byte() for _ in range(c.byte() % 60))
    if kind == 2:
        return json.dumps(
            {"state": "s", "authorize_url": "http://h/?state=s", "x": "y" * 40000}
        ).encode()
    state = c.pick([secrets.token_urlsafe(32), c.value(), c.text()])
    url = c.pick(URLS) if c.byte() % 4 else c.text()
    sep = "&" if "?" in url else "?"
    url += c.pick(
        [f"{sep}{urlencode({'state': state})}", f"{sep}{urlencode({'state': state})}",
         f"{sep}state={state}", f"{sep}state=other", "",
         f"{sep}{urlencode({'state': state})}&{urlencode({'state': state})}"]
    )  # fmt: skip
    body: dict[str, Any] = {"state": state, "authorize_url": url}
    if c.one_in(2):
        body["redirect_uri"] = None if c.one_in(3) else c.pick(URLS)
    if c.one_in(10):
        body[c.pick(["extra", "id", "State"])] = 1
    if c.one_in(10):
        body[c.pick(["state", "authorize_url", "redirect_uri"])] = c.pick(JSON_VALUES)
    if c.one_in(10):
        del body[c.pick(["state", "authorize_url"])]
    return json.dumps(body, ensure_ascii=c.one_in(2)).encode()


def valid_registration(body: bytes) -> dict[str, Any] | None:
    """The documented rules for a registration, written apart from the server's code."""
    if len(body) > 4 * MAX_FIELD:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) - {"state", "authorize_url", "redirect_uri"}:
        return None
    state, url, redirect = data.get("state"), data.get("authorize_url"), data.get("redirect_uri")
    urls = [url] + ([] if redirect is None else [redirect])
    for text in [state, *urls]:
        if not isinstance(text, str) or not text:
            return None
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FIELD:
            return None
    for u in urls:
        # A URL the browser is sent to is printable ASCII (a kernel percent-encodes the
        # rest): a control character cannot go into a Location header.
        if not all("!" <= ch <= "~" for ch in u):
            return None
        try:
            parts = urlsplit(u)
        except ValueError:
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if [v for k, v in query if k == "state"] != [state]:
        return None
    if redirect is None and any(k == "redirect_uri" for k, _ in query):
        return None
    return data


KEY_KINDS = ["right"] * 5 + ["none", "empty", "wrong", "prefix", "suffix", "jupyter"]
TIMEOUTS = ["0", "0.01", "-1", "-inf", "nan", "inf", "1e309", "abc", "", "%ff", "0x10", "%200",
            "0" * 3000, "0&timeout=1"]  # fmt: skip


def key_headers(kind: str, key: str, token: str) -> dict[str, str]:
    return {
        "right": {"X-Orange-NB-Key": key},
        "none": {},
        "empty": {"X-Orange-NB-Key": ""},
        "wrong": {"X-Orange-NB-Key": secrets.token_urlsafe(32)},
        "prefix": {"X-Orange-NB-Key": key[:-1]},
        "suffix": {"X-Orange-NB-Key": key + "A"},
        "jupyter": {"Authorization": f"token {token}"},  # Jupyter's own token is not the key
    }[kind]


@examples(0.12)
@given(data=BYTES)
def test_fuzz_kernel_api_over_http(
    data: bytes, raw: Raw, flows: Flows, server_key: str, sec_server: JupyterServer
) -> None:
    TALLY.example("kernel API (HTTP)")
    c = Choices(data)
    kind = c.pick(KEY_KINDS)
    headers = key_headers(kind, server_key, sec_server.token)
    method = c.pick(["POST", "POST", "GET", "DELETE"])
    body = b""
    if method == "POST":
        body = registration(c)
        status, _, reply = raw.send("POST", "/orange/api/flows", headers, body)
    else:
        known = c.one_in(3)
        flow_id = flows.pending[0] if known else c.text("aZ09_-", 40) or "x"
        timeout = c.pick(TIMEOUTS)
        if known and timeout in ("0.01", "-1", "0"):
            timeout = "0"  # a valid wait on a pending flow hangs (up to 30 s): keep it at 0
        query = "" if not known and c.one_in(3) else "?timeout=" + timeout
        status, _, reply = raw.send(method, f"/orange/api/flows/{flow_id}{query}", headers)
    answer = json.loads(reply) if reply else None

    if kind != "right":
        assert status == 403 and set(answer) == {"message"}, (status, answer)
        if method == "POST" and valid_registration(body) is not None:
            # Nothing was registered: the same registration with the key is new, not a 409.
            again, reply = flows.api("POST", body=json.loads(body))
            assert again == 201, reply
            flows.api("DELETE", f"/{reply['id']}")
        return
    if method == "POST":
        expected = valid_registration(body)
        assert status in (201, 400, 409), (status, answer)
        if status == 201:
            assert expected is not None, f"accepted a registration the rules refuse: {body[:300]!r}"
            assert set(answer) == {"id", "login_path", "expires_in"}
            try:
                check_login_redirect(raw, sec_server, answer["login_path"], expected)
            finally:
                flows.api("DELETE", f"/{answer['id']}")
        else:
            assert set(answer) == {"message"} and answer["message"]
            assert status == 409 or expected is None, f"refused a valid registration: {answer}"
    elif method == "GET":
        assert status in (200, 400, 404), (status, answer)
        if status == 200:
            assert answer == {"status": "pending"}
        elif status == 404:
            assert answer == {"status": "unknown"}
        else:
            assert answer["message"]
    else:
        assert status == 204 and answer is None
        if flow_id == flows.pending[0]:
            flows.pending = flows.register()


def check_login_redirect(raw: Raw, server: JupyterServer, path: str, reg: dict[str, Any]) -> None:
    """The login link of an accepted registration leads to its authorize URL and nowhere else."""
    status, headers, _ = raw.send("GET", path, {"Authorization": f"token {server.token}"})
    assert status == 302, f"login link of {reg['authorize_url'][:200]!r} answered {status}"
    sent = reg["authorize_url"]
    if reg.get("redirect_uri"):
        assert headers["location"] == sent
        return
    callback = f"http://127.0.0.1:{server.port}/orange/callback"
    sep = "&" if urlsplit(sent).query else "?"
    assert headers["location"] == sent + sep + urlencode({"redirect_uri": callback})


# --- 5. the login link ----------------------------------------------------------------------

HOST_HEADERS = ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "localhost",
                "[::1]:{port}", "127.0.0.2:{port}", "evil.example", "evil.example:{port}",
                "127.0.0.1:{port}, evil.example", "127.0.0.1:{port}/evil",
                "127.0.0.1:{port}@evil.example", "localhost:99999", "", "127.0.0.1:{port}:1",
                "[::1", "local host", "127.0.0.1:{port}#@evil.example"]  # fmt: skip


@pytest.fixture(scope="module")
def login_flows(flows: Flows, sec_server: JupyterServer) -> dict[bool, tuple[str, str, str]]:
    """Two pending flows (on the server's own origin, and elsewhere): (id, state, authorize URL)."""
    made = {}
    for loopback in (True, False):
        authorize = (
            f"http://127.0.0.1:{sec_server.port}/orange/sandbox/openidconnect/fr/v1/authorize"
            if loopback
            else "https://auth.example/authorize"
        )
        flow_id, state = flows.register(authorize)
        made[loopback] = (flow_id, state, f"{authorize}?client_id=c&{urlencode({'state': state})}")
    return made


@examples(0.04)
@given(data=BYTES)
def test_fuzz_login_link_over_http(
    data: bytes, raw: Raw, login_flows: dict[bool, tuple[str, str, str]], sec_server: JupyterServer
) -> None:
    TALLY.example("server login link (HTTP)")
    c = Choices(data)
    port = sec_server.port
    loopback = c.one_in(2)  # the mounted sandbox's URL is shown on the browser's own host
    flow_id, state, registered = login_flows[loopback]
    query = callback_query(c, state, REDIRECT_KEYS)
    pick = c.pick(HOST_HEADERS) if c.byte() % 4 else c.text("".join(map(chr, range(0x20, 0x7F))))
    host = pick.replace("{port}", str(port))
    headers = {"Authorization": f"token {sec_server.token}", "Host": host}
    status, reply_headers, _ = raw.send("GET", f"/orange/login/{flow_id}?{query}", headers)
    assert status in (302, 400, 403), (status, host)
    if status != 302:
        return
    origin = f"http://{host}"
    expected = registered.replace(f"http://127.0.0.1:{port}", origin) if loopback else registered
    redirect = urlencode({"redirect_uri": f"{origin}/orange/callback"})
    assert reply_headers["location"] == f"{expected}&{redirect}", (host, query[:200])


# --- the count ---------------------------------------------------------------------------


def test_the_fuzz_run_reaches_the_ci_minimum(request: pytest.FixtureRequest) -> None:
    """At least 10,000 examples in all when the fuzz tests above ran with the default."""
    if len(TALLY.fuzz_examples) < 6 or "ORANGE_FUZZ_EXAMPLES" in os.environ:
        pytest.skip("only meaningful after the whole default fuzz run")
    if request.session.testsfailed:
        pytest.skip("a fuzz test stopped at its first failing example")
    assert sum(TALLY.fuzz_examples.values()) >= 10_000


# --- what the fuzzing found, pinned ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://[::1/landed?code=c&state=s", "https://orange-nb.invalid]/landed?code=c", "A://["],
)
def test_a_pasted_address_that_is_no_url_is_a_login_error(url: str) -> None:
    """Found by ``test_fuzz_pasted_callback_url``: a broken IPv6 literal raised ``ValueError``
    from ``urlsplit`` (in ``PasteHandoff.callback_from_url`` and ``callback_params``), so
    ``orange.complete_login(url)`` failed with an internal error instead of saying what to do."""
    with pytest.raises(LoginError):
        PasteHandoff.callback_from_url(FLOW, url)
    with pytest.raises(LoginError):
        callback_params(url)
    orange = Orange.sandbox(root="http://127.0.0.1:9", redirect_uri=LANDED, handoff="paste")
    orange.begin_login()
    with pytest.raises(LoginError):
        orange.complete_login(url)
