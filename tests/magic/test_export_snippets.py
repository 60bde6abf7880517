"""Every language's snippet: valid where a checker is at hand, and the same request everywhere.

Three kinds of evidence:

- string literals: each language's quoter round-trips any text through a decoder written
  here from that language's escape rules;
- meaning: in every snippet, the decoded literals hold the method, URL, each header (name
  then value) and the body, with placeholders instead of secrets;
- running: the Python, shell, PHP, Node.js and Java snippets are run against a local echo
  server, which must receive the same method, path, query, headers and body each time.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from orange_nb.magic.export import LANGUAGES, ExportRequest, export
from orange_nb.magic.export import literals as q

# Requests


@dataclass(frozen=True)
class Case:
    """A request to export, and what a server must receive from its snippet."""

    request: ExportRequest
    target: str
    headers: tuple[tuple[str, str], ...]
    body: str | None

    @property
    def method(self) -> str:
        return self.request.method


TRICKY_JSON = (
    '{"a": "it\'s \\"q\\" $x \\\\ é\\n", "emoji": "😀", "sep": "\u2028", "tpl": "${x} {x} %s #{x}"}'
)
TEXT_BODY = "line one\nline 'two' \"$x\" \\ é\ttab\r\nend $HOME `x` ${y} \\u0041"
NOTE = 'say "hi", it\'s $HOME \\ `x` {y} ${z} %s \\n'
GET_TARGET = (
    "/sandbox/mobility/v1/zones/a%2Fb/presence?start=2026-01-01&tag=x&tag=y&q=a%26b%20%C3%A9"
)


def cases(base: str) -> dict[str, Case]:
    """The four requests, sent to ``base`` (``http://127.0.0.1:PORT`` or any host)."""
    return {
        "get-query": Case(
            ExportRequest(
                "GET",
                base + GET_TARGET,
                [("Accept", "application/json"), ("Authorization", "Bearer sbx_at_get1")],
            ),
            GET_TARGET,
            (("Accept", "application/json"), ("Authorization", "Bearer YOUR_ACCESS_TOKEN")),
            None,
        ),
        "post-json": Case(
            ExportRequest(
                "POST",
                base + "/some/api/v1/things?dryRun=true",
                [
                    ("authorization", "bearer sbx_at_post2"),
                    ("Content-Type", "application/json"),
                    ("X-Correlation-Id", "r-1"),
                ],
                TRICKY_JSON.encode(),
            ),
            "/some/api/v1/things?dryRun=true",
            (
                ("authorization", "Bearer YOUR_ACCESS_TOKEN"),
                ("Content-Type", "application/json"),
                ("X-Correlation-Id", "r-1"),
            ),
            TRICKY_JSON,
        ),
        "delete": Case(
            ExportRequest(
                "DELETE",
                base + "/some/api/v1/things/42",
                [("AUTHORIZATION", "Bearer sbx_at_delete3"), ("Host", "elsewhere.example")],
            ),
            "/some/api/v1/things/42",
            (("AUTHORIZATION", "Bearer YOUR_ACCESS_TOKEN"),),
            None,
        ),
        "put-quoted-header": Case(
            ExportRequest(
                "PUT",
                base + "/notes/1",
                [
                    ("Authorization", "Bearer sbx_at_put4"),
                    ("X-Note", NOTE),
                    ("If-Match", '"etag-1"'),
                    ("Content-Type", "text/plain; charset=utf-8"),
                ],
                TEXT_BODY,
            ),
            "/notes/1",
            (
                ("Authorization", "Bearer YOUR_ACCESS_TOKEN"),
                ("X-Note", NOTE),
                ("If-Match", '"etag-1"'),
                ("Content-Type", "text/plain; charset=utf-8"),
            ),
            TEXT_BODY,
        ),
    }


CASES = list(cases("https://api.orange.com"))


# Decoding each language's string literals


def _c_decode(body: str, language: str) -> str:
    """Decode the inside of a double-quoted literal by ``language``'s escape rules, strictly."""
    simple = {
        "java": {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "s": " "},
        "kotlin": {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "$": "$"},
        "csharp": {
            "0": "\0",
            "a": "\a",
            "b": "\b",
            "f": "\f",
            "n": "\n",
            "r": "\r",
            "t": "\t",
            "v": "\v",
        },
        "rust": {"n": "\n", "r": "\r", "t": "\t", "0": "\0"},
    }[language]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            if (
                language == "kotlin"
                and char == "$"
                and re.match(r"[A-Za-z_{]", body[i + 1 : i + 2])
            ):
                raise AssertionError(f"Kotlin would read a string template at {body[i:]!r}")
            out.append(char)
            i += 1
            continue
        escape = body[i + 1]
        if escape in "\"'\\":
            out.append(escape)
            i += 2
        elif escape in simple:
            out.append(simple[escape])
            i += 2
        elif (
            escape == "u"
            and language != "rust"
            and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6])
        ):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif (
            escape == "u"
            and language == "rust"
            and (m := re.match(r"\{([0-9a-fA-F]{1,6})\}", body[i + 2 :]))
        ):
            out.append(chr(int(m.group(1), 16)))
            i += 2 + m.end()
        else:
            raise AssertionError(f"{language} has no escape \\{escape} (in {body!r})")
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")  # join surrogate pairs


