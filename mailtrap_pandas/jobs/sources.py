"""Sources ``import_contacts`` can stream: frames, Parquet, CSV, pyarrow tables and datasets,
any Arrow stream (``__arrow_c_stream__``: DuckDB, polars, ADBC, ``RecordBatchReader``) and
Dask frames.

Every stream is read piece by piece, so memory is bounded by ``batch_rows`` rows (plus
whatever the producer holds), never by the whole source. Rows of a stream are labelled by
their position in it (0, 1, 2, ... across all pieces), as for a Parquet file.

polars, DuckDB and Dask are optional: this module never imports them. A source is
recognised as one of theirs only when the library is already imported (``sys.modules``),
which it must be for the caller to hold such an object.

Files are read here for the library and the CLI alike: CSV and TSV by the one text reader
(:func:`~mailtrap_pandas.frames.files.read_text_chunks`: cells as text, ``NA`` as text, a
byte-order mark dropped, CRLF), Parquet in record batches, Excel and JSON lines whole (they
cannot be read in pieces).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.files import file_format, read_frame, read_text_chunks
from mailtrap_pandas.frames.validate import check_frame

__all__ = [
    "Source",
    "arrow_stream",
    "is_dask_frame",
    "open_source",
    "polars_to_pandas",
    "read_rows",
    "to_pandas",
]

Source = pd.DataFrame | str | os.PathLike[str] | Iterable[pd.DataFrame] | Any

_MAPPING: dict[pa.DataType, Any] = {
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
}


def to_pandas(batch: pa.RecordBatch | pa.Table, offset: int = 0) -> pd.DataFrame:
    """One Arrow piece as a pandas frame labelled by stream position from ``offset``."""
    df: pd.DataFrame = batch.to_pandas(types_mapper=_MAPPING.get)
    df.index = pd.RangeIndex(offset, offset + len(df))
    return df


def _arrow_dtype(type_: pa.DataType) -> Any:
    if type_ in (pa.string(), pa.large_string()):
        return pd.StringDtype("pyarrow")
    return pd.ArrowDtype(type_)


def polars_to_pandas(df: Any) -> pd.DataFrame:
    """A pandas frame over a polars frame's Arrow export, with no pandas copy of the values.

    Every column keeps its Arrow type (strings as ``string[pyarrow]``, others
    ``pd.ArrowDtype``): validation and encoding work on Arrow anyway. Numbers, booleans and
    dates are not copied; text is, once, inside Arrow: polars holds strings as
    ``string_view``, which pyarrow's ``take`` (used when reporting failures) cannot handle
    yet, so ``to_arrow()`` writes them out as ``large_string``. Rows are labelled 0..n-1,
    their positions in the polars frame.
    """
    table: pa.Table = df.to_arrow()
    out: pd.DataFrame = table.to_pandas(types_mapper=_arrow_dtype)
    return out


def _rebatch(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Pieces of exactly ``rows`` rows (the last one shorter), whatever the producer yields.

    Producers cut where it suits them (DuckDB per vector of 2,048 rows, polars per chunk,
    a dataset per file); chunks are cut per piece, so tiny pieces would cost one import
    request each. At most ``rows`` rows plus one incoming batch are held.
    """
    held: list[pa.RecordBatch] = []
    n_held = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        held.append(batch)
        n_held += batch.num_rows
        if n_held < rows:
            continue
        table = pa.Table.from_batches(held)
        start = 0
        while n_held - start >= rows:
            yield table.slice(start, rows)
            start += rows
        rest = table.slice(start)
        held = rest.to_batches() if rest.num_rows else []
        n_held = rest.num_rows
    if n_held:
        yield pa.Table.from_batches(held)


def _frames(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pd.DataFrame]:
    offset = 0
    for piece in _rebatch(batches, rows):
        yield to_pandas(piece, offset)
        offset += piece.num_rows


def _module(name: str) -> Any:
    """An optional library if (and only if) the caller has imported it already."""
    return sys.modules.get(name)


