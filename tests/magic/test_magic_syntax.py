"""The %orange grammar: commands, METHOD/PATH, items, options, cells and completions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orange_nb.errors import OrangeNBError
from orange_nb.magic.syntax import (
    CallOptions,
    CallSpec,
    Command,
    FormBody,
    JsonBody,
    TextBody,
    UsageError,
    completions,
    parse,
)


def call(line: str, cell: str | None = None, **namespace: object) -> CallSpec:
    result = parse(line, cell, namespace=namespace)
    assert isinstance(result, CallSpec)
    return result


def usage_error(line: str, cell: str | None = None, **namespace: object) -> str:
    with pytest.raises(UsageError) as caught:
        parse(line, cell, namespace=namespace)
    return str(caught.value)


def test_usage_error_is_an_orange_nb_error() -> None:
    assert issubclass(UsageError, OrangeNBError)


# Commands


def test_login_with_every_option() -> None:
    assert parse('login --sandbox --scopes "openid profile" --wait --timeout 30') == Command(
        "login", sandbox=True, scopes="openid profile", wait=True, timeout=30.0
    )


@pytest.mark.parametrize("name", ["status", "logout", "refresh", "login"])
def test_bare_commands(name: str) -> None:
    assert parse(name) == Command(name)  # type: ignore[arg-type]


def test_command_refuses_extra_words_and_options() -> None:
    assert "`%orange status` takes no 'now'" in usage_error("status now")
    assert "`%orange logout` takes no options, got '--sandbox'" in usage_error("logout --sandbox")
    message = usage_error("login --sandbx")
    assert "'--sandbx'" in message and "Did you mean --sandbox?" in message


def test_command_in_a_cell_takes_no_body() -> None:
    assert parse("status", "\n  \n") == Command("status")
    assert "takes no cell body" in usage_error("login", "GET /x")


# METHOD and PATH


def test_method_defaults_to_get() -> None:
    assert call("/sandbox/mobility/v1/zones").method == "GET"


def test_method_is_post_when_there_is_a_body() -> None:
    assert call("/things name=x").method == "POST"
    assert call("/things", '{"a": 1}').method == "POST"
    assert call("/things", "X-A: 1").method == "GET"  # headers alone are no body


def test_method_any_case_and_custom_tokens() -> None:
    assert call("delete /things/1").method == "DELETE"
    assert call("PROPFIND /dav").method == "PROPFIND"
    assert call("GET /x name=1").method == "GET"


def test_a_near_miss_of_a_method_is_an_error() -> None:
    assert "Unknown method 'GETT'. Did you mean GET?" in usage_error("GETT /x")


def test_a_word_that_is_no_path_is_named() -> None:
    message = usage_error("sttus")
    assert "'sttus' is not a path" in message and "Did you mean status?" in message
    assert "'zones' is not a path" in usage_error("GET zones")
    assert "Nothing to request" in usage_error("")
    assert "GET needs a path" in usage_error("GET")


def test_absolute_urls_are_kept() -> None:
    spec = call("https://api.orange.com/x/v1/y?a=1")
    assert (spec.path, spec.query) == ("https://api.orange.com/x/v1/y", (("a", "1"),))


def test_path_query_is_split_decoded_and_joined_before_items() -> None:
    spec = call("/x?a=1&b=%20c+d&flag&a=2 a==3")
    assert spec.path == "/x"
    assert spec.query == (("a", "1"), ("b", " c d"), ("flag", ""), ("a", "2"), ("a", "3"))


def test_path_refuses_fragments_and_spaces() -> None:
    assert "#fragment" in usage_error("/x#top")
    assert "#fragment" in usage_error("'/a b'")


# Items


def test_items_by_separator() -> None:
    spec = call("POST /x q==1 X-A:b name=Ann n:=3 tags:='[1, \"a\"]' ok:=true")
    assert spec.query == (("q", "1"),)
    assert spec.headers == (("X-A", "b"),)
    assert spec.body == JsonBody({"name": "Ann", "n": 3, "tags": [1, "a"], "ok": True})


def test_first_separator_wins_and_longest_at_one_position() -> None:
    spec = call("/x X-A:b=c a=b:c d==e=f")
    assert spec.headers == (("X-A", "b=c"),)
    assert spec.query == (("d", "e=f"),)
    assert spec.body == JsonBody({"a": "b:c"})


def test_backslash_escapes_a_separator_in_the_name() -> None:
    spec = call(r"/x 'a\=b=1' 'c\:d:=2' 'e\\=f'")
    assert spec.body == JsonBody({"a=b": "1", "c:d": 2, "e\\": "f"})


def test_repeated_query_and_header_items_keep_order() -> None:
    spec = call("/x tag==a tag==b X-A:1 X-A:2")
    assert spec.query == (("tag", "a"), ("tag", "b"))
    assert spec.headers == (("X-A", "1"), ("X-A", "2"))


def test_malformed_items_are_named() -> None:
    assert "'nothing' is not a request item" in usage_error("/x nothing")
    message = usage_error("/x tags:=[1,")
    assert "Item 'tags:=[1,' is not valid JSON" in message
    assert "'Bad Header' in 'Bad Header:1' is not a header name" in usage_error("/x 'Bad Header:1'")
    assert "has no name" in usage_error("/x ==1")
    assert "has no field name" in usage_error("/x =1")
    assert "'a' is given twice" in usage_error("/x a=1 a:=2")
    assert "NaN is not JSON" in usage_error("/x a:=NaN")


def test_form_fields() -> None:
    spec = call("POST /x --form a=1 a=2 'b c=d&e'")
    assert spec.body == FormBody((("a", "1"), ("a", "2"), ("b c", "d&e")))
    assert spec.body.encode() == b"a=1&a=2&b+c=d%26e"
    assert "is a JSON field, but --form" in usage_error("/x -f a:=1")


def test_a_content_type_item_names_the_body_type() -> None:
    body = call("/x Content-Type:application/merge-patch+json a=1").body
    assert body == JsonBody({"a": "1"}, "application/merge-patch+json")


# Options


def test_option_defaults() -> None:
    assert call("/x").options == CallOptions()
    assert CallOptions().max_pages == 20


def test_every_request_option() -> None:
    options = call(
        "/x -o df --show --json --records data.items --paginate --max-pages 5 --limit 100 "
        "-q --dry-run --timeout 2.5 --export python-requests"
    ).options
    assert options == CallOptions(
        output="df",
        show=True,
        json=True,
        records="data.items",
        paginate=True,
        max_pages=5,
        limit=100,
        quiet=True,
        dry_run=True,
        timeout=2.5,
        export="python-requests",
    )
    assert call("/x --output=df --raw -v --max-pages=3").options == CallOptions(
        output="df", raw=True, verbose=True, max_pages=3
    )


def test_options_may_stand_anywhere() -> None:
    spec = call("--paginate GET -o df /x a==1 --limit 3")
    assert (spec.method, spec.path, spec.query) == ("GET", "/x", (("a", "1"),))
    assert (spec.options.paginate, spec.options.output, spec.options.limit) == (True, "df", 3)


def test_export_with_and_without_a_language() -> None:
    assert call("/x --export").options.export == ""
    assert call("--export /x").options.export == ""
    assert call("--export GET /x").options.export == ""
    assert call("/x --export Curl").options.export == "curl"
    assert call("/x --export=").options.export == ""
    message = usage_error("/x --export rustt")
    assert "'rustt'" in message and "Did you mean rust?" in message and "python-requests" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/x --paginat", "Unknown option '--paginat' for a request. Did you mean --paginate?"),
        ("/x --bogus", "Unknown option '--bogus'"),
        ("/x -o 1df", "-o needs a Python variable name, got '1df'"),
        ("/x -o class", "got 'class'"),
        ("/x --max-pages 0", "--max-pages needs a whole number of 1 or more, got '0'"),
        ("/x --limit -3", "--limit needs a whole number of 1 or more, got '-3'"),
        ("/x --limit ²", "got '²'"),
        ("/x --timeout nan", "--timeout needs a number of seconds above 0, got 'nan'"),
        ("/x --timeout inf", "got 'inf'"),
        ("/x --records a..b", "--records needs a dotted path such as data.items, got 'a..b'"),
        ("/x --limit", "--limit needs a value: --limit N"),
        ("/x --show=yes", "--show takes no value"),
        ("/x --json --raw", "--json and --raw exclude each other"),
        ("/x -q -v", "-q/--quiet and -v/--verbose exclude each other"),
        ("/x -o {{ name }}", "-o takes no {{ }} expression"),
        ("/x --x{{ name }}", "Options take no {{ }} expression"),
        ("/x 'unclosed", "Cannot split the line into words (No closing quotation)"),
    ],
)
def test_bad_options_are_named(line: str, expected: str) -> None:
    assert expected in usage_error(line, name="n")


# Cells


def test_cell_in_the_documented_layout() -> None:
    spec = call(
        "-o created",
        "\nPOST /some/api/v1/things?dryRun=true\nX-Correlation-Id: {{ run_id }}\n\n"
        '{"name": {{ name }}, "tags": {{ tags }}}\n\n',
        run_id="r-1",
        name="Ann",
        tags=["a", None],
    )
    assert (spec.method, spec.path, spec.query) == (
        "POST",
        "/some/api/v1/things",
        (("dryRun", "true"),),
    )
    assert spec.headers == (("X-Correlation-Id", "r-1"),)
    assert spec.body == JsonBody({"name": "Ann", "tags": ["a", None]})
    assert spec.options.output == "created"


def test_cell_request_line_may_carry_a_protocol_version_items_and_options() -> None:
    spec = call("", "put /x HTTP/1.1")
    assert (spec.method, spec.path) == ("PUT", "/x")
    spec = call("--json", "GET /x a==1 --limit 2")
    assert (spec.query, spec.options.json, spec.options.limit) == ((("a", "1"),), True, 2)


def test_cell_with_path_on_the_magic_line_is_headers_then_body() -> None:
    spec = call("POST /x", "Accept: application/json\n[1, 2]")
    assert spec.headers == (("Accept", "application/json"),)
    assert spec.body == JsonBody([1, 2])
    assert call("POST /x", '{"a": 1}').body == JsonBody({"a": 1})


def test_cell_text_bodies() -> None:
    spec = call("POST /x", "hello $name\n  world  ")
    assert spec.body == TextBody("hello $name\n  world  ")
    spec = call("POST /x", "Content-Type: text/csv\n\n{not json}")
    assert spec.body == TextBody("{not json}", "text/csv")
    assert spec.body.encode() == b"{not json}"


def test_cell_json_by_content_type() -> None:
    spec = call("POST /x", 'Content-Type: application/vnd.api+json\n\n"text"')
    assert spec.body == JsonBody("text", "application/vnd.api+json")
    assert json.loads(spec.body.encode()) == "text"


def test_cell_errors() -> None:
    assert "in a %%orange cell, put METHOD PATH" in usage_error("-o x", "\n\n")
    assert "The cell body is not valid JSON" in usage_error("POST /x", '{"a": }')
    message = usage_error("POST /x a=1", '{"a": 1}')
    assert "body items on the %%orange line and a body in the cell" in message


def test_body_encodings() -> None:
    assert JsonBody({"é": [1, None]}).encode() == '{"é": [1, null]}'.encode()
    assert TextBody("é").encode() == "é".encode()
    assert FormBody((("a b", "é&"),)).encode() == b"a+b=%C3%A9%26"


# Completions


def test_completions() -> None:
    paths = ["/sandbox/mobility/v1/zones", "/sandbox/mobility/v1/presence", "/other"]
    assert completions("%orange ", paths)[:7] == [
        *("login", "status", "logout", "refresh", "use", "keys", "GET")
    ]
    assert completions("%orange st", paths) == ["status"]
    assert completions("%orange po", paths) == ["POST"]
    assert completions("%orange GET /sandbox/mobility/v1/z", paths) == [paths[0]]
    assert completions("%orange /sa", paths) == paths[:2]
    assert completions("%orange GET /x --pag", paths) == ["--paginate"]
    assert completions("%orange GET /x --export py", paths) == [
        "python-requests",
        "python-http.client",
    ]
    assert completions("%orange login --", paths) == [
        "--sandbox",
        "--scopes",
        "--wait",
        "--timeout",
        "--ciba",
        "--message",
    ]
    assert completions("%orange keys --", paths) == ["--out", "--alg"]
    assert completions("%orange status --", paths) == []
    assert completions("%orange GET /x -o ", paths) == []
    assert completions("%orange -o df ", paths)[0] == "login"
    assert completions("%%orange -o df\nPO", paths) == ["POST"]
    assert completions("%orange GET /x a==", paths) == []


def test_importing_the_parser_loads_no_heavy_module() -> None:
    code = (
        "import sys, orange_nb; before = set(sys.modules); "
        "import orange_nb.magic.syntax, orange_nb.magic.export; "
        "print(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] in ('IPython', 'httpx', 'pandas', 'traitlets', 'tornado')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