_DOUBLE_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def literals(language: str, snippet: str) -> list[str]:
    """Every string literal of ``snippet``, decoded, in order."""
    if language.startswith("python"):
        nodes = [
            n
            for n in ast.walk(ast.parse(snippet))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]
        return [n.value for n in sorted(nodes, key=lambda n: (n.lineno, n.col_offset))]
    if language == "curl":
        return shlex.split(snippet.replace("\\\n", ""))
    if language == "php":
        return [
            re.sub(r"\\([\\'])", r"\1", m)
            for m in re.findall(r"'((?:[^'\\]|\\.)*)'", snippet, re.DOTALL)
        ]
    bodies = _DOUBLE_QUOTED.findall(snippet)
    if language in ("fetch", "jquery", "xhr", "node-fetch", "node-https"):
        return [json.loads(f'"{body}"') for body in bodies]
    family = {"kotlin": "kotlin", "csharp": "csharp", "rust": "rust"}.get(language, "java")
    return [_c_decode(body, family) for body in bodies]


QUOTERS: dict[str, tuple[Callable[[str], str], str]] = {
    "python": (q.python, "python-requests"),
    "javascript": (q.javascript, "fetch"),
    "shell": (q.shell, "curl"),
    "php": (q.php, "php"),
    "java": (q.java, "java-okhttp"),
    "kotlin": (q.kotlin, "kotlin"),
    "csharp": (q.csharp, "csharp"),
    "rust": (q.rust, "rust"),
}


@pytest.mark.parametrize("quoter", list(QUOTERS))
@settings(max_examples=200, deadline=None, database=None)
@given(text=st.text())
@example(text='$x ${y} #{z} \\ "q" it\'s\n\r\t\0\b\f\v\x7f\u2028 é😀 \\u0041 %s {{')
def test_literals_round_trip_any_text(quoter: str, text: str) -> None:
    quote, language = QUOTERS[quoter]
    literal = quote(text)
    if quoter == "shell":
        assert shlex.split(literal) == [text]
        return
    decoded = literals(language, f"x = {literal};")
    assert decoded == [text]


def test_java_family_literals_are_ascii_and_never_unicode_escape_a_line_break() -> None:
    for quote in (q.java, q.kotlin, q.csharp):
        literal = quote("é😀\n\r\u2028\x01")
        assert literal.isascii()
        assert "\\u000a" not in literal.lower() and "\\u000d" not in literal.lower()


# Meaning: the same request in every language


def _has_method(language: str, snippet: str, strings: list[str], method: str) -> bool:
    if method in strings or re.search(rf"\bMethod(::|\.){method}\b", snippet):
        return True
    return method == "GET" and language in ("curl", "php")  # their default


