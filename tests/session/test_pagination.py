"""pagination: Link headers, body links and cursors, other hosts refused, offset pages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orange_nb.errors import OrangeNBError
from orange_nb.session.paging import (
    ForeignPageError,
    next_link,
    offset_pages,
    parse_link_header,
    with_param,
)

URL = "https://api.example/v1/zones?zone=a&limit=10"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://api.example/v1/zones?page=2>; rel="next"',
            "https://api.example/v1/zones?page=2",
        ),
        ("<https://api.example/v1/zones?page=2>; rel=next", "https://api.example/v1/zones?page=2"),
        ('<https://api.example/p2>;rel="NEXT"', "https://api.example/p2"),
        # Several links, rel with several values, other params before rel.
        (
            '<https://api.example/p1>; rel="first", <https://api.example/p9>; rel="last", '
            '<https://api.example/p3>; title="page, three; of 9"; rel="prefetch next"',
            "https://api.example/p3",
        ),
        # Commas and semicolons inside <…>.
        ('<https://api.example/z?ids=1,2;3>; rel="next"', "https://api.example/z?ids=1,2;3"),
        # Relative references resolve against the request URL.
        ('</v1/zones?page=2>; rel="next"', "https://api.example/v1/zones?page=2"),
        ('<?page=2>; rel="next"', "https://api.example/v1/zones?page=2"),
        ('<zones/2>; rel="next"', "https://api.example/v1/zones/2"),
        ('<../v2/zones?page=2>; rel="next"', "https://api.example/v2/zones?page=2"),
        # Only the first rel counts; escaped quotes inside a quoted value.
        ('<https://api.example/p2>; rel="prev"; rel="next"', None),
        ('<https://api.example/p2>; title="a \\"q\\" b"; rel=next', "https://api.example/p2"),
        # A malformed link is skipped; the next well-formed one is still read.
        ('garbage, <https://api.example/p2>; rel="next"', "https://api.example/p2"),
        (
            "<https://api.example/p1>; ;; rel, <https://api.example/p2>; rel=next",
            "https://api.example/p2",
        ),
        ('<https://api.example/p2>; rel="prev"', None),
        # Recovery skips a quoted string whole: a link inside it is not a link.
        (
            'junk; t="a, <https://api.example/p9>; rel=next, b", </p2>; rel=next',
            "https://api.example/p2",
        ),
        (
            'junk; t="a \\", <https://api.example/p9>; rel=next, b", </p2>; rel=next',
            "https://api.example/p2",
        ),
        ("", None),
    ],
)
def test_link_header(header: str, expected: str | None) -> None:
    assert next_link({"Link": header}, None, URL) == expected


@pytest.mark.parametrize(
    "header",
    [
        "<https://api.example/p2",
        'https://api.example/p2; rel="next"',
        '<https://api.example/p2>; rel="next',
        '<https://api.example/p2> rel="next"',
        "<https://api.example/p2>; =next",
        '<https://api.example/p2>; rel="next"; title="unterminated',
        ";;;,,,<<>>",
        '<>; rel="next"',
        "<https://api.example/p2>; rel",
        "\x00\xff",
        "<http://[::1>; rel=next",
        "<http://[zz]/p2>; rel=next",
        "<https://api.example:99999/p2>; rel=next",
        "<https://api.example:port/p2>; rel=next",
    ],
)
def test_malformed_link_headers_give_none(header: str) -> None:
    assert next_link({"link": header}, None, URL) is None


def test_link_parameters_are_parsed() -> None:
    assert parse_link_header('<a>; REL="next prev"; rel=x; type=text/html, <b>') == [
        ("a", {"rel": "next prev", "type": "text/html"}),
        ("b", {}),
    ]


def test_repeated_link_headers_in_httpx_headers() -> None:
    headers = httpx.Headers(
        [("Link", '</p1>; rel="first"'), ("link", '</p2>; rel="next"'), ("X", "1")]
    )
    assert next_link(headers, None, URL) == "https://api.example/p2"


def test_the_link_header_wins_over_the_body() -> None:
    headers = {"LINK": '</from-header>; rel="next"'}
    assert next_link(headers, {"next": "/from-body"}, URL) == "https://api.example/from-header"


def test_a_link_header_without_next_falls_back_to_the_body() -> None:
    headers = {"Link": '</p1>; rel="first"'}
    assert next_link(headers, {"next": "/p2"}, URL) == "https://api.example/p2"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"next": "https://api.example/v1/zones?page=2"}, "https://api.example/v1/zones?page=2"),
        ({"next": "/v1/zones?page=2"}, "https://api.example/v1/zones?page=2"),
        ({"next": "?page=2"}, "https://api.example/v1/zones?page=2"),
        ({"next": {"href": "/p2"}}, "https://api.example/p2"),
        ({"links": {"next": "/p2", "self": "/p1"}}, "https://api.example/p2"),
        ({"links": {"next": {"href": "/p2"}}}, "https://api.example/p2"),
        (
            {"links": [{"rel": "self", "href": "/p1"}, {"rel": "next", "href": "/p2"}]},
            "https://api.example/p2",
        ),
        ({"_links": {"next": {"href": "/p2"}}}, "https://api.example/p2"),
        ({"paging": {"next": "https://api.example/p2"}}, "https://api.example/p2"),
        ({"pagination": {"next": "./p2"}}, "https://api.example/v1/p2"),
        # The end: null, empty, absent, or has_more false.
        ({"next": None}, None),
        ({"next": ""}, None),
        ({"links": {"next": None}}, None),
        ({"_links": {"next": {}}}, None),
        ({"items": []}, None),
        ({"next_cursor": "abc", "has_more": False}, None),
        ({"nextCursor": "abc", "hasMore": False}, None),
        ({"next_cursor": ""}, None),
        ({"nextPageToken": None}, None),
        ({"cursor": {"next": None}}, None),
        ({"next_cursor": True}, None),
        # Not a body that can carry a link.
        ([{"next": "/p2"}], None),
        ("next", None),
        (None, None),
    ],
)
def test_body_links(body: Any, expected: str | None) -> None:
    assert next_link({}, body, URL) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"next_cursor": "c2"}, "https://api.example/v1/zones?zone=a&limit=10&cursor=c2"),
        (
            {"nextCursor": "c2", "hasMore": True},
            "https://api.example/v1/zones?zone=a&limit=10&cursor=c2",
        ),
        ({"cursor": {"next": 200}}, "https://api.example/v1/zones?zone=a&limit=10&cursor=200"),
        (
            {"nextPageToken": "t/2="},
            "https://api.example/v1/zones?zone=a&limit=10&pageToken=t%2F2%3D",
        ),
        ({"next_page_token": "t2"}, "https://api.example/v1/zones?zone=a&limit=10&page_token=t2"),
        # A `next` that is not URL-shaped is a cursor.
        (
            {"next": "eyJvIjoxMH0"},
            "https://api.example/v1/zones?zone=a&limit=10&cursor=eyJvIjoxMH0",
        ),
        # A URL comes before a cursor; an empty URL place does not hide a cursor.
        ({"next_cursor": "c2", "links": {"next": "/p2"}}, "https://api.example/p2"),
        (
            {"next": None, "next_cursor": "c2"},
            "https://api.example/v1/zones?zone=a&limit=10&cursor=c2",
        ),
    ],
)
def test_cursors(body: Any, expected: str) -> None:
    assert next_link({}, body, URL) == expected


def test_cursor_param_names_the_parameter() -> None:
    url = "https://api.example/v1/x?after=c1&tag=a&tag=b"
    assert (
        next_link({}, {"next_cursor": "c2"}, url, cursor_param="after")
        == "https://api.example/v1/x?after=c2&tag=a&tag=b"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/p", "https://h/p?cursor=new"),
        ("https://h/p?cursor=old", "https://h/p?cursor=new"),
        # In place, repeats of the parameter removed, other repeats and encodings kept.
        (
            "https://h/p?tag=a&cursor=old&tag=b&cursor=older&q=a%20b+c&flag&t=x:y",
            "https://h/p?tag=a&cursor=new&tag=b&q=a%20b+c&flag&t=x:y",
        ),
        ("https://h/p?cursorx=1&xcursor=2", "https://h/p?cursorx=1&xcursor=2&cursor=new"),
        ("https://h/p?%63ursor=old#frag", "https://h/p?cursor=new"),
    ],
)
def test_with_param_replaces_and_keeps_the_rest(url: str, expected: str) -> None:
    assert with_param(url, "cursor", "new") == expected


@pytest.mark.parametrize(
    "announced",
    [
        "https://elsewhere.example/v1/zones?page=2",
        "http://api.example/v1/zones?page=2",
        "https://api.example:8443/v1/zones?page=2",
        "//elsewhere.example/p2",
        "https://api.example.elsewhere.example/p2",
        "https://user@elsewhere.example/p2",
        "file:///etc/passwd",
    ],
)
def test_another_host_is_refused(announced: str) -> None:
    for headers, body in (({"Link": f"<{announced}>; rel=next"}, None), ({}, {"next": announced})):
        with pytest.raises(ForeignPageError) as caught:
            next_link(headers, body, URL)
        assert isinstance(caught.value, OrangeNBError)
        assert "page=2" not in str(caught.value)
        assert "another host" in str(caught.value)


@pytest.mark.parametrize(
    "announced",
    [
        "https://API.EXAMPLE/v1/zones?page=2",
        "https://api.example:443/v1/zones?page=2",
    ],
)
def test_same_origin_spelled_differently_is_accepted(announced: str) -> None:
    assert next_link({"Link": f"<{announced}>; rel=next"}, None, URL) == announced


def test_a_next_link_to_the_same_page_ends_the_pages() -> None:
    assert next_link({}, {"next": URL}, URL) is None
    assert next_link({}, {"next": URL + "#again"}, URL + "#top") is None


@settings(max_examples=300, deadline=None)
@given(header=st.text(alphabet='<>;,="\\ \tnextrl/:?ab[]@%#.9', max_size=60))
def test_link_parsing_never_raises(header: str) -> None:
    parse_link_header(header)
    try:
        result = next_link({"Link": header}, None, URL)
    except ForeignPageError as refused:  # e.g. `<//ab>`: another host, refused on purpose
        assert not refused.url.startswith("https://api.example/")
    else:
        assert result is None or result.startswith("https://api.example/")


@pytest.mark.parametrize(
    ("first", "total", "limit", "expected"),
    [
        (
            "https://h/z?zone=a",
            25,
            10,
            [
                "https://h/z?zone=a&offset=0&limit=10",
                "https://h/z?zone=a&offset=10&limit=10",
                "https://h/z?zone=a&offset=20&limit=10",
            ],
        ),
        (
            "https://h/z?limit=5&offset=0",
            10,
            5,
            ["https://h/z?limit=5&offset=0", "https://h/z?limit=5&offset=5"],
        ),
        (
            "https://h/z?offset=20",
            40,
            10,
            ["https://h/z?offset=20&limit=10", "https://h/z?offset=30&limit=10"],
        ),
        (
            "https://h/z",
            30,
            10,
            [
                "https://h/z?offset=0&limit=10",
                "https://h/z?offset=10&limit=10",
                "https://h/z?offset=20&limit=10",
            ],
        ),
        ("https://h/z", 0, 10, []),
    ],
)
def test_offset_pages(first: str, total: int, limit: int, expected: list[str]) -> None:
    assert offset_pages(first, total, limit) == expected


def test_offset_pages_custom_names() -> None:
    assert offset_pages("https://h/z?start=0&count=2", 4, 2, "start", "count") == [
        "https://h/z?start=0&count=2",
        "https://h/z?start=2&count=2",
    ]


def test_offset_pages_refuses_a_zero_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        offset_pages("https://h/z", 10, 0)
