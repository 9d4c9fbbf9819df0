"""Sources beyond pandas: a DuckDB query and a polars frame, against the pandas/Parquet paths.

Run: ``.venv/bin/python -m benchmarks bench_sources`` (or ``make bench``).

The same 5,000,000-row Parquet file as :mod:`benchmarks.bench_stream` (email + 6 typed
fields, ~10% missing). Each measurement runs ``to_import_payloads`` (validate + encode,
bodies dropped once "sent": the client side of ``import_contacts``) in its own SUBPROCESS,
so its peak RSS is that of the work alone:

- ``parquet``: the Parquet path, streamed with ``iter_batches`` (the reference);
- ``duckdb``: ``duckdb.sql("SELECT * FROM read_parquet(...)")`` as the source: an Arrow
  stream read in ``chunk_size`` batches. Target: peak RSS within 1.2x of ``parquet``;
- ``pandas`` / ``polars``: the same rows loaded whole first (``pd.read_parquet`` /
  ``pl.read_parquet``), then handed to the importer. The loading is not timed. Targets:
  polars bodies no slower than pandas bodies (same run), and no full pandas copy of the
  polars frame. The polars frame is handed over as pandas columns over its Arrow export:
  numbers and dates are not copied, text is copied once inside Arrow (polars'
  ``string_view`` -> ``large_string``). Its growth above the loaded frame is compared
  with the pandas path's; a streamed import (Parquet, DuckDB) is the low-memory path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_stream import CHUNK, FIELDS, write_file

CHILD = (
    r"""
import json, sys, time
mode, path, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
from benchmarks._measure import PeakRSS
import psutil
peak = PeakRSS().__enter__()
import pandas as pd, pyarrow as pa
from mailtrap_pandas import Client
from mailtrap_pandas.jobs.imports.run import to_import_payloads
client = Client("bench", account_id=1, base_url="http://127.0.0.1:9", rate_limit=None)
out = {"mode": mode}
if mode == "duckdb":
    import duckdb
    source = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
elif mode == "polars":
    import polars as pl
    source = pl.read_parquet(path)
elif mode == "pandas":
    source = pd.read_parquet(path, dtype_backend="numpy_nullable")
    out["frame_mb"] = float(source.memory_usage(deep=True).sum()) / 1e6
else:
    source = path
out["loaded_rss_mb"] = psutil.Process().memory_info().rss / 1e6
t0 = time.perf_counter()
bodies = bytes_ = 0
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


def measure(mode: str, path: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), json.dumps(FIELDS)],
        cwd=Path(__file__).resolve().parents[1],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(n_rows: int = 5_000_000) -> dict[str, float]:
    """Write the file, measure the four sources in subprocesses; print and return."""
    with tempfile.TemporaryDirectory(prefix="bench-sources-") as tmp:
        path = Path(tmp) / "contacts.parquet"
        t0 = time.perf_counter()
        write_file(path, n_rows)
        written = time.perf_counter() - t0
        got = {mode: measure(mode, path) for mode in ("parquet", "duckdb", "pandas", "polars")}
    pq_, duck, pd_, pl_ = (got[m] for m in ("parquet", "duckdb", "pandas", "polars"))
    pl_above = pl_["peak_rss_mb"] - pl_["loaded_rss_mb"]
    pd_above = pd_["peak_rss_mb"] - pd_["loaded_rss_mb"]
    out: dict[str, float] = {
        "rows": float(n_rows),
        "parquet_peak_rss_mb": pq_["peak_rss_mb"],
        "duckdb_peak_rss_mb": duck["peak_rss_mb"],
        "duckdb_vs_parquet_peak": duck["peak_rss_mb"] / pq_["peak_rss_mb"],
        "parquet_s": pq_["seconds"],
        "duckdb_s": duck["seconds"],
        "pandas_s": pd_["seconds"],
        "polars_s": pl_["seconds"],
        "polars_vs_pandas_time": pl_["seconds"] / pd_["seconds"],
        "pandas_frame_mb": pd_["frame_mb"],
        "pandas_peak_above_loaded_mb": pd_above,
        "polars_peak_above_loaded_mb": pl_above,
        "polars_above_vs_pandas_above": pl_above / pd_above,
        "same_bytes": float(
            len({round(g["body_mb_total"], 6) for g in got.values()}) == 1
            and len({g["bodies"] for g in got.values()}) == 1
        ),
    }
    print(f"{n_rows:,} rows ({written:.0f} s to write), {CHUNK:,}-row bodies, per subprocess:")
    print(
        f"  Parquet path (iter_batches)   peak {pq_['peak_rss_mb']:7.0f} MB, "
        f"{pq_['seconds']:5.1f} s"
    )
    print(
        f"  DuckDB query (Arrow stream)   peak {duck['peak_rss_mb']:7.0f} MB, "
        f"{duck['seconds']:5.1f} s   -> {out['duckdb_vs_parquet_peak']:.2f}x the Parquet peak"
    )
    print(
        f"  pandas frame, loaded whole    {pd_['loaded_rss_mb']:7.0f} MB loaded, peak "
        f"{pd_['peak_rss_mb']:.0f} MB (+{pd_above:.0f}), {pd_['seconds']:5.1f} s "
        f"(the frame alone {pd_['frame_mb']:.0f} MB)"
    )
    print(
        f"  polars frame, loaded whole    {pl_['loaded_rss_mb']:7.0f} MB loaded, peak "
        f"{pl_['peak_rss_mb']:.0f} MB (+{pl_above:.0f}), {pl_['seconds']:5.1f} s "
        f"-> {out['polars_vs_pandas_time']:.2f}x the pandas time, "
        f"{out['polars_above_vs_pandas_above']:.2f}x its growth"
    )
    print(f"  same bodies from all four: {bool(out['same_bytes'])} ({pq_['bodies']} bodies)")
    return out


if __name__ == "__main__":
    run()
