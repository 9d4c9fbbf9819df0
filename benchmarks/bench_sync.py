"""Incremental sync of 1,000,000 rows with 1 % changed: rows sent, requests, client CPU time.

Run: ``.venv/bin/python -m benchmarks sync`` (or ``make bench``; ``--rows N`` for a smaller run).

The emulator runs in its own PROCESS (``mailtrap-pandas emulator``), so the CPU time of this
process is the client's alone: validating, hashing, comparing with the state, encoding and
the HTTP calls, never the server's work or a poll's sleep. Figures (issue 13 targets):

- ``second_sent`` / ``second_jobs`` / ``second_requests``: a second sync after changing 1 % of
  the rows sends exactly those rows in 1 import and <= 6 requests.
- ``client_vs_validate``: the second sync's client CPU time over the CPU time of validating
  the same frame alone (``frames.validate``): <= 1.2.
- ``first_vs_import_plus_export``: requests of a first sync (which reconciles with one export)
  over the requests of ``import_contacts`` of the same rows plus those of one export: <= 1.

Measured 2026-12-01 on the shared 2-core machine (load ~6), 1,000,000 rows x 8 fields:
first sync 44 requests vs import 41 + export 12 (0.83); second sync sent exactly the 10,000
changed rows in 1 import and 3 requests; client CPU 1.28 s vs validation alone 1.30 s: 0.98x
(1.80x before unchanged rows skipped validation). Where it goes now: hashing the raw rows
(~0.55 s: SipHash of each string value, pandas needs Python strings) and their emails (~0.25
s), looking them up in the state, then validating, encoding and sending the 1 % that changed
and writing their hashes (every bucket of the state is rewritten: ~0.2 s).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_validate import FIELDS, make_frame
from mailtrap_pandas import Client, import_contacts, read_export, sync
from mailtrap_pandas.frames.validate import validate

TOKEN = "emulator-token"  # the emulator command's default
ACCOUNT = 1000001


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Emulator:
    """``mailtrap-pandas emulator`` in a subprocess, seeded with the benchmark's fields."""

    def __init__(self) -> None:
        self.port = _free_port()
        exe = Path(sys.executable).parent / "mailtrap-pandas"
        self.proc = subprocess.Popen(
            [str(exe), "emulator", "--port", str(self.port), "--rate-limit", "off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.05)
        with self.client() as client:
            for f in FIELDS:
                client.fields.create(f["name"], f["data_type"], f["merge_tag"])

    def client(self) -> Client:
        return Client(TOKEN, account_id=ACCOUNT, base_url=self.url, rate_limit=None)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _cpu(fn: Any) -> tuple[Any, float, float]:
    """(result, CPU seconds of this process, wall seconds)."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def run(n_rows: int = 1_000_000) -> dict[str, float]:
    """Import, first sync, second sync with 1 % changed; print and return the figures."""
    df = make_frame(n_rows, clean=True)
    changed = df.copy()
    rng = np.random.default_rng(1)
    n_changed = max(1, n_rows // 100)
    rows = np.sort(rng.choice(n_rows, n_changed, replace=False))
    changed.loc[rows, "visits"] = changed.loc[rows, "visits"].fillna(0) + 100_000

    # Baseline requests: import_contacts of the same rows, on a fresh account.
    emu = _Emulator()
    try:
        with emu.client() as client:
            imported = import_contacts(df, client, journal=False, progress=False)
            before = client.stats["requests"]
            read_export(client, progress=False)
            export_requests = client.stats["requests"] - before
    finally:
        emu.stop()

    emu = _Emulator()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp, emu.client() as client:
            journal = Path(tmp) / "store.sqlite"
            first, first_cpu, first_wall = _cpu(
                lambda: sync(df, client, journal=journal, progress=False)
            )
            specs = client.fields.list()
            _, validate_cpu, _ = _cpu(lambda: validate(changed, fields=specs))
            second, second_cpu, second_wall = _cpu(
                lambda: sync(changed, client, journal=journal, progress=False)
            )
    finally:
        emu.stop()
    exact = bool(np.array_equal(np.sort(np.asarray(second.sent)), rows))
    out: dict[str, float] = {
        "rows": float(n_rows),
        "changed": float(n_changed),
        "import_requests": float(imported.requests),
        "export_requests": float(export_requests),
        "first_requests": float(first.requests),
        "first_sent": float(len(first.sent)),
        "first_wall_s": first_wall,
        "first_vs_import_plus_export": first.requests / (imported.requests + export_requests),
        "second_sent": float(len(second.sent)),
        "second_exact_rows": float(exact),
        "second_jobs": float(len(second.jobs)),
        "second_requests": float(second.requests),
        "second_client_cpu_s": second_cpu,
        "second_wall_s": second_wall,
        "validate_cpu_s": validate_cpu,
        "client_vs_validate": second_cpu / validate_cpu,
    }
    print(f"sync {n_rows:,} rows x {len(FIELDS)} fields, then again with {n_changed:,} changed")
    print(
        f"  first sync:  {first.requests} requests (import_contacts {imported.requests} + one "
        f"export {export_requests}); {len(first.sent):,} sent in {first_wall:.0f} s"
    )
    print(
        f"  second sync: {len(second.sent):,} sent (exactly the changed rows: {exact}), "
        f"{len(second.jobs)} import, {second.requests} requests, {second_wall:.1f} s wall"
    )
    print(
        f"  client CPU {second_cpu:.2f} s vs validating alone {validate_cpu:.2f} s: "
        f"{out['client_vs_validate']:.2f}x (target <= 1.2)"
    )
    return out


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    run()
