"""How ``%orange`` results look: a DataFrame (pandas or polars) showing its first rows and a
footer, and the last call."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from ..session.calls import Fetched
    from .display import OrangeFrame
    from .display_polars import OrangePolarsFrame


def footer(fetched: Fetched) -> str:
    """``200 OK · 168 rows · 7 pages · 0.41 s``."""
    parts: list[str] = []
    if fetched.responses:
        last = fetched.responses[-1]
        parts.append(f"{last.status_code} {last.reason_phrase}".strip())
    if fetched.rows is not None:
        parts.append(f"{fetched.rows:,} row{'s' if fetched.rows != 1 else ''}")
    if fetched.pages > 1:
        parts.append(f"{fetched.pages} pages")
    parts.append(f"{fetched.elapsed:.2f} s")
    if fetched.truncated:
        parts.append("more pages left (raise --max-pages)")
    elif fetched.more:
        parts.append("more pages: add --paginate")
    return " · ".join(parts)


def framed(frame: Any, fetched: Fetched, displaylimit: int) -> OrangeFrame | OrangePolarsFrame:
    """``frame`` (pandas or polars) as an :class:`OrangeFrame` or :class:`OrangePolarsFrame`:
    the same data, no copy, with ``fetched``'s footer."""
    polars = sys.modules.get("polars")  # a polars frame means polars is loaded already
    if polars is not None and isinstance(frame, polars.DataFrame):
        from .display_polars import OrangePolarsFrame

        return OrangePolarsFrame.of(frame, footer(fetched), displaylimit)
    from .display import OrangeFrame  # pandas loads with the first result, not %load_ext

    out: OrangeFrame = OrangeFrame(frame)  # type: ignore[no-any-return,unused-ignore]
    out._orange_footer = footer(fetched)
    out._orange_limit = displaylimit
    return out


#: Request headers that carry credentials: what the magic strips before a value reaches the
#: person's namespace, where it could be pickled, shown or saved with the notebook.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


def scrub(response: httpx.Response) -> httpx.Response:
    """``response`` (changed in place) with no credential left in the requests it keeps.

    An ``httpx.Response`` keeps its request, whose ``Authorization`` header holds the bearer
    token; pickling the response, or reading ``response.request.headers``, would give it
    away. The redirects it followed (``history``) and the one it did not (``next_request``)
    are scrubbed too.
    """
    for one in (*response.history, response):
        for request in (getattr(one, "_request", None), one.next_request):
            if request is not None:
                for name in CREDENTIAL_HEADERS:
                    request.headers.pop(name, None)
    return response


def scrub_error(error: BaseException) -> BaseException:
    """``error`` (changed in place) with the requests and responses it holds scrubbed."""
    import httpx

    for value in vars(error).values():
        if isinstance(value, httpx.Response):
            scrub(value)
        elif isinstance(value, httpx.Request):
            for name in CREDENTIAL_HEADERS:
                value.headers.pop(name, None)
    return error


@dataclass
class LastCall:
    """What the last ``%orange`` call did, for inspection as ``_orange_last``.

    Its ``repr`` names the request and outcome only; no header, token or body is shown. Its
    responses' requests carry no ``Authorization`` header (see :func:`scrub`), so it pickles
    without the token.
    """

    method: str = ""
    url: str = ""
    responses: list[httpx.Response] = field(default_factory=list)
    elapsed: float = 0.0
    error: BaseException | None = None
    result: Any = None

    @property
    def response(self) -> httpx.Response | None:
        """The last response, if any."""
        return self.responses[-1] if self.responses else None

    def __repr__(self) -> str:
        from ..errors import redact_url

        outcome = (
            f"error={type(self.error).__name__}"
            if self.error is not None
            else f"status={self.response.status_code if self.response is not None else None}"
        )
        return (
            f"LastCall({self.method} {redact_url(self.url)}, {outcome}, "
            f"pages={len(self.responses)}, elapsed={self.elapsed:.2f}s)"
        )
