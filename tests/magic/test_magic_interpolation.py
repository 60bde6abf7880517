"""Values from the person's namespace, each encoded for where it stands in the request."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from orange_nb.errors import UsageError
from orange_nb.magic.interpolate import Interpolator, split_template
from orange_nb.magic.syntax import CallSpec, JsonBody, TextBody, parse

TRICKY = "a/b&c=d ?#é\"'"


def call(line: str, cell: str | None = None, **namespace: object) -> CallSpec:
    result = parse(line, cell, namespace=namespace)
    assert isinstance(result, CallSpec)
    return result


def usage_error(line: str, cell: str | None = None, **namespace: object) -> str:
    with pytest.raises(UsageError) as caught:
        parse(line, cell, namespace=namespace)
    return str(caught.value)


def test_single_braces_in_the_path_are_one_encoded_segment() -> None:
    spec = call("/zones/{zone}/presence", zone=TRICKY)
    assert spec.path == "/zones/a%2Fb%26c%3Dd%20%3F%23%C3%A9%22%27/presence"


def test_double_braces_in_the_path_are_one_encoded_segment() -> None:
    spec = call("/zones/{{ zone.upper() }}/x/{{ n + 1 }}", zone="a/b", n=1)
    assert spec.path == "/zones/A%2FB/x/2"


def test_an_expression_opening_the_path_is_a_whole_url() -> None:
    spec = call("GET {{ next_url }}", next_url="https://h.example/p/a%2Fb?cursor=c%26d&x=1")
    assert spec.path == "https://h.example/p/a%2Fb"
    assert spec.query == (("cursor", "c&d"), ("x", "1"))
    assert "'ftp://x' is not a path" in usage_error("{{ u }}", u="ftp://x")


def test_query_values_stay_raw_for_the_http_client_to_encode() -> None:
    spec = call("/x?in={{ v }} q=={{ v }} {{ name }}==1", v=TRICKY, name="k&")
    assert spec.query == (("in", TRICKY), ("q", TRICKY), ("k&", "1"))


def test_headers_take_text_and_refuse_line_breaks_and_non_ascii() -> None:
    assert call("/x X-Run:{{ n }}", n=7).headers == (("X-Run", "7"),)
    assert "Header X-A would hold a line break" in usage_error("/x X-A:{{ v }}", v="a\r\nB: c")
    assert "Header X-A holds non-ASCII text" in usage_error("/x X-A:{{ v }}", v="é")
    cell_header = usage_error("POST /x", "X-B: {{ v }}\n\n{}", v="a\nb")
    assert "Header X-B would hold a line break" in cell_header


def test_json_body_values_become_json() -> None:
    spec = call(
        "POST /x",
        '{"s": {{ s }}, "l": {{ l }}, "none": {{ none }}, "b": {{ b }}, "in": "<{{ s }}>"}',
        s='it\'s "q" \\ é\n',
        l=[1, "a", None],
        none=None,
        b=True,
    )
    assert spec.body == JsonBody(
        {
            "s": 'it\'s "q" \\ é\n',
            "l": [1, "a", None],
            "none": None,
            "b": True,
            "in": '<it\'s "q" \\ é\n>',
        }
    )


def test_string_state_survives_escaped_quotes() -> None:
    spec = call("POST /x", r'{"a": "x\"y {{ v }}", "b": {{ v }}}', v='"')
    assert spec.body == JsonBody({"a": 'x"y "', "b": '"'})


def test_a_whole_body_from_one_expression() -> None:
    assert call("POST /x", "{{ payload }}", payload={"a": [1]}).body == JsonBody({"a": [1]})


def test_json_field_items_take_json_values() -> None:
    spec = call("POST /x tags:={{ tags }} name={{ tags }}", tags=["a", 1])
    assert spec.body == JsonBody({"tags": ["a", 1], "name": "['a', 1]"})


class ArrayLike:
    def tolist(self) -> list[int]:
        return [1, 2]


def test_json_takes_arrays_and_dates_refuses_nan_and_objects() -> None:
    spec = call(
        "POST /x a:={{ arr }} d:={{ day }}", arr=ArrayLike(), day=dt.datetime(2026, 1, 2, 3, 4)
    )
    assert spec.body == JsonBody({"a": [1, 2], "d": "2026-01-02T03:04:00"})
    assert "gives a float, which JSON cannot hold" in usage_error("/x a:={{ v }}", v=math.nan)
    assert "gives a object, which JSON cannot hold" in usage_error("/x a:={{ v }}", v=object())


def test_text_and_form_bodies() -> None:
    text = call("POST /x", "Content-Type: text/plain\n\nHi {{ who }}!", who='"Ann" & co')
    assert text.body == TextBody('Hi "Ann" & co!', "text/plain")
    form = call(
        "POST /x",
        "Content-Type: application/x-www-form-urlencoded\n\na={{ v }}&b=2",
        v="x&y=z é",
    )
    assert form.body == TextBody("a=x%26y%3Dz+%C3%A9&b=2", "application/x-www-form-urlencoded")


def test_every_undefined_name_is_listed_once() -> None:
    message = usage_error(
        "/zones/{zone}/p start=={{ start }} X-A:{{ zone + other }}",
        "{{ [start for start in range(3)] }}",
    )
    assert message.startswith("Undefined in the request: zone, start, other.")


def test_undefined_checks_comprehension_and_lambda_bindings() -> None:
    spec = call("POST /x a:={{ [i * k for i in range(2)] }} f:={{ (lambda y: y + k)(1) }}", k=3)
    assert spec.body == JsonBody({"a": [0, 3], "f": 4})


def test_failing_expressions_are_usage_errors() -> None:
    assert "`{{ 1 / 0 }}` failed: ZeroDivisionError" in usage_error("/x a=={{ 1 / 0 }}")
    assert "is not a Python expression" in usage_error("/x a=={{ 1 + }}")
    assert "is never closed" in usage_error("/x a=={{ 1")
    assert "single braces take a variable name" in usage_error("/a/{x-y}")
    assert "single braces take a variable name" in usage_error("/a/b}")


def test_spaces_and_quotes_inside_expressions_need_no_shell_quoting() -> None:
    spec = call("/x q=={{ ' '.join(['a b', \"c'd\"]) }} --limit 2")
    assert spec.query == (("q", "a b c'd"),)
    assert spec.options.limit == 2


def test_an_expression_ends_at_the_first_closing_braces_that_parse() -> None:
    assert call("/x a=={{ {'k': {'j': 1}} }}").query == (("a", "{'k': {'j': 1}}"),)
    assert call("/x a=={{ 1 }}}").query == (("a", "1}"),)


def test_dollar_and_single_braces_outside_the_path_are_literal() -> None:
    spec = call("/x q==$HOME X-A:{v} 'b={x}'")
    assert spec.query == (("q", "$HOME"),)
    assert spec.headers == (("X-A", "{v}"),)
    assert spec.body == JsonBody({"b": "{x}"})


def test_escaped_double_braces_are_literal() -> None:
    spec = call("/x 'q==\\{{ v }}'", "")
    assert spec.query == (("q", "{{ v }}"),)
    spec = call("POST /x", '{"tpl": "\\{{ name }}", "v": {{ v }}}', v=1)
    assert spec.body == JsonBody({"tpl": "{{ name }}", "v": 1})


def test_private_use_characters_in_the_line_are_plain_text() -> None:
    assert call("/x q==\ue0000\ue001").query == (("q", "\ue0000\ue001"),)


def test_lone_surrogates_are_refused() -> None:
    assert "not valid Unicode" in usage_error("/x/{{ v }}", v="\ud800")
    assert "not valid Unicode" in usage_error("/x q=={{ v }}", v="\ud800")


def test_a_given_evaluator_is_used() -> None:
    seen: list[str] = []

    def evaluate(source: str) -> object:
        seen.append(source)
        return "from-shell"

    spec = parse("/x q=={{ run_id }}", namespace={"run_id": 1}, evaluate=evaluate)
    assert isinstance(spec, CallSpec)
    assert (spec.query, seen) == ((("q", "from-shell"),), ["run_id"])


def test_builtins_are_defined_unless_the_namespace_replaces_them() -> None:
    assert call("/x q=={{ len('abc') }}").query == (("q", "3"),)
    message = usage_error("/x q=={{ len('abc') }}", __builtins__={})
    assert message.startswith("Undefined in the request: len.")


def test_interpolator_renders_templates_directly() -> None:
    values = Interpolator({"v": "a b"})
    template = split_template("x={{ v }}")
    assert values.render(template, "raw") == "x=a b"
    assert values.render(template, "segment") == "x=a%20b"
    assert values.render(template, "form") == "x=a+b"
    assert values.render_json(split_template('["{{ v }}", {{ v }}]')) == '["a b", "a b"]'
