"""Reading a Parquet file or folder as a stream holds a batch, not what was read so far."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mailtrap_pandas.jobs.sources import open_source

ROWS = 2_000  # per row group and per frame


def _write(path: Path, groups: int) -> int:
    rng = np.random.default_rng(0)
    n = groups * ROWS
    table = pa.table(
        {
            "email": [f"user{i}@example.com" for i in range(n)],
            "company": [f"Company {v}" for v in rng.integers(0, 10**9, n)],
            "score": rng.random(n),
        }
    )
    pq.write_table(table, path, row_group_size=ROWS)
    return path.stat().st_size


def _most_arrow_memory(source: Path) -> int:
    """The most Arrow memory held between two frames of the stream (beyond the start)."""
    before = pa.total_allocated_bytes()
    frames, _, stream = open_source(source, ROWS)
    assert stream
    most = 0
    for frame in frames:
        assert len(frame) == ROWS
        del frame
        most = max(most, pa.total_allocated_bytes() - before)
    return most


@pytest.mark.parametrize("folder", [False, True])
def test_arrow_memory_does_not_grow_with_the_stream(tmp_path: Path, folder: bool) -> None:
    # pyarrow's pre_buffer keeps the compressed row groups read so far (in ranges of up
    # to 32 MB) until the reader is dropped: a 4,000,000-row file grew Arrow's pool by
    # ~30 bytes per row, about the file's size. A folder also reads 16 batches ahead.
    sizes, most = [], []
    for groups in (40, 160):
        path = tmp_path / f"g{groups}" / "part-0.parquet"
        path.parent.mkdir()
        sizes.append(_write(path, groups))
        most.append(_most_arrow_memory(path.parent if folder else path))
    # Four times the rows: what is held may not grow with them (with pre_buffer it grew
    # by about the extra compressed bytes, 6.6 MB here).
    assert most[1] - most[0] < (sizes[1] - sizes[0]) / 10, (most, sizes)
