"""Peak memory of streaming a 5,000,000-row Parquet file through validate + encode.

Run: ``.venv/bin/python -m benchmarks bench_stream`` (or ``make bench``).

The file (email + 6 fields: text, text, integer, float, boolean, date, ~10%
missing) is written to a temporary folder. Each measurement runs in its own
SUBPROCESS, so its peak RSS (``ru_maxrss``) is that of the work alone:

- ``stream``: ``to_import_payloads(path)``: the Parquet file is read with
  ``ParquetFile.iter_batches`` (``chunk_size`` rows at a time), validated and
  encoded batch by batch; each body is dropped once "sent". This is the client
  side of ``import_contacts(path)``: the submit/poll loop adds no per-row state.
- ``whole``: the baseline an analyst would write: ``pd.read_parquet`` of the
  whole file, then validate + encode the frame.
- ``idle``: the interpreter with pandas, pyarrow and the package imported.

The streamed figures are of the dry run: the emulator keeps every contact in SQLite,
and at 5,000,000 contacts its time dwarfs the client's. ``import_slope()`` measures
``import_contacts(path)`` against an emulator at smaller sizes (the import in a
subprocess of its own, the emulator in this one).

Streams remember every email seen (cross-piece dedupe) as a 16-byte hash, so the
streaming peak grows with the number of unique emails, not with the width of the
rows; ``slope()`` measures that growth per row (issue 15: <= 24 bytes). Where it
went before (71 bytes per row, 1M -> 4M rows, ``pa.total_allocated_bytes()`` and
RSS sampled per body): ~33 bytes per row in Arrow's pool, the compressed column
chunks pyarrow's ``pre_buffer`` keeps for every row group read until the
``ParquetFile`` is dropped (``pre_buffer=False`` since); ~14 bytes per row of
malloc heap that glibc could not give back, freed merge temporaries pinned under
the long-lived hash runs (runs now live in memory mappings of their own, and a
merge writes its output by position instead of concatenating and sorting); the
rest is the 16-byte hashes.

``import_contacts(path)`` (``import_slope()``, 250,000 -> 1,000,000 rows): 334 bytes per
row, of which ~270 were the result's assembly turning every imported email into a
Python string (only needed when a one-shot stream lets a later job supersede an earlier
one; no longer done otherwise): 112 since. Then 66: a stream's ``imported_index`` is
int64 (it was an object Index, a Python int per row) and a confirmed job drops its rows'
emails (they were kept, as Arrow slices, until the end). Then 51: the result's labels
are filled job by job into one int64 array (materializing every job's RangeIndex before
one concatenate held each label twice at the peak). Then 34: a running job's emails wait
in the spool (every chunk is submitted before the first poll, and each job held its rows'
emails, ~29 bytes per row as Arrow strings, until it was confirmed). Then -5 to 14 (the
peak no longer grows at these sizes; it moves by ~10 MB between runs): ``dedupe="last"``'s
read-ahead keeps only the emails that repeat, so the 16-byte hash of every email lives
during the read-ahead only, not through the import; and a stream whose rows were all
imported is labelled by a RangeIndex (the RSS held once the call returned: 8.5 -> -0.3
bytes per row). From 1,000,000 to 2,000,000 rows (``import_slope(1_000_000, 2_000_000)``)
the read-ahead's peak set the slope: 19.3 bytes per row, 1.9 once it held 8 bytes per
email instead of 16.

Where an import's memory goes now (1,000,000 rows, RSS sampled at phase marks in the
importing process, 2026-12-01): the interpreter with the package ~143 MB; the read-ahead
of ``dedupe="last"`` peaks at ~265-290 MB: 8 bytes per row of hashes (a set, freed at its
end; a position is kept only for emails that repeat), the temporaries of merging hash runs
(they stop growing at ``MAX_RUN`` entries, 1,048,576) and ~45 MB of Arrow's mimalloc pool
keeping freed pages (given back by ``release_unused()``, taken again by the import). The
import then holds ~255-270 MB whatever the rows (Arrow: ~20 MB, the frame in flight), and
each chunk adds a transient of ~20-30 MB (its validation and encoding, the 7.5 MB body):
that transient is the peak at 250,000 to 2,000,000 rows, and it moves by ~10 MB between
runs. Per row, through the import: nothing for rows whose email occurs once (bodies and
emails wait in the spool's temporary file, on disk; a job keeps its row labels as a
RangeIndex, or as runs when validation dropped rows of its frame); the result's labels
are a RangeIndex, or 8 bytes per row when some rows were not imported. The read-ahead
alone grows by 8.1 bytes per row from 1,000,000 to 4,000,000 rows (20.5 with a position
per email), so past a few million rows it sets a ``dedupe="last"`` import's peak; with
``dedupe="first"``/``"error"`` (or a one-shot stream) the 16-byte hash and value per
email live through the import instead, as in the dry run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Company", "data_type": "text", "merge_tag": "company"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Signup", "data_type": "date", "merge_tag": "signup"},
]
CHUNK = 50_000
_BATCH = 250_000  # rows generated at a time while writing the file

CHILD = (
    r"""
