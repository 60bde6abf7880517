"""Java (java.net.http, HttpURLConnection, jsoup, OkHttp) and Kotlin (OkHttp).

Each Java snippet is a whole ``Main.java``.
"""

from __future__ import annotations

from . import literals as q
from .request import Prepared

_MAIN = ["public class Main {", "    public static void main(String[] args) throws Exception {"]
_END = ["    }", "}"]
_BODY_REQUIRED = ("POST", "PUT", "PATCH")  # OkHttp refuses these without a body


def _imports(*names: str) -> list[str]:
    return [f"import {name};" for name in names] + [""]


def java_httpclient(p: Prepared) -> str:
    """``java.net.http.HttpClient`` (Java 11 and later)."""
    publisher = (
        f"HttpRequest.BodyPublishers.ofString({q.java(p.body)})"
        if p.body is not None
        else "HttpRequest.BodyPublishers.noBody()"
    )
    return "\n".join(
        [
            *_imports(
                "java.net.URI",
                "java.net.http.HttpClient",
                "java.net.http.HttpRequest",
                "java.net.http.HttpResponse",
            ),
            *_MAIN,
            "        HttpClient client = HttpClient.newHttpClient();",
            "        HttpRequest request = HttpRequest.newBuilder()",
            f"                .uri(URI.create({q.java(p.url)}))",
            f"                .method({q.java(p.method)}, {publisher})",
            *(f"                .header({q.java(n)}, {q.java(v)})" for n, v in p.headers),
            "                .build();",
            "        HttpResponse<String> response =",
            "                client.send(request, HttpResponse.BodyHandlers.ofString());",
            "        System.out.println(response.statusCode());",
            "        System.out.println(response.body());",
            *_END,
        ]
    )


def java_httpurlconnection(p: Prepared) -> str:
    """``HttpURLConnection``: in every JDK, no library."""
    lines = [
        *_imports(
            "java.io.InputStream",
            "java.io.OutputStream",
            "java.net.HttpURLConnection",
            "java.net.URI",
            "java.nio.charset.StandardCharsets",
        ),
        *_MAIN,
        "        HttpURLConnection connection =",
        f"                (HttpURLConnection) URI.create({q.java(p.url)}).toURL().openConnection();",
        f"        connection.setRequestMethod({q.java(p.method)});",
        *(
            f"        connection.setRequestProperty({q.java(n)}, {q.java(v)});"
            for n, v in p.headers
        ),
    ]
    if p.body is not None:
        lines += [
            "        connection.setDoOutput(true);",
            "        try (OutputStream output = connection.getOutputStream()) {",
            f"            output.write({q.java(p.body)}.getBytes(StandardCharsets.UTF_8));",
            "        }",
        ]
    lines += [
        "        int status = connection.getResponseCode();",
        "        System.out.println(status);",
        "        InputStream stream =",
        "                status < 400 ? connection.getInputStream() : connection.getErrorStream();",
        "        if (stream != null) {",
        "            System.out.println(new String(stream.readAllBytes(), StandardCharsets.UTF_8));",
        "        }",
        *_END,
    ]
    return "\n".join(lines)


def java_jsoup(p: Prepared) -> str:
    """jsoup's ``Connection``, answers of any type and status accepted."""
    lines = [
        *_imports("org.jsoup.Connection", "org.jsoup.Jsoup"),
        *_MAIN,
        f"        Connection.Response response = Jsoup.connect({q.java(p.url)})",
        f"                .method(Connection.Method.{p.method})",
        *(f"                .header({q.java(n)}, {q.java(v)})" for n, v in p.headers),
    ]
    if p.body is not None:
        lines.append(f"                .requestBody({q.java(p.body)})")
    lines += [
        "                .ignoreContentType(true)",
        "                .ignoreHttpErrors(true)",
        "                .execute();",
        "        System.out.println(response.statusCode());",
        "        System.out.println(response.body());",
        *_END,
    ]
    return "\n".join(lines)


def _okhttp_body(p: Prepared, literal: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The body expression and the headers left (OkHttp sends the body's media type)."""
    if p.body is not None:
        return literal, p.headers_except("Content-Type")
    return None, p.headers


def java_okhttp(p: Prepared) -> str:
    """OkHttp 4 from Java."""
    body, headers = _okhttp_body(p, q.java(p.body or ""))
    lines = [
        *_imports(
            "okhttp3.MediaType",
            "okhttp3.OkHttpClient",
            "okhttp3.Request",
            "okhttp3.RequestBody",
            "okhttp3.Response",
        ),
        *_MAIN,
        "        OkHttpClient client = new OkHttpClient();",
    ]
    if body is not None:
        media = f"MediaType.parse({q.java(p.content_type)})" if p.content_type else "null"
        lines.append(f"        RequestBody body = RequestBody.create({body}, {media});")
    elif p.method in _BODY_REQUIRED:
        lines.append('        RequestBody body = RequestBody.create("", null);')
    else:
        lines.append("        RequestBody body = null;")
    lines += [
        "        Request request = new Request.Builder()",
        f"                .url({q.java(p.url)})",
        f"                .method({q.java(p.method)}, body)",
        *(f"                .addHeader({q.java(n)}, {q.java(v)})" for n, v in headers),
        "                .build();",
        "        try (Response response = client.newCall(request).execute()) {",
        "            System.out.println(response.code());",
        "            System.out.println(response.body().string());",
        "        }",
        *_END,
    ]
    return "\n".join(lines)


def kotlin_okhttp(p: Prepared) -> str:
    """OkHttp 4 from Kotlin."""
    body, headers = _okhttp_body(p, q.kotlin(p.body or ""))
    if body is not None:
        media = f"{q.kotlin(p.content_type)}.toMediaTypeOrNull()" if p.content_type else "null"
        body_line = f"    val body = {body}.toRequestBody({media})"
    elif p.method in _BODY_REQUIRED:
        body_line = '    val body = "".toRequestBody(null)'
    else:
        body_line = "    val body: RequestBody? = null"
    return "\n".join(
        [
            "import okhttp3.MediaType.Companion.toMediaTypeOrNull",
            "import okhttp3.OkHttpClient",
            "import okhttp3.Request",
            "import okhttp3.RequestBody",
            "import okhttp3.RequestBody.Companion.toRequestBody",
            "",
            "fun main() {",
            "    val client = OkHttpClient()",
            body_line,
            "    val request = Request.Builder()",
            f"        .url({q.kotlin(p.url)})",
            f"        .method({q.kotlin(p.method)}, body)",
            *(f"        .addHeader({q.kotlin(n)}, {q.kotlin(v)})" for n, v in headers),
            "        .build()",
            "    client.newCall(request).execute().use { response ->",
            "        println(response.code)",
            "        println(response.body?.string())",
            "    }",
            "}",
        ]
    )
