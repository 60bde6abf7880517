"""C# with ``System.Net.Http.HttpClient``."""

from __future__ import annotations

from . import literals as q
from .request import Prepared


def http_client(p: Prepared) -> str:
    """A whole ``Program.cs``; the Content-Type belongs to the content, not the request."""
    lines = [
        "using System;",
        "using System.Net.Http;",
        "using System.Net.Http.Headers;",
        "using System.Text;",
        "using System.Threading.Tasks;",
        "",
        "class Program",
        "{",
        "    static async Task Main()",
        "    {",
        "        using var client = new HttpClient();",
        "        using var request = new HttpRequestMessage(",
        f"            new HttpMethod({q.csharp(p.method)}), {q.csharp(p.url)});",
        *(
            f"        request.Headers.TryAddWithoutValidation({q.csharp(n)}, {q.csharp(v)});"
            for n, v in p.headers_except("Content-Type")
        ),
    ]
    if p.body is not None:
        lines.append(
            f"        request.Content = new StringContent({q.csharp(p.body)}, Encoding.UTF8);"
        )
        if p.content_type is not None:
            lines.append(
                "        request.Content.Headers.ContentType = "
                f"MediaTypeHeaderValue.Parse({q.csharp(p.content_type)});"
            )
    lines += [
        "        using var response = await client.SendAsync(request);",
        "        Console.WriteLine((int)response.StatusCode);",
        "        Console.WriteLine(await response.Content.ReadAsStringAsync());",
        "    }",
        "}",
    ]
    return "\n".join(lines)
