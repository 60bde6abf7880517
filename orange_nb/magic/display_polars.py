"""The polars DataFrame ``%orange`` shows: its first rows, then a footer. Imports polars.

A module apart from :mod:`.display` so that pandas results never import polars, and the
class stays importable by name (a pickled frame finds it again).
"""

from __future__ import annotations

import html
from typing import Any, ClassVar

import polars as pl


class OrangePolarsFrame(pl.DataFrame):
    """A polars DataFrame that displays its first ``displaylimit`` rows and a footer.

    What polars derives from it (``df.head()``, ``df.filter(...)``) is a plain
    ``polars.DataFrame`` again; one made otherwise (unpickled, say) shows no footer.
    """

    # Class defaults: polars makes instances without ``__init__`` (``cls.__new__``).
    _orange_footer: ClassVar[str] = ""
    _orange_limit: ClassVar[int] = 0

    @classmethod
    def _from_pydf(cls, py_df: Any) -> pl.DataFrame:
        # polars builds every derived frame through this; a footer belongs to one call only.
        return pl.DataFrame._from_pydf(py_df)

    @classmethod
    def of(cls, frame: pl.DataFrame, footer: str, limit: int) -> OrangePolarsFrame:
        """``frame``'s data (shared, not copied) with ``footer``, showing ``limit`` rows."""
        out = cls.__new__(cls)
        out._df = frame._df
        # Instance values shadow the class defaults (ClassVar only for the type checker).
        vars(out).update(_orange_footer=footer, _orange_limit=limit)
        return out

    def _shown(self) -> pl.DataFrame:
        # A plain frame of the rows to show, rendered by polars with every one of them.
        limit = self._orange_limit
        return pl.DataFrame._from_pydf(self._df.head(limit) if limit > 0 else self._df)

    def _rows_config(self) -> pl.Config:
        return pl.Config(tbl_rows=self._orange_limit if self._orange_limit > 0 else -1)

    def _more(self) -> str:
        hidden = self.height - min(self.height, self._orange_limit)
        return (
            f" · first {self._orange_limit} shown" if self._orange_limit > 0 and hidden > 0 else ""
        )

    def __repr__(self) -> str:
        if not self._orange_footer:
            return str(self._df.as_str())
        with self._rows_config():
            table = str(self._shown())
        return f"{table}\n{self._orange_footer}{self._more()}"

    def _repr_html_(self, *, _from_series: bool = False) -> str:
        if not self._orange_footer:
            return super()._repr_html_(_from_series=_from_series)
        with self._rows_config():
            table = self._shown()._repr_html_()
        note = html.escape(self._orange_footer + self._more())
        return f'{table}<div class="orange-nb-footer" style="opacity:.7;font-size:90%">{note}</div>'
