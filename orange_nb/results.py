"""How ``%orange`` results look: a DataFrame showing its first rows and a footer, and the last call."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import pandas as pd

from .calls import Fetched


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
    return " · ".join(parts)


class OrangeFrame(pd.DataFrame):
    """A DataFrame that displays its first ``displaylimit`` rows and a footer.

    Anything derived from it (``df.head()``, ``df[...]``) is a plain DataFrame again.
    """

    _metadata: ClassVar[list[str]] = ["_orange_footer", "_orange_limit"]
    _orange_footer: str
    _orange_limit: int

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _shown(self) -> Any:
        # A plain DataFrame, so pandas renders it with its own options.
        rows = self.head(self._orange_limit) if self._orange_limit > 0 else self
        return pd.DataFrame(rows)

    def _more(self) -> str:
        hidden = len(self) - min(len(self), self._orange_limit)
        return (
            f" · first {self._orange_limit} shown" if self._orange_limit > 0 and hidden > 0 else ""
        )

    def __repr__(self) -> str:
        return f"{self._shown()!r}\n{self._orange_footer}{self._more()}"

    def _repr_html_(self) -> str | None:
        table = str(self._shown()._repr_html_() or "")
        note = html.escape(self._orange_footer + self._more())
        return f'{table}<div class="orange-nb-footer" style="opacity:.7;font-size:90%">{note}</div>'


def framed(frame: pd.DataFrame, fetched: Fetched, displaylimit: int) -> OrangeFrame:
    """``frame`` as an :class:`OrangeFrame` (same data, no copy) with ``fetched``'s footer."""
    out: OrangeFrame = OrangeFrame(frame)  # type: ignore[no-any-return,unused-ignore]
    out._orange_footer = footer(fetched)
    out._orange_limit = displaylimit
    return out


@dataclass
class LastCall:
    """What the last ``%orange`` call did, for inspection as ``_orange_last``.

    Its ``repr`` names the request and outcome only; no header, token or body is shown.
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
        from .oauth.errors import redact_url

        outcome = (
            f"error={type(self.error).__name__}"
            if self.error is not None
            else f"status={self.response.status_code if self.response is not None else None}"
        )
        return (
            f"LastCall({self.method} {redact_url(self.url)}, {outcome}, "
            f"pages={len(self.responses)}, elapsed={self.elapsed:.2f}s)"
        )