def _has_header(strings: list[str], name: str, value: str) -> bool:
    if f"{name}: {value}" in strings:  # curl, PHP
        return True
    if name.lower() == "content-type":  # a media type argument in some libraries
        return value in strings
    return any(a == name and b == value for a, b in itertools.pairwise(strings))


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_snippet_carries_the_same_request(language: str, case_name: str) -> None:
    case = cases("https://api.orange.com")[case_name]
    snippet = export(case.request, language)
    strings = literals(language, snippet)
    assert "sbx_at_" not in snippet and "YOUR_ACCESS_TOKEN" in snippet
    assert _has_method(language, snippet, strings, case.method), "method"
    if language == "python-http.client":
        assert "api.orange.com" in strings and case.target in strings
    else:
        assert "https://api.orange.com" + case.target in strings, "URL"
    for name, value in case.headers:
        assert _has_header(strings, name, value), f"header {name}"
    assert "elsewhere.example" not in snippet  # Host is the client's business
    if case.body is not None:
        assert case.body in strings, "body"


# Syntax checkers


def _run(command: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed")
    return path


def test_python_snippets_compile() -> None:
    for language in ("python-requests", "python-http.client"):
        for case in cases("https://api.orange.com").values():
            compile(export(case.request, language), language, "exec")


def test_curl_snippets_pass_bash_syntax_check(tmp_path: Path) -> None:
    for name, case in cases("https://api.orange.com").items():
        script = tmp_path / f"{name}.sh"
        script.write_text(export(case.request, "curl"), encoding="utf-8")
        _run([_need("bash"), "-n", str(script)], tmp_path)


def _blocks(language: str, base: str) -> str:
    """Every case's snippet in one script, each in its own block so names do not clash."""
    return "\n".join(f"{{\n{export(case.request, language)}\n}}" for case in cases(base).values())


def test_browser_javascript_snippets_pass_node_check(tmp_path: Path) -> None:
    """jQuery and XHR need a browser to run; Node checks their syntax (the others run below)."""
    node = _need("node")
    for language in ("jquery", "xhr"):
        source = tmp_path / f"{language}.js"
        source.write_text(_blocks(language, "https://api.orange.com"), encoding="utf-8")
        _run([node, "--check", str(source)], tmp_path)


def test_php_snippets_pass_php_lint(tmp_path: Path) -> None:
    php = _need("php")
    for name, case in cases("https://api.orange.com").items():
        source = tmp_path / f"{name}.php"
        source.write_text(export(case.request, "php"), encoding="utf-8")
        _run([php, "-l", str(source)], tmp_path)


def _compile_cases() -> list[ExportRequest]:
    """The file's cases, and requests taking the other branches of the compiled exporters."""
    return [
        *(case.request for case in cases("https://api.orange.com").values()),
        ExportRequest("PROPFIND", "https://h.example/dav"),  # a method no enum names
        ExportRequest("POST", "https://h.example/empty"),  # OkHttp: an empty body is required
        ExportRequest("PATCH", "https://h.example/raw", (), b"no media type"),
    ]


KOTLIN_STUB = """package okhttp3

class MediaType {
    companion object {
        fun String.toMediaTypeOrNull(): MediaType? = null
    }
}

abstract class RequestBody {
    companion object {
        fun String.toRequestBody(contentType: MediaType? = null): RequestBody = TODO()
    }
}

class OkHttpClient {
    fun newCall(request: Request): Call = TODO()
}

interface Call {
    fun execute(): Response
}

class Request {
    class Builder {
        fun url(url: String): Builder = this
        fun method(method: String, body: RequestBody?): Builder = this
        fun addHeader(name: String, value: String): Builder = this
        fun build(): Request = Request()
    }
}

class Response : java.io.Closeable {
    val code: Int = 0
    val body: ResponseBody? = null
    override fun close() {}
}

abstract class ResponseBody {
    fun string(): String = ""
}
"""


def test_kotlin_snippets_compile_against_an_okhttp_stub(tmp_path: Path) -> None:
    """OkHttp 4's Kotlin API (properties, companion extensions) as a stub, in Kotlin so that
    ``response.code`` and the imports resolve as they do against the real library; one kotlinc
    run for all, each snippet in a package of its own."""
    kotlinc = _need("kotlinc")
    sources = [tmp_path / "okhttp3.kt"]
    sources[0].write_text(KOTLIN_STUB, encoding="utf-8")
    for index, request in enumerate(_compile_cases()):
        sources.append(tmp_path / f"case{index}.kt")
        sources[-1].write_text(f"package p{index}\n{export(request, 'kotlin')}", encoding="utf-8")
    fast = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"  # read by the kotlinc script
    done = subprocess.run(
        [kotlinc, "-nowarn", "-d", str(tmp_path / "classes"), *map(str, sources)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "JAVA_OPTS": fast},
    )
    assert done.returncode == 0, f"kotlinc failed:\n{done.stdout}\n{done.stderr}"


def test_csharp_snippets_compile_against_mono_system_net_http(tmp_path: Path) -> None:
    """Mono's mcs (C# 7.2) against Mono's System.Net.Http, in one run. The snippets'
    ``using var`` declarations are C# 8, which mcs lacks: they become plain ``var`` here, the
    rest is compiled as exported."""
    mcs = _need("mcs")
    if not Path("/usr/lib/mono/4.5/System.Net.Http.dll").exists():
        pytest.skip("Mono's System.Net.Http.dll is not installed")
    sources = []
    for index, request in enumerate(_compile_cases()):
        snippet = re.sub(r"^(\s*)using var ", r"\1var ", export(request, "csharp"), flags=re.M)
        program = snippet.replace("\nclass Program\n", f"\nnamespace P{index} {{\nclass Program\n")
        assert program != snippet, "no class Program"
        sources.append(tmp_path / f"case{index}.cs")
        sources[-1].write_text(program + "\n}\n", encoding="utf-8")
    _run(
        [mcs, "-target:library", "-r:System.Net.Http.dll", "-out:snippets.dll", *map(str, sources)],
        tmp_path,
    )


RUST_STUB = """
#[allow(dead_code)]
mod reqwest {
    pub struct Method;
    impl Method {
        pub const GET: Method = Method;
        pub const POST: Method = Method;
        pub const PUT: Method = Method;
        pub const DELETE: Method = Method;
        pub const HEAD: Method = Method;
        pub const OPTIONS: Method = Method;
        pub const CONNECT: Method = Method;
        pub const PATCH: Method = Method;
        pub const TRACE: Method = Method;
        pub fn from_bytes(_: &[u8]) -> Result<Method, std::fmt::Error> { Ok(Method) }
    }
    pub mod blocking {
        pub struct Client;
        pub struct RequestBuilder;
        pub struct Response;
        impl Client {
            pub fn new() -> Client { Client }
            pub fn request(&self, _: super::Method, _: &str) -> RequestBuilder { RequestBuilder }
        }
        impl RequestBuilder {
            pub fn header(self, _: &str, _: &str) -> RequestBuilder { self }
            pub fn body(self, _: &'static str) -> RequestBuilder { self }
            pub fn send(self) -> Result<Response, std::io::Error> { Ok(Response) }
        }
        impl Response {
            pub fn status(&self) -> u16 { 200 }
            pub fn text(self) -> Result<String, std::io::Error> { Ok(String::new()) }
        }
    }
}
fn main() {}
"""


def test_rust_snippets_compile_against_a_reqwest_stub(tmp_path: Path) -> None:
    """The reqwest crate cannot be fetched here; a stub of the calls used stands in for it."""
    rustc = _need("rustc")
    modules = [
        f"#[allow(dead_code)]\nmod case{index} {{\nuse crate::reqwest;\n{export(case.request, 'rust')}\n}}"
        for index, case in enumerate(cases("https://api.orange.com").values())
    ]
    modules.append(
        "#[allow(dead_code)]\nmod custom {\nuse crate::reqwest;\n"
        + export(ExportRequest("PROPFIND", "https://h.example/dav"), "rust")
        + "\n}"
    )
    source = tmp_path / "snippets.rs"
    source.write_text(RUST_STUB + "\n".join(modules), encoding="utf-8")
    _run(
        [rustc, "--edition", "2021", "--emit=metadata", "-o", str(tmp_path / "out"), str(source)],
        tmp_path,
        120,
    )


JAVA_STUBS = {
    "org/jsoup/Jsoup.java": """package org.jsoup;
public class Jsoup { public static Connection connect(String url) { return null; } }""",
    "org/jsoup/Connection.java": """package org.jsoup;
public interface Connection {
    enum Method { GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, TRACE }
    Connection method(Method method);
    Connection header(String name, String value);
    Connection requestBody(String body);
    Connection ignoreContentType(boolean ignore);
    Connection ignoreHttpErrors(boolean ignore);
    Response execute() throws java.io.IOException;
    interface Response { int statusCode(); String body(); }
}""",
    "okhttp3/MediaType.java": """package okhttp3;
public final class MediaType { public static MediaType parse(String value) { return null; } }""",
    "okhttp3/RequestBody.java": """package okhttp3;
public abstract class RequestBody {
    public static RequestBody create(String content, MediaType type) { return null; }
}""",
    "okhttp3/OkHttpClient.java": """package okhttp3;
public class OkHttpClient { public Call newCall(Request request) { return null; } }""",
    "okhttp3/Call.java": """package okhttp3;
public interface Call { Response execute() throws java.io.IOException; }""",
    "okhttp3/Request.java": """package okhttp3;
public final class Request {
    public static class Builder {
        public Builder url(String url) { return this; }
        public Builder method(String method, RequestBody body) { return this; }
        public Builder addHeader(String name, String value) { return this; }
        public Request build() { return null; }
    }
}""",
    "okhttp3/Response.java": """package okhttp3;
public final class Response implements java.io.Closeable {
    public int code() { return 0; }
    public ResponseBody body() { return null; }
    public void close() {}
}""",
    "okhttp3/ResponseBody.java": """package okhttp3;
public abstract class ResponseBody { public String string() throws java.io.IOException { return ""; } }""",
    "Runner.java": """public class Runner {
    public static void main(String[] names) throws Exception {
        for (String name : names) {
            Class.forName(name).getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        }
        System.exit(0);
    }
}""",
}
JAVA_LANGUAGES = ("java-httpclient", "java-httpurlconnection", "java-jsoup", "java-okhttp")
JAVA_RUNNABLE = ("java-httpclient", "java-httpurlconnection")  # in the JDK: run for real


def _java_sources(base: str, root: Path) -> dict[tuple[str, str], str]:
    """Write every Java snippet as ``pN/Main.java`` (a package each); return their class names."""
    names = {}
    for language in JAVA_LANGUAGES:
        for case_name, case in cases(base).items():
            package = f"p{len(names)}"
            source = root / package / "Main.java"
            source.parent.mkdir(parents=True)
            source.write_text(
                f"package {package};\n{export(case.request, language)}", encoding="utf-8"
            )
            names[language, case_name] = f"{package}.Main"
    for path, text in JAVA_STUBS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return names


# Running snippets against a local echo server


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.received: list[Received] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def take(self) -> list[Received]:
        with self.lock:
            taken, self.received = self.received, []
        return taken


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EchoServer

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return body
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self) -> None:
        received = Received(self.command, self.path, list(self.headers.items()), self._read_body())
        with self.server.lock:
            self.server.received.append(received)
        payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def assert_received(received: Received, case: Case, who: str) -> None:
    assert received.method == case.method, who
    assert received.target == case.target, who
    for name, value in case.headers:
        sent = [v for n, v in received.headers if n.lower() == name.lower()]
        assert sent == [value], f"{who}: header {name}"
    assert received.body == (case.body or "").encode("utf-8"), who


