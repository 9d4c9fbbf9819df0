"""Reading and writing the files the CLI takes and gives: CSV, Parquet, Excel, JSON.

Files a spreadsheet may open (CSV, Excel) are written with formula injection
neutralized: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a leading apostrophe, as OWASP recommends, so opening an
export of untrusted contact data never runs a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError

__all__ = ["neutralize_formulas", "read_frame", "write_frame"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPREADSHEET_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xls"}


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet, JSON-lines or Excel file into a frame of its raw values.

    CSV cells are read as text (``dtype=str``) so that zip codes keep their
    leading zeros; validation does the typing, against the account's fields.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    suffixes = [s.lower() for s in path.suffixes]
    suffix = (
        suffixes[-2]
        if suffixes and suffixes[-1] in (".gz", ".bz2", ".zip", ".xz")
        else (suffixes[-1] if suffixes else "")
    )
    if suffix in (".csv", ".tsv", ".txt"):
        sep = "\t" if suffix == ".tsv" else ","
        return pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".xlsx", ".xls"):
        try:
            return pd.read_excel(path, dtype=str)
        except ImportError as exc:
            raise InputError(
                f"reading {path.name} needs openpyxl: pip install openpyxl ({exc})"
            ) from None
    if suffix in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True, dtype=False)
    raise InputError(f"{path.name}: unsupported file type; use .csv, .tsv, .parquet or .xlsx")


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot start a spreadsheet formula.

    Examples
    --------
    >>> neutralize_formulas(pd.DataFrame({"a": ["=1+1", "ok"]}))["a"].tolist()
    ["'=1+1", 'ok']
    """
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        text = col.astype("string")
        risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            out[name] = col.astype(object).where(~risky, "'" + text.astype(object))
    return out


def write_frame(df: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write ``df`` in the format its suffix names (CSV, TSV, Parquet, Excel, JSON lines)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _SPREADSHEET_SUFFIXES:
        df = neutralize_formulas(df)
    if suffix == ".csv":
        df.to_csv(path, index=index)
    elif suffix == ".tsv":
        df.to_csv(path, index=index, sep="\t")
    elif suffix == ".parquet":
        df.to_parquet(path, index=index)
    elif suffix in (".xlsx", ".xls"):
        try:
            df.to_excel(path, index=index)
        except ImportError as exc:
            raise InputError(f"writing {path.name} needs openpyxl ({exc})") from None
    elif suffix in (".jsonl", ".ndjson"):
        df.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        raise InputError(f"{path.name}: unsupported output type; use .csv, .parquet or .xlsx")
    return path