import json, sys, time
mode, path, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
# Sample our own RSS: ru_maxrss would carry the parent's high-water mark across exec.
from benchmarks._measure import PeakRSS
peak = PeakRSS().__enter__()
import pandas as pd, pyarrow as pa
from mailtrap_pandas import Client
from mailtrap_pandas.jobs.imports.run import to_import_payloads
# Never contacted: the field definitions are given, so nothing is fetched.
client = Client("bench", account_id=1, base_url="http://127.0.0.1:9", rate_limit=None)
out = {"mode": mode}
t0 = time.perf_counter()
bodies = bytes_ = 0
if mode != "idle":
    if mode == "whole":
        source = pd.read_parquet(path, dtype_backend="numpy_nullable")
        out["frame_mb"] = float(source.memory_usage(deep=True).sum()) / 1e6
    else:
        source = path
    kw = {"chunk_size": CHUNK_SIZE, "fields": fields, "dedupe": "first"}
    for body in to_import_payloads(source, client, **kw):
        bodies += 1
        bytes_ += len(body)
        del body
out["seconds"] = time.perf_counter() - t0
out["bodies"] = bodies
out["body_mb_total"] = bytes_ / 1e6
peak.__exit__()
out["peak_rss_mb"] = peak.peak / 1e6
print(json.dumps(out))
"""
).replace("CHUNK_SIZE", str(CHUNK))


def write_file(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write ``n_rows`` contacts in row groups, never holding the whole table."""
    rng = np.random.default_rng(seed)
    names = np.array(["Ann", "Bob", 'Zoë "Z"', "Łukasz", "Mary-Jane", "O'Neil", "李", "x\\y"])
    epoch = np.datetime64("1970-01-01")
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, n_rows, _BATCH):
            n = min(_BATCH, n_rows - start)

            def holes(values: Any, type_: pa.DataType, n: int = n) -> pa.Array:
                return pa.array(values, type_, mask=rng.random(n) < 0.1)

            days = rng.integers(0, 20_000, n)
            table = pa.table(
                {
                    "email": pa.array([f"user{i}@example.com" for i in range(start, start + n)]),
                    "first_name": holes(names[rng.integers(0, len(names), n)], pa.string()),
                    "company": holes(
                        np.char.add("Company ", rng.integers(0, 10**6, n).astype(str)),
                        pa.string(),
                    ),
                    "age": holes(rng.integers(18, 90, n), pa.int64()),
                    "score": holes(rng.random(n), pa.float64()),
                    "vip": holes(rng.random(n) < 0.3, pa.bool_()),
                    "signup": holes((epoch + days).astype("datetime64[D]"), pa.date32()),
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=CHUNK)
    finally:
        if writer is not None:
            writer.close()


def measure(mode: str, path: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), json.dumps(FIELDS)],
        cwd=Path(__file__).resolve().parents[1],  # the child imports benchmarks._measure
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def slope(small: int = 1_000_000, large: int = 4_000_000) -> dict[str, float]:
    """Peak-RSS growth per extra row of a streamed dry run: ``small`` vs ``large`` rows.

    Each size runs in its own subprocess. Issue 15's target is <= 24 bytes per row: the
    only state that must grow is the 16-byte email hash for cross-stream dedupe.
    """
    peaks = {}
    with tempfile.TemporaryDirectory(prefix="bench-slope-") as tmp:
        for n in (small, large):
            path = Path(tmp) / f"contacts-{n}.parquet"
            write_file(path, n)
            peaks[n] = measure("stream", path)["peak_rss_mb"]
            path.unlink()
    per_row = (peaks[large] - peaks[small]) * 1e6 / (large - small)
    print(
        f"  stream peak RSS {small:,} rows {peaks[small]:.0f} MB, {large:,} rows "
        f"{peaks[large]:.0f} MB: {per_row:.1f} bytes per extra row (target <= 24)"
    )
    return {
        "slope_small_mb": peaks[small],
        "slope_large_mb": peaks[large],
        "bytes_per_row": per_row,
    }


IMPORT_CHILD = r"""
import json, sys, time
path, url, token, account, fields = sys.argv[1:5] + [json.loads(sys.argv[5])]
from benchmarks._measure import PeakRSS
peak = PeakRSS().__enter__()
from mailtrap_pandas import Client
from mailtrap_pandas.jobs.imports.run import import_contacts
client = Client(token, account_id=int(account), base_url=url, rate_limit=None)
t0 = time.perf_counter()
result = import_contacts(
    path, client, fields=fields, progress=False, journal=False,
    poll_interval=0.05, max_poll_interval=0.5,
)
held = peak._proc.memory_info().rss  # what stays while the result is held
peak.__exit__()
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_rss_mb": peak.peak / 1e6,
                  "held_rss_mb": held / 1e6, "imported": len(result.imported_index)}))
"""