def _python(base: str, root: Path, language: str) -> str:
    """Run in this process: the snippets use only what this interpreter has."""
    if language == "python-requests":
        pytest.importorskip("requests", reason="the requests package is not installed")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for case in cases(base).values():
            exec(compile(export(case.request, language), language, "exec"), {})
    return output.getvalue()


def _curl(base: str, root: Path, language: str) -> str:
    _need("curl")
    (root / "all.sh").write_text("\n".join(export(c.request, "curl") for c in cases(base).values()))
    return _run([_need("bash"), "all.sh"], root).stdout


def _node_script(base: str, root: Path, language: str) -> str:
    extension = "cjs" if language == "node-https" else "js"
    (root / f"all.{extension}").write_text(_blocks(language, base), encoding="utf-8")
    return _run([_need("node"), f"all.{extension}"], root).stdout


def _node_modules(base: str, root: Path, language: str) -> str:
    """ES modules, one per case, imported in turn; node-fetch cannot be installed here, so a
    stand-in package hands out Node's own fetch."""
    package = root / "node_modules" / "node-fetch"
    package.mkdir(parents=True)
    (package / "package.json").write_text(
        '{"name": "node-fetch", "type": "module", "exports": "./index.js"}'
    )
    (package / "index.js").write_text("export default globalThis.fetch;\n")
    for name, case in cases(base).items():
        (root / f"{name}.mjs").write_text(export(case.request, language), encoding="utf-8")
    (root / "all.mjs").write_text("".join(f'import "./{name}.mjs";\n' for name in cases(base)))
    return _run([_need("node"), "all.mjs"], root).stdout


