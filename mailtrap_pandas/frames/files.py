"""Reading and writing the files the CLI takes and gives: CSV, Parquet, Excel, JSON.

A file we write is data: it reads back, and imports again, unchanged. So CSV
cells are written as they are, ``-33.86`` and ``+48 601 200 300`` included.
Escaping for spreadsheets (a leading apostrophe on text starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return, as OWASP recommends) alters values,
so it is an explicit opt-in: ``escape_formulas=True`` (CLI ``--escape-formulas``).

Excel output is safe by construction instead: cells are typed (numbers, dates
and booleans native) and every text cell is stored as text, never as a formula.
Excel input keeps each cell's native type (a datetime cell stays a datetime).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mailtrap_pandas.errors import InputError

__all__ = [
    "check_output_path",
    "file_format",
    "neutralize_formulas",
    "read_frame",
    "read_text",
    "read_text_chunks",
    "write_frame",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPREADSHEET_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xls"}
_OUTPUT_SUFFIXES = (".csv", ".tsv", ".parquet", ".xlsx", ".jsonl", ".ndjson")


def check_output_path(path: str | Path) -> Path:
    """Check, before any work, that :func:`write_frame` can write ``path``.

    Raises
    ------
    InputError
        The suffix names no supported format, or ``.xlsx`` without openpyxl.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _OUTPUT_SUFFIXES:
        raise InputError(
            f"{path.name}: unsupported output type {suffix or '(no suffix)'!r}; "
            "use .csv, .tsv, .parquet, .xlsx or .jsonl"
        )
    if suffix == ".xlsx":
        if not _has_openpyxl():
            raise InputError(
                f"writing {path.name} needs openpyxl, which is not installed: "
                "pip install openpyxl (or write .csv or .parquet)"
            )
    return path


def _has_openpyxl() -> bool:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return False
    return True


_COMPRESSED = (".gz", ".bz2", ".zip", ".xz")
_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xls": "excel",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
#: How every CSV/TSV is read, whole or in batches. Text as text: validation
#: coerces, and zip codes keep their leading zeros. keep_default_na=False:
#: "NA" is a country code, not a missing value. utf-8-sig: a CSV saved by
#: Excel starts with a byte-order mark, which must not end up in the first
#: column's name. pandas reads CRLF line ends like LF (quoted newlines too).
_TEXT_OPTIONS: dict[str, Any] = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}


def file_format(path: str | os.PathLike[str]) -> str:
    """What a path holds, judged by its name (a folder is a Parquet dataset).

    One of ``csv``, ``tsv``, ``parquet``, ``excel``, ``jsonl``, ``folder``, or
    ``""`` when unknown. A compression suffix (``.gz``, ``.bz2``, ``.zip``,
    ``.xz``) is looked through.

    Examples
    --------
    >>> file_format("contacts.csv.gz"), file_format("x.PARQUET"), file_format("a.doc")
    ('csv', 'parquet', '')
    """
    path = Path(path)
    if path.is_dir():
        return "folder"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return _FORMATS.get(suffixes[-1], "") if suffixes else ""


def _text_options(path: Path) -> dict[str, Any]:
    return {**_TEXT_OPTIONS, "sep": "\t" if file_format(path) == "tsv" else ","}


def _text_error(path: Path, exc: Exception) -> InputError:
    if isinstance(exc, UnicodeDecodeError):
        return InputError(
            f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "save it as 'CSV UTF-8' and try again"
        )
    return InputError(f"{path.name} is empty: no header row, no data")


