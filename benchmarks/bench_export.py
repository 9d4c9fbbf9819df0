"""Parse a 1,000,000-row export file into the typed frame: ours vs pandas, one process.

Run: ``.venv/bin/python -m benchmarks.bench_export`` (or ``make bench``).

The file is written in the documented (emulator) layout: gzip CSV, built-in
columns then 8 custom fields of mixed types, ~10% missing values per field,
text with commas, quotes, newlines and leading zeros.

The baseline is what a careful analyst writes by hand: ``pandas.read_csv`` with
``compression="gzip"`` (reading every column as text and only empty cells as
missing, else "00501" and "NULL" would be lost), then ``astype`` per column,
``str.split`` + ``int`` for the list ids and ``to_datetime(utc=True)`` for the
timestamps. Both frames must be equal before any figure is printed.
"""

from __future__ import annotations

import csv
import gc
import gzip
import io
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from benchmarks._measure import PeakRSS
from mailtrap_pandas.frames.dtypes import STATUS_DTYPE, contact_dtypes
from mailtrap_pandas.jobs.exports import read_export_file

FIELDS = [
    {"merge_tag": "first_name", "data_type": "text"},
    {"merge_tag": "zip", "data_type": "text"},
    {"merge_tag": "age", "data_type": "integer"},
    {"merge_tag": "visits", "data_type": "integer"},
    {"merge_tag": "score", "data_type": "float"},
    {"merge_tag": "ltv", "data_type": "float"},
    {"merge_tag": "vip", "data_type": "boolean"},
    {"merge_tag": "signup", "data_type": "date"},
]
TYPES = {f["merge_tag"]: f["data_type"] for f in FIELDS}


def write_file(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write an export file of ``n_rows`` contacts in the documented layout."""
    rng = np.random.default_rng(seed)

    def holes(cells: Any) -> list[str]:
        out = np.asarray(cells, dtype=object)
        out[rng.random(n_rows) < 0.1] = ""
        return list(out)

    names = np.array(["Ann", "Bob", 'Zoë "Z"', "Łukasz", "Smith, Jr.", "a\nb", "李", "NULL"])
    epoch_ms = 1_600_000_000_000 + rng.integers(0, 10**11, n_rows)
    stamps = (
        pd.to_datetime(epoch_ms, unit="ms", utc=True).strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]
        + "Z"
    )
    n_lists = rng.integers(0, 4, n_rows)
    lists = [";".join(map(str, sorted(rng.choice(50, k, replace=False)))) for k in n_lists]
    days = rng.integers(-20_000, 20_000, n_rows).astype("timedelta64[D]")
    columns = {
        "id": [f"01a2165c-751a-7da2-8906-{i:012x}" for i in range(n_rows)],
        "email": [f"user{i}@example.com" for i in range(n_rows)],
        "status": np.where(rng.random(n_rows) < 0.9, "subscribed", "unsubscribed"),
        "list_ids": lists,
        "created_at": list(stamps),
        "updated_at": list(stamps),
        "first_name": holes(names[rng.integers(0, len(names), n_rows)]),
        "zip": holes(np.char.zfill(rng.integers(0, 99_999, n_rows).astype(str), 5)),
        "age": holes(rng.integers(18, 90, n_rows).astype(str)),
        "visits": holes(rng.integers(-(2**62), 2**62, n_rows).astype(str)),
        "score": holes([repr(v) for v in rng.random(n_rows).tolist()]),
        "ltv": holes([repr(v) for v in rng.normal(100, 50, n_rows).round(2).tolist()]),
        "vip": holes(np.where(rng.random(n_rows) < 0.3, "true", "false")),
        "signup": holes((np.datetime64("1970-01-01") + days).astype(str)),
    }
    with gzip.open(path, "wb", compresslevel=6) as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))
        text.flush()
        text.detach()


def baseline(path: Path) -> pd.DataFrame:
    """pandas.read_csv then a straightforward, correct conversion to the same dtypes."""
    raw = pd.read_csv(path, compression="gzip", dtype=str, keep_default_na=False, na_values=[""])
    out = pd.DataFrame(index=raw.index)
    out["email"] = raw["email"].astype("string[pyarrow]")
    out["id"] = raw["id"].astype("string[pyarrow]")
    out["status"] = raw["status"].astype(STATUS_DTYPE)
    out["list_ids"] = pd.Series(
        raw["list_ids"].fillna("").str.split(";").map(lambda ids: [int(i) for i in ids if i]),
        dtype=pd.ArrowDtype(pa.list_(pa.int64())),
    )
    for col in ("created_at", "updated_at"):
        out[col] = pd.to_datetime(raw[col], utc=True, format="ISO8601").astype(
            "datetime64[ms, UTC]"
        )
    for tag, data_type in TYPES.items():
        col = raw[tag]
        if data_type == "text":
            out[tag] = col.astype("string[pyarrow]")
        elif data_type == "integer":
            out[tag] = col.astype("Int64")
        elif data_type == "float":
            out[tag] = col.astype("Float64")
        elif data_type == "boolean":
            out[tag] = col.map({"true": True, "false": False}).astype("boolean")
        else:
            out[tag] = pd.to_datetime(col, format="%Y-%m-%d").dt.date.astype(
                pd.ArrowDtype(pa.date32())
            )
    return out


def _frame_mb(df: pd.DataFrame) -> float:
    return float(df.memory_usage(deep=True).sum()) / 1e6


def run(n_rows: int = 1_000_000) -> dict[str, float]:
    """Write the file, time both readers on it, check equal frames, print the ratio."""
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        path = Path(tmp) / "export.csv.gz"
        t0 = time.perf_counter()
        write_file(path, n_rows)
        write_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6

        gc.collect()
        pa.default_memory_pool().release_unused()
        t0 = time.perf_counter()
        with PeakRSS() as mem:
            ours = read_export_file(path, fields=FIELDS)
        ours_s = time.perf_counter() - t0
        ours_peak = (mem.peak - mem.base) / 1e6

        gc.collect()
        t0 = time.perf_counter()
        with PeakRSS() as mem:
            theirs = baseline(path)
        base_s = time.perf_counter() - t0
        base_peak = (mem.peak - mem.base) / 1e6

    assert ours.dtypes.to_dict() == contact_dtypes(TYPES)
    pd.testing.assert_frame_equal(ours, theirs)
    frame_mb = _frame_mb(ours)
    out = {
        "rows": float(n_rows),
        "file_mb": size_mb,
        "ours_s": ours_s,
        "pandas_s": base_s,
        "speedup_vs_pandas": base_s / ours_s,
        "frame_mb": frame_mb,
        "ours_peak_rss_mb": ours_peak,
        "pandas_peak_rss_mb": base_peak,
        "equal_frames": 1.0,
    }
    print(
        f"parse a {n_rows:,}-row export ({size_mb:.1f} MB gzip, 6 built-in + 8 field columns; "
        f"written in {write_s:.1f} s)"
    )
    print(f"  ours (read_export_file)          {ours_s:8.2f} s   peak +{ours_peak:7.0f} MB")
    print(
        f"  pandas.read_csv + conversion     {base_s:8.2f} s   peak +{base_peak:7.0f} MB"
        f"   -> ours {out['speedup_vs_pandas']:.1f}x faster"
    )
    print(f"  typed frame {frame_mb:.0f} MB; frames equal (assert_frame_equal): True")
    return out


if __name__ == "__main__":
    run()
