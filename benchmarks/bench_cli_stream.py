"""Peak memory of the CLI on a 5,000,000-row CSV: streamed vs the whole-file read it replaced.

Run: ``.venv/bin/python -m benchmarks bench_cli_stream`` (or ``make bench``).

The file (email + 6 text columns as a CRM export has them, with a byte-order
mark and CRLF line ends, ~10% empty cells) is written to a temporary folder.
An emulator serving the field definitions runs in this process; each
measurement runs in its own SUBPROCESS, so its peak RSS is that of the work
alone (sampled by :class:`benchmarks._measure.PeakRSS`):

- ``validate``: ``mailtrap-pandas validate FILE`` through the CLI's own
  ``main()``: the file is read in batches by the library's reader
  (``jobs.sources.open_source``) and validated batch by batch.
- ``dry_run``: ``mailtrap-pandas import FILE --dry-run``: validation plus the
  exact request bodies, streamed (the client side of ``import FILE``; the
  submit/poll loop adds no per-row state, see ``bench_stream``).
- ``whole``: what ``validate`` did before: ``read_frame`` of the whole file,
  then ``validate`` of that frame.
- ``idle``: the interpreter with pandas, pyarrow and the package imported.

Only the field definitions are fetched (one GET); nothing is sent. Streams
remember every valid email as a 64-bit hash for cross-batch dedupe (16 bytes
an email), so the streamed peak still grows a little with the row count.
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

FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Company", "data_type": "text", "merge_tag": "company"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Signup", "data_type": "date", "merge_tag": "signup"},
]
_BATCH = 250_000  # rows generated at a time while writing the file

CHILD = r"""
import json, sys, time, io, contextlib
mode, path = sys.argv[1], sys.argv[2]
from benchmarks._measure import PeakRSS
peak = PeakRSS().__enter__()
import pandas as pd, pyarrow as pa
from mailtrap_pandas.api.client import Client
from mailtrap_pandas.cli import main
from mailtrap_pandas.frames.files import read_frame
from mailtrap_pandas.jobs.validation import validate
out = {"mode": mode}
t0 = time.perf_counter()
if mode == "whole":
    df = read_frame(path)
    out["frame_mb"] = float(df.memory_usage(deep=True).sum()) / 1e6
    with Client() as client:
        report = validate(df, client)
    out["rows"] = report.n_rows
elif mode != "idle":
    args = ["--no-progress", "--json", "validate", path]
    if mode == "dry_run":
        args = ["--no-progress", "--json", "import", path, "--dry-run"]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            main(args)
        except SystemExit as exc:
            out["exit"] = exc.code
    out["rows"] = json.loads(buf.getvalue())["rows"]
out["seconds"] = time.perf_counter() - t0
peak.__exit__()
out["peak_rss_mb"] = peak.peak / 1e6
print(json.dumps(out))
"""


def write_file(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write ``n_rows`` contacts as a UTF-8-with-BOM, CRLF CSV, a batch at a time."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = np.array(["Ann", "Bob", 'Zoë "Z"', "Łukasz", "Mary-Jane", "O'Neil", "李", "x,y"])
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        for start in range(0, n_rows, _BATCH):
            n = min(_BATCH, n_rows - start)
            days = rng.integers(0, 20_000, n)
            frame = pd.DataFrame(
                {
                    "Email": [f"User{i}@Example.com" for i in range(start, start + n)],
                    "First Name": names[rng.integers(0, len(names), n)],
                    "Company": np.char.add("Company ", rng.integers(0, 10**6, n).astype(str)),
                    "Age": rng.integers(18, 90, n).astype(str),
                    "Score": np.round(rng.random(n), 4).astype(str),
                    "VIP": np.where(rng.random(n) < 0.3, "yes", "no"),
                    "Signup": (np.datetime64("1970-01-01") + days)
                    .astype("datetime64[D]")
                    .astype(str),
                }
            )
            for col in frame.columns[1:]:
                frame.loc[rng.random(n) < 0.1, col] = ""
            frame.to_csv(fh, index=False, header=start == 0, lineterminator="\r\n")


def measure(mode: str, path: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)],
        cwd=Path(__file__).resolve().parents[1],  # the child imports benchmarks._measure
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(n_rows: int = 5_000_000) -> dict[str, float]:
    """Write the file, measure idle / validate / dry_run / whole in subprocesses; print, return."""
    import os

    from mailtrap_pandas.emulator import Emulator

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp, Emulator() as emu:
        emu.seed(fields=FIELDS)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRAP_")}
        env |= {
            "MAILTRAP_API_TOKEN": emu.token,
            "MAILTRAP_BASE_URL": emu.url,
            "MAILTRAP_ACCOUNT_ID": str(emu.account_id),
        }
        path = Path(tmp) / "contacts.csv"
        t0 = time.perf_counter()
        write_file(path, n_rows)
        written = time.perf_counter() - t0
        file_mb = path.stat().st_size / 1e6
        idle = measure("idle", path, env)
        validate = measure("validate", path, env)
        dry_run = measure("dry_run", path, env)
        whole = measure("whole", path, env)
    assert validate["rows"] == dry_run["rows"] == whole["rows"] == n_rows
    base = idle["peak_rss_mb"]
    out: dict[str, float] = {
        "rows": float(n_rows),
        "csv_mb": file_mb,
        "frame_mb": whole["frame_mb"],
        "idle_rss_mb": base,
        "validate_peak_rss_mb": validate["peak_rss_mb"],
        "validate_s": validate["seconds"],
        "dry_run_peak_rss_mb": dry_run["peak_rss_mb"],
        "dry_run_s": dry_run["seconds"],
        "whole_peak_rss_mb": whole["peak_rss_mb"],
        "whole_s": whole["seconds"],
        "validate_vs_whole": (validate["peak_rss_mb"] - base) / (whole["peak_rss_mb"] - base),
        "dry_run_vs_whole": (dry_run["peak_rss_mb"] - base) / (whole["peak_rss_mb"] - base),
    }
    print(
        f"the CLI on a {n_rows:,}-row CSV ({file_mb:.0f} MB, BOM + CRLF, "
        f"written in {written:.0f} s)"
    )
    print("  peak RSS per subprocess (above idle):")
    print(f"  idle interpreter                     {base:8.0f} MB")
    for label, fig in (
        ("validate FILE (streamed)", validate),
        ("import FILE --dry-run (streamed)", dry_run),
        ("whole file: read_frame + validate", whole),
    ):
        print(
            f"  {label:36s} {fig['peak_rss_mb']:8.0f} MB "
            f"(+{fig['peak_rss_mb'] - base:.0f} MB, {fig['seconds']:.0f} s)"
        )
    print(f"  the whole frame alone                {whole['frame_mb']:8.0f} MB")
    print(f"  validate streamed / whole (above idle) {out['validate_vs_whole']:6.2f}")
    print(f"  dry run streamed / whole (above idle)  {out['dry_run_vs_whole']:6.2f}")
    return out


if __name__ == "__main__":
    run()