def read_text(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A whole CSV or TSV file as a frame of text cells, labelled 0, 1, ...

    Cells stay text (``NA`` too), a byte-order mark is dropped and CRLF line
    ends read like LF: the same cells as :func:`read_text_chunks` gives.

    Raises
    ------
    InputError
        The file is not UTF-8, or empty.
    """
    path = Path(path)
    try:
        frame: pd.DataFrame = pd.read_csv(path, **_text_options(path))
    except (UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise _text_error(path, exc) from None
    return frame


def read_text_chunks(path: str | os.PathLike[str], batch_rows: int) -> Iterator[pd.DataFrame]:
    """A CSV or TSV file in frames of ``batch_rows`` rows, labelled 0, 1, ... across frames.

    The cells of :func:`read_text`, a batch at a time, so memory holds one
    batch. A file with a header and no rows gives one empty frame with its
    columns, so the caller can still tell which columns it has.

    Raises
    ------
    InputError
        The file is not UTF-8, or empty (raised while iterating).
    """
    path = Path(path)
    try:
        with pd.read_csv(path, chunksize=batch_rows, **_text_options(path)) as reader:
            empty = True
            for frame in reader:
                empty = False
                yield frame
        if empty:
            yield pd.read_csv(path, nrows=0, **_text_options(path))
    except (UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise _text_error(path, exc) from None


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet, JSON-lines or Excel file into a frame of its raw values.

    CSV cells are read as text (``dtype=str``) so that zip codes keep their
    leading zeros; validation does the typing, against the account's fields.
    CSV and TSV go through :func:`read_text`, the reader that also streams
    them (:func:`read_text_chunks`): the same cells, whole or in batches.
    Excel cells keep the type the sheet gave them (a number, a datetime, a
    boolean or text); a blank cell is ``""``.
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
        return read_text(path)  # the one text reader, also the streamed one
    if suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except TypeError:
            # pandas cannot rebuild some dtypes it wrote itself (a pyarrow list
            # column such as an export's list_ids): read past its metadata.
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            frame: pd.DataFrame = table.to_pandas(
                ignore_metadata=True,
                types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_list(t) else None,
            )
            return frame
    if suffix in (".xlsx", ".xls"):
        try:
            # Each cell as the sheet typed it (int, float, bool, datetime, str): validation
            # judges them against the fields. Blank cells read as "" (missing), and text such
            # as "NA" (a country code) stays text, as in CSV.
            return pd.read_excel(path, dtype=object, keep_default_na=False)
        except ImportError as exc:
            raise InputError(
                f"reading {path.name} needs openpyxl, which is not installed: "
                f"pip install openpyxl, or save the sheet as CSV ({exc})"
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


def _is_list_column(col: pd.Series) -> bool:
    dtype = col.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return bool(
            pa.types.is_list(dtype.pyarrow_dtype) or pa.types.is_large_list(dtype.pyarrow_dtype)
        )
    if not pd.api.types.is_object_dtype(dtype):
        return False
    first = col.dropna()
    return not first.empty and isinstance(first.iloc[0], (list, tuple, np.ndarray))


def _flatten_for_spreadsheet(df: pd.DataFrame, *, excel: bool) -> pd.DataFrame:
    """List cells as ``"3;7"`` (a spreadsheet cannot hold lists); for Excel, naive UTC times."""
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if _is_list_column(col):
            joined = col.map(lambda v: ";".join(str(i) for i in v), na_action="ignore")
            out[name] = joined.astype("string")
        elif excel and isinstance(col.dtype, pd.DatetimeTZDtype):
            out[name] = col.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _excel_value(value: Any) -> Any:
    """One cell's value as openpyxl writes it natively: None, bool, int, float, date(time), str."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, dt.date | str):
        return value
    return str(value)


def _write_excel(df: pd.DataFrame, path: Path, *, index: bool) -> None:
    """Typed cells; text always stored as text, so a value like ``=1+1`` is never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    if index:
        df = df.reset_index()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("contacts")
    ws.append([_text_cell(ws, str(c), WriteOnlyCell) for c in df.columns])
    columns = [df[c].astype(object).to_numpy() for c in df.columns]
    for values in zip(*columns, strict=True):
        row = []
        for value in values:
            native = _excel_value(value)
            row.append(
                _text_cell(ws, native, WriteOnlyCell)
                if isinstance(native, str)
                else WriteOnlyCell(ws, value=native)
            )
        ws.append(row)
    wb.save(path)


def _text_cell(ws: Any, text: str, cell_type: Any) -> Any:
    cell = cell_type(ws, value=text)
    cell.data_type = "s"  # openpyxl would store "=..." as a formula
    return cell


def write_frame(
    df: pd.DataFrame, path: str | Path, *, index: bool = False, escape_formulas: bool = False
) -> Path:
    """Write ``df`` in the format its suffix names (CSV, TSV, Parquet, Excel, JSON lines).

    Values are written as they are, so the file reads back (and imports)
    unchanged. For CSV, TSV and Excel, list cells are joined as ``"3;7"``.
    Excel cells are typed: numbers, dates and booleans as native cells, text
    as text (never a formula).

    Parameters
    ----------
    df : pandas.DataFrame
        What to write.
    path : str or Path
        ``.csv``, ``.tsv``, ``.parquet``, ``.xlsx``, ``.jsonl`` or ``.ndjson``.
    index : bool
        Write the index as a first column.
    escape_formulas : bool
        CSV and TSV only: prefix ``'`` to text cells a spreadsheet would run as
        a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
        return). Off by default because it alters values (``-33.86``,
        ``+48 601 200 300``); use it for a file meant only for a spreadsheet.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import tempfile
    >>> df = pd.DataFrame({"phone": ["+48 601 200 300"], "lat": [-33.86]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plain = write_frame(df, Path(tmp) / "a.csv").read_text()
    ...     escaped = write_frame(df, Path(tmp) / "b.csv", escape_formulas=True).read_text()
    >>> plain.splitlines()[1], escaped.splitlines()[1]
    ('+48 601 200 300,-33.86', "'+48 601 200 300,-33.86")
    """
    path = check_output_path(path)
    suffix = path.suffix.lower()
    if suffix in _SPREADSHEET_SUFFIXES:
        df = _flatten_for_spreadsheet(df, excel=suffix == ".xlsx")
        if escape_formulas and suffix in (".csv", ".tsv"):
            df = neutralize_formulas(df)
    if suffix == ".csv":
        df.to_csv(path, index=index)
    elif suffix == ".tsv":
        df.to_csv(path, index=index, sep="\t")
    elif suffix == ".parquet":
        # pandas cannot read back the metadata it writes for a pyarrow list
        # column (an export's list_ids): store such columns as plain lists.
        lists = [n for n in df.columns if isinstance(df[n].dtype, pd.ArrowDtype)]
        lists = [n for n in lists if _is_list_column(df[n])]
        if lists:
            df = df.astype({n: object for n in lists})
        df.to_parquet(path, index=index)
    elif suffix in (".xlsx", ".xls"):
        try:
            _write_excel(df, path, index=index)
        except ImportError as exc:
            raise InputError(f"writing {path.name} needs openpyxl ({exc})") from None
    elif suffix in (".jsonl", ".ndjson"):
        df.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        raise InputError(f"{path.name}: unsupported output type; use .csv, .parquet or .xlsx")
    return path
