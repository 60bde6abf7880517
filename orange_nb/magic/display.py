"""The DataFrame ``%orange`` shows: its first rows, then a footer. Imports pandas."""

from __future__ import annotations

import html
from typing import Any, ClassVar

import pandas as pd


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
