"""Sources ``import_contacts`` can stream: frames, Parquet, CSV, pyarrow tables and datasets."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from mailtrap_pandas.errors import InputError

__all__ = ["Source", "open_source"]

Source = pd.DataFrame | str | os.PathLike[str] | Iterable[pd.DataFrame] | Any


def _arrow_to_pandas(batch: pa.RecordBatch | pa.Table, offset: int) -> pd.DataFrame:
    mapping = {
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    df: pd.DataFrame = batch.to_pandas(types_mapper=mapping.get)
    df.index = pd.RangeIndex(offset, offset + len(df))
    return df


def _batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pd.DataFrame]:
    offset = 0
    for batch in batches:
        if batch.num_rows:
            yield _arrow_to_pandas(batch, offset)
        offset += batch.num_rows


def open_source(source: Source, batch_rows: int) -> tuple[Iterator[pd.DataFrame], int | None, bool]:
    """Open what ``import_contacts`` was given as a stream of frames.

    Parameters
    ----------
    source : DataFrame, path, iterable of DataFrames, pyarrow Table or Dataset
        A Parquet file or folder is read in record batches and a CSV in chunks,
        so memory stays bounded by ``batch_rows``.
    batch_rows : int
        Rows per frame read from a file or dataset.

    Returns
    -------
    tuple
        (frames, total rows if known, whether it is a stream rather than one frame).
    """
    if isinstance(source, pd.DataFrame):
        return iter([source]), len(source), False
    try:
        import pyarrow.dataset as ds
    except ImportError:  # pragma: no cover
        ds = None
    if ds is not None and isinstance(source, ds.Dataset):
        return _batches(source.to_batches(batch_size=batch_rows)), source.count_rows(), True
    if isinstance(source, pa.Table):
        return _batches(source.to_batches(max_chunksize=batch_rows)), source.num_rows, True
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        name = path.name.lower()
        if path.is_dir() or name.endswith((".parquet", ".pq")):
            if path.is_dir():
                import pyarrow.dataset as pds

                data = pds.dataset(path)
                return _batches(data.to_batches(batch_size=batch_rows)), data.count_rows(), True
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            return _batches(pf.iter_batches(batch_size=batch_rows)), pf.metadata.num_rows, True
        if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            # Text as text: validation coerces, and zip codes keep their leading zeros.
            # keep_default_na=False: "NA" is text (a country code), as in read_frame.
            reader = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                chunksize=batch_rows,
                sep="\t" if ".tsv" in name else ",",
            )
            return iter(reader), None, True
        raise InputError(f"can't read {source!r}: expected a .parquet, .csv(.gz) file or a folder")
    if isinstance(source, Iterable):

        def frames() -> Iterator[pd.DataFrame]:
            for item in source:
                if not isinstance(item, pd.DataFrame):
                    raise InputError(f"a stream must yield DataFrames, got {type(item).__name__}")
                yield item

        return frames(), None, True
    raise InputError(f"import_contacts() can't read a {type(source).__name__}")