def _php(base: str, root: Path, language: str) -> str:
    php = _need("php")
    modules = subprocess.run([php, "-m"], capture_output=True, text=True).stdout.split()
    if "curl" not in modules:
        pytest.skip("PHP's curl extension is not installed")
    for name, case in cases(base).items():
        (root / f"{name}.php").write_text(export(case.request, language), encoding="utf-8")
    return "".join(_run([php, f"{name}.php"], root).stdout for name in cases(base))


RUNNERS: dict[str, Callable[[str, Path, str], str]] = {
    "php": _php,
    "python-requests": _python,
    "python-http.client": _python,
    "curl": _curl,
    "fetch": _node_script,
    "node-fetch": _node_modules,
    "node-https": _node_script,
}


def assert_all_received(received: list[Received], base: str, who: str) -> None:
    """Each case's request arrived once (in any order: some scripts send them at once)."""
    by_request = {(r.method, r.target): r for r in received}
    assert len(received) == len(by_request) == len(cases(base)), who
    for name, case in cases(base).items():
        assert_received(by_request[case.method, case.target], case, f"{who} {name}")


@pytest.mark.parametrize("language", list(RUNNERS))
def test_snippets_send_the_same_request(language: str, echo: EchoServer, tmp_path: Path) -> None:
    echo.take()
    stdout = RUNNERS[language](echo.url, tmp_path, language)
    assert stdout.count('{"ok": true}') == len(CASES), f"{language}: {stdout}"
    assert_all_received(echo.take(), echo.url, language)


