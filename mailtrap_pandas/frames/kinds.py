"""The kinds of frame handed back: pandas (the default), polars, or a bare ``pyarrow.Table``.

Everything inside the package is pandas over Arrow; this module is the one place that turns
a result into the caller's kind. polars is optional and imported only when asked for.

Polars dtypes follow the type table: text ``String``, integer ``Int64``, float ``Float64``,
boolean ``Boolean``, date ``Date``, list ids ``List(Int64)``, timestamps
``Datetime("ms", "UTC")`` and ``status`` an ``Enum(["subscribed", "unsubscribed"])``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal, TypeAlias

import pandas as pd
import pyarrow as pa

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.dtypes import STATUS_DTYPE

__all__ = ["FRAMES", "Frame", "arrow_to_polars", "check_frame", "import_polars", "to_polars"]

Frame: TypeAlias = Literal["pandas", "polars", "arrow"]
FRAMES: tuple[Frame, ...] = ("pandas", "polars", "arrow")


def check_frame(frame: object) -> None:
    """Refuse an unknown ``frame=`` before any work (or request) is done."""
    if frame not in FRAMES:
        raise InputError(f"frame must be one of {', '.join(map(repr, FRAMES))}; got {frame!r}")
    if frame == "polars":
        import_polars()


def import_polars() -> Any:
    """polars, or an error saying which extra brings it."""
    try:
        import polars
    except ImportError:
        raise InputError(
            "frame='polars' needs polars: pip install 'mailtrap-pandas[polars]'"
        ) from None
    return polars


def _status_enum(pl: Any) -> Any:
    return pl.Enum(STATUS_DTYPE.categories.tolist())


def arrow_to_polars(table: pa.Table) -> Any:
    """A polars frame over the Arrow columns (no copy for most types)."""
    pl = import_polars()
    out = pl.from_arrow(table, rechunk=False)
    if "status" in out.columns:
        out = out.with_columns(pl.col("status").cast(pl.String).cast(_status_enum(pl)))
    return out


def _text(value: Any) -> str | None:
    missing = value is None or (isinstance(value, float | type(pd.NA)) and pd.isna(value))
    return None if missing else str(value)


def _plain(col: pd.Series) -> pd.Series:
    """An object column polars can hold: enums as their values, mixed types as text.

    ``failures["value"]`` is the cell as given, which may be ``"x"`` in one row and ``2``
    in the next; polars columns have one type, so such a column becomes text.
    """
    if col.map(lambda v: isinstance(v, Enum)).any():
        # Reasons are str enums: polars wants their plain values.
        col = col.map(lambda v: v.value if isinstance(v, Enum) else v)
    try:
        pa.array(col, from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return col.map(_text).astype("string")
    return col


def to_polars(df: pd.DataFrame, *, index: str | None = None) -> Any:
    """A pandas result frame as polars, with the type table's polars dtypes.

    Parameters
    ----------
    df : pandas.DataFrame
    index : str, optional
        Keep the index as a first column of this name (polars frames have no
        index; the caller's row labels must survive).
    """
    pl = import_polars()
    if index is not None:
        df = df.rename_axis(index).reset_index()
    data: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            # A closed set of words (status): polars' Enum, with the same categories.
            enums[str(name)] = pl.Enum([str(c) for c in col.dtype.categories])
            col = col.astype("string")
        elif col.dtype == object:
            col = _plain(col)
        data[str(name)] = col
    out = pl.from_pandas(pd.DataFrame(data, copy=False))
    if enums:
        out = out.with_columns(pl.col(name).cast(enum) for name, enum in enums.items())
    return out