def is_dask_frame(source: object) -> bool:
    """Whether ``source`` is a ``dask.dataframe.DataFrame``."""
    dd = _module("dask.dataframe")
    return dd is not None and isinstance(source, dd.DataFrame)


def arrow_stream(source: Any, batch_rows: int) -> Iterator[pa.RecordBatch] | None:
    """Record batches of any Arrow-stream object, or None when ``source`` is not one.

    DuckDB relations and results are asked for ``batch_rows``-row batches directly: their
    plain ``__arrow_c_stream__`` materialises up to a million rows per batch. A polars
    LazyFrame is streamed by polars' engine (not collected whole) where polars can.
    """
    duckdb = _module("duckdb")
    if duckdb is not None and isinstance(
        source, duckdb.DuckDBPyRelation | duckdb.DuckDBPyConnection
    ):
        # Newest DuckDB names first; a DuckDB 1.1 connection has only fetch_record_batch.
        reader = (
            getattr(source, "to_arrow_reader", None)
            or getattr(source, "fetch_arrow_reader", None)
            or source.fetch_record_batch
        )
        batches: Iterator[pa.RecordBatch] = iter(reader(batch_rows))
        return batches
    pl = _module("polars")
    if pl is not None and isinstance(source, pl.LazyFrame):
        return _lazy_batches(source, batch_rows)
    if isinstance(source, pa.RecordBatchReader):
        return _read(source)
    if hasattr(source, "__arrow_c_stream__"):
        return _read(pa.RecordBatchReader.from_stream(source))
    return None