def test_java_snippets_compile_and_the_jdk_ones_send_the_same_request(
    echo: EchoServer, tmp_path: Path
) -> None:
    """One javac run for all (jsoup and OkHttp against stubs), one JVM running the JDK-only
    ones in turn, so the server sees their requests in order."""
    javac, java = _need("javac"), _need("java")
    names = _java_sources(echo.url, tmp_path / "src")
    sources = [str(p) for p in (tmp_path / "src").rglob("*.java")]
    fast = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]  # short runs: quick JIT, small GC
    javac_options = [f"-J{option}" for option in fast] + ["-encoding", "UTF-8"]
    _run([javac, *javac_options, "-d", str(tmp_path / "classes"), *sources], tmp_path, 180)
    runnable = [(language, name) for language in JAVA_RUNNABLE for name in cases(echo.url)]
    echo.take()
    classes = [names[key] for key in runnable]
    done = _run([java, *fast, "-cp", str(tmp_path / "classes"), "Runner", *classes], tmp_path, 120)
    assert done.stdout.count('{"ok": true}') == len(runnable), done.stdout
    received = echo.take()
    assert len(received) == len(runnable)
    for (language, name), got in zip(runnable, received, strict=True):
        assert_received(got, cases(echo.url)[name], f"{language} {name}")