def import_slope(small: int = 250_000, large: int = 1_000_000) -> dict[str, float]:
    """Peak-RSS growth per extra row of ``import_contacts(path)`` against the emulator.

    The emulator runs in this process (its SQLite and threads are not measured); the
    import runs in a SUBPROCESS whose own peak RSS is sampled, and its RSS once the call
    returned (the result held): what stays, apart from the peak's transients. Smaller
    sizes than :func:`slope`: the emulator stores every contact, which takes minutes at
    4,000,000.
    """
    from mailtrap_pandas.emulator import Emulator

    peaks, held = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-import-slope-") as tmp:
        for n in (small, large):
            path = Path(tmp) / f"contacts-{n}.parquet"
            write_file(path, n)
            with Emulator(rate_limit=None) as emu:
                emu.seed(fields=FIELDS)
                args = [str(path), emu.url, emu.token, str(emu.account_id), json.dumps(FIELDS)]
                done = subprocess.run(
                    [sys.executable, "-c", IMPORT_CHILD, *args],
                    cwd=Path(__file__).resolve().parents[1],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            out = json.loads(done.stdout.strip().splitlines()[-1])
            assert out["imported"] == n, out
            peaks[n], held[n] = out["peak_rss_mb"], out["held_rss_mb"]
            path.unlink()
    per_row = (peaks[large] - peaks[small]) * 1e6 / (large - small)
    held_per_row = (held[large] - held[small]) * 1e6 / (large - small)
    print(
        f"  import_contacts peak RSS {small:,} rows {peaks[small]:.0f} MB, {large:,} rows "
        f"{peaks[large]:.0f} MB: {per_row:.1f} bytes per extra row (target <= 24); "
        f"RSS once it returned {held[small]:.0f} / {held[large]:.0f} MB: "
        f"{held_per_row:.1f} bytes per extra row"
    )
    return {
        "import_slope_small_mb": peaks[small],
        "import_slope_large_mb": peaks[large],
        "import_bytes_per_row": per_row,
        "import_held_bytes_per_row": held_per_row,
    }


def run(n_rows: int = 5_000_000) -> dict[str, float]:
    """Write the file, measure idle / stream / whole in subprocesses; print and return."""
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        path = Path(tmp) / "contacts.parquet"
        t0 = time.perf_counter()
        write_file(path, n_rows)
        written = time.perf_counter() - t0
        file_mb = path.stat().st_size / 1e6
        idle = measure("idle", path)
        stream = measure("stream", path)
        whole = measure("whole", path)
    above_stream = stream["peak_rss_mb"] - idle["peak_rss_mb"]
    above_whole = whole["peak_rss_mb"] - idle["peak_rss_mb"]
    out: dict[str, float] = {
        "rows": float(n_rows),
        "parquet_mb": file_mb,
        "frame_mb": whole["frame_mb"],
        "idle_rss_mb": idle["peak_rss_mb"],
        "stream_peak_rss_mb": stream["peak_rss_mb"],
        "stream_above_idle_mb": above_stream,
        "stream_s": stream["seconds"],
        "whole_peak_rss_mb": whole["peak_rss_mb"],
        "whole_above_idle_mb": above_whole,
        "whole_s": whole["seconds"],
        "stream_vs_whole": above_stream / above_whole if above_whole else 0.0,
        "bodies": float(stream["bodies"]),
        "same_bytes": float(stream["body_mb_total"] == whole["body_mb_total"]),
    }
    print(f"stream a {n_rows:,}-row Parquet file ({file_mb:.0f} MB, written in {written:.0f} s)")
    print(f"  through validate + encode, {CHUNK:,}-row bodies, peak RSS per subprocess:")
    print(f"  idle interpreter              {idle['peak_rss_mb']:8.0f} MB")
    print(
        f"  streamed (iter_batches)       {stream['peak_rss_mb']:8.0f} MB "
        f"(+{above_stream:.0f} MB, {stream['seconds']:.0f} s)"
    )
    print(
        f"  whole (read_parquet)          {whole['peak_rss_mb']:8.0f} MB "
        f"(+{above_whole:.0f} MB, {whole['seconds']:.0f} s; the frame alone "
        f"{whole['frame_mb']:.0f} MB)"
    )
    print(f"  streamed / whole (above idle) {out['stream_vs_whole']:8.2f}")
    print(f"  same bodies: {bool(out['same_bytes'])} ({stream['bodies']} bodies)")
    # The slope at a fifth and four fifths of the run's size (1M -> 4M by default).
    out |= slope(max(1, n_rows // 5), max(2, 4 * n_rows // 5))
    # The same for an import against the emulator, at a twentieth and a fifth of the size.
    out |= import_slope(max(1, n_rows // 20), max(2, n_rows // 5))
    return out


if __name__ == "__main__":
    run()