def _read(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    yield from reader


def _lazy_batches(lazy: Any, batch_rows: int) -> Iterator[pa.RecordBatch]:
    collect_batches = getattr(lazy, "collect_batches", None)
    if collect_batches is None:  # older polars: the streaming engine, collected once
        yield from lazy.collect(engine="streaming").to_arrow().to_batches(batch_rows)
        return
    for frame in collect_batches(chunk_size=batch_rows, maintain_order=True):
        yield from frame.to_arrow().to_batches()


def _dask_frames(ddf: Any, batch_rows: int) -> Iterator[pd.DataFrame]:
    """Partition after partition, each computed by the user's scheduler, relabelled by position.

    Pieces are re-cut to ``batch_rows`` rows as for Arrow streams: at most one partition
    plus ``batch_rows`` rows are held.
    """
    from dask.base import compute

    held: pd.DataFrame | None = None
    offset = 0
    for part in ddf.to_delayed():
        (frame,) = compute(part)  # type: ignore[no-untyped-call]
        if not len(frame):
            continue
        held = frame if held is None else pd.concat([held, frame])
        while len(held) >= batch_rows:
            piece, held = held.iloc[:batch_rows], held.iloc[batch_rows:]
            yield piece.set_axis(pd.RangeIndex(offset, offset + batch_rows))
            offset += batch_rows
    if held is not None and len(held):
        yield held.set_axis(pd.RangeIndex(offset, offset + len(held)))


def open_source(source: Source, batch_rows: int) -> tuple[Iterator[pd.DataFrame], int | None, bool]:
    """Open what ``import_contacts`` was given as a stream of frames.

    Parameters
    ----------
    source : DataFrame, path, iterable of DataFrames, Arrow stream, Dask frame...
        A Parquet file or folder is read in record batches and a CSV in chunks;
        any object with ``__arrow_c_stream__`` (a DuckDB relation, a polars
        LazyFrame, a ``pyarrow.RecordBatchReader``, an ADBC result) batch by
        batch; a Dask frame partition by partition. A polars DataFrame (in
        memory already) is one frame viewed over its Arrow buffers. Memory stays
        bounded by ``batch_rows``.
    batch_rows : int
        Rows per frame read from a file, dataset or stream.

    Returns
    -------
    tuple
        (frames, total rows if known, whether it is a stream rather than one frame).
    """
    if isinstance(source, pd.DataFrame):
        return iter([source]), len(source), False
    if isinstance(source, pd.Series):
        check_frame(source, "import_contacts")
    try:
        import pyarrow.dataset as ds
    except ImportError:  # pragma: no cover
        ds = None
    if ds is not None and isinstance(source, ds.Dataset):
        return (
            _frames(source.to_batches(batch_size=batch_rows), batch_rows),
            source.count_rows(),
            True,
        )
    if isinstance(source, pa.Table):
        return (
            _frames(source.to_batches(max_chunksize=batch_rows), batch_rows),
            source.num_rows,
            True,
        )
    if is_dask_frame(source):
        return _dask_frames(source, batch_rows), None, True
    pl = _module("polars")
    if pl is not None and isinstance(source, pl.DataFrame):
        # In memory already: one frame over its buffers, exactly as df.mailtrap would see
        # it (whole-frame dedupe, no per-piece hashing), with no pandas copy.
        return iter([polars_to_pandas(source)]), len(source), False
    batches = arrow_stream(source, batch_rows)
    if batches is not None:
        return _frames(batches, batch_rows), None, True
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        kind = file_format(path)
        if kind == "folder":
            import pyarrow.dataset as pds

            data = pds.dataset(path)
            # As for one file (below): no pre-buffering; and no read-ahead, which is 16
            # batches by default (~120 MB of Arrow memory for a 7-column folder, measured),
            # and which a threaded scanner exceeds anyway while we validate a frame.
            batches = data.to_batches(
                batch_size=batch_rows,
                batch_readahead=0,
                fragment_readahead=0,
                use_threads=False,
                fragment_scan_options=pds.ParquetFragmentScanOptions(pre_buffer=False),
            )
            return (
                _frames(batches, batch_rows),
                data.count_rows(),
                True,
            )
        if kind == "parquet":
            import pyarrow.parquet as pq

            # pre_buffer (pyarrow's default) caches the compressed column chunks of every
            # row group read so far until the reader is dropped: ~30 bytes per row of a
            # whole-file stream held in Arrow's pool. Reading as we go keeps it flat.
            pf = pq.ParquetFile(path, pre_buffer=False)
            return (
                _frames(pf.iter_batches(batch_size=batch_rows), batch_rows),
                pf.metadata.num_rows,
                True,
            )
        if kind in ("csv", "tsv"):
            return read_text_chunks(path, batch_rows), None, True
        if kind in ("excel", "jsonl"):
            whole = read_frame(path)  # no way to read these in pieces
            return iter([whole]), len(whole), True
        raise InputError(
            f"{path.name}: unsupported file type; use .csv, .tsv or .parquet (or a .gz of "
            "one), .xlsx, .jsonl, or a folder of Parquet files"
        )
    if isinstance(source, Iterable):

        def frames() -> Iterator[pd.DataFrame]:
            for item in source:
                if not isinstance(item, pd.DataFrame):
                    raise InputError(f"a stream must yield DataFrames, got {type(item).__name__}")
                yield item

        return frames(), None, True
    raise InputError(
        f"import_contacts() can't read a {type(source).__name__}: expected a DataFrame, a path, "
        "an iterable of DataFrames, a pyarrow Table or Dataset, an object with "
        "__arrow_c_stream__ (DuckDB, polars, ADBC) or a Dask DataFrame"
    )


def read_rows(
    path: str | os.PathLike[str], labels: Iterable[Any], batch_rows: int = 50_000
) -> pd.DataFrame:
    """The rows of a file whose labels (0-based data rows) are in ``labels``, as read.

    The file is streamed again (:func:`open_source`), so memory holds the
    wanted rows and one batch; used to write the rejected rows of a streamed
    import or dry run, unchanged, to a file.
    """
    wanted = pd.Index(labels)
    frames, _, _ = open_source(path, batch_rows)
    parts: list[pd.DataFrame] = []
    for frame in frames:
        hit = frame[frame.index.isin(wanted)]
        if len(hit) or not parts:  # the first frame, even empty, keeps the columns
            parts.append(hit)
    kept = [p for p in parts if len(p)]
    if kept:
        return pd.concat(kept)
    return parts[0] if parts else pd.DataFrame()
