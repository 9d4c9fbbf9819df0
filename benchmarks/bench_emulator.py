"""The emulator's bulk-import throughput: one 50,000-contact import, accepted and finished.

Issue 2 asks that such an import be accepted and finished "in a few seconds at
most" on these machines; this prints how long each stage takes over real HTTP.
"""

from __future__ import annotations

import time

import pandas as pd

from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.frames.encode import encode_chunks

FIELDS = {"first_name": "text", "age": "integer", "score": "float", "vip": "boolean"}


def body(n_rows: int) -> bytes:
    frame = pd.DataFrame(
        {
            "email": [f"user{i}@example.com" for i in range(n_rows)],
            "first_name": pd.array([f"Name {i}" for i in range(n_rows)], "string[pyarrow]"),
            "age": pd.array([i % 90 for i in range(n_rows)], "Int64"),
            "score": pd.array([i / 7 for i in range(n_rows)], "Float64"),
            "vip": pd.array([i % 3 == 0 for i in range(n_rows)], "boolean"),
        }
    )
    (chunk,) = encode_chunks(frame, FIELDS, chunk_size=n_rows)
    return chunk.body


def run(n_rows: int = 50_000) -> dict[str, float]:
    """Time accept (POST) and finish (polls) of one import of ``n_rows`` contacts."""
    n_rows = min(n_rows, 50_000)  # the API's cap per import
    payload = body(n_rows)
    out: dict[str, float] = {"rows": n_rows, "body_mb": len(payload) / 1e6}
    with Emulator(rate_limit=None) as emu:
        emu.seed(fields=[{"name": t, "data_type": d, "merge_tag": t} for t, d in FIELDS.items()])
        client = emu.client()
        for label in ("create", "update"):  # the second run upserts the same contacts
            t0 = time.perf_counter()
            job = client.imports.create(payload)
            accepted = time.perf_counter() - t0
            while job["status"] not in ("finished", "failed"):
                time.sleep(0.02)
                job = client.imports.get(job["id"])
            finished = time.perf_counter() - t0
            out[f"{label}_accepted_s"] = accepted
            out[f"{label}_finished_s"] = finished
            out[f"{label}_contacts_per_s"] = n_rows / finished
            print(
                f"  {label}: {n_rows:,} contacts ({out['body_mb']:.1f} MB) accepted in "
                f"{accepted:.2f} s, finished in {finished:.2f} s "
                f"({n_rows / finished:,.0f} contacts/s); status {job['status']}"
            )
    return out
