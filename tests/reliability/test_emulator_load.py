"""The emulator under load: 8 concurrent clients x 500 mixed requests, rate limit off."""

from __future__ import annotations

import statistics
import threading
import time

from mailtrap_pandas import APIError
from mailtrap_pandas.emulator import Emulator

CLIENTS = 8
REQUESTS_EACH = 500


def test_concurrent_clients_lose_nothing() -> None:
    with Emulator(rate_limit=None) as emu:
        setup = emu.client()
        setup.fields.create("Score", "integer", "score")
        shared_list = setup.lists.create("Shared")
        latencies: list[float] = []
        errors: list[BaseException] = []
        created: list[int] = [0] * CLIENTS
        lock = threading.Lock()

        def worker(n: int) -> None:
            client = emu.client()
            mine: list[float] = []
            try:
                for i in range(REQUESTS_EACH):
                    start = time.perf_counter()
                    kind = i % 5
                    email = f"w{n}-{i // 5}@example.com"
                    if kind == 0:
                        client.contacts.create(
                            email, fields={"score": i}, list_ids=[shared_list["id"]]
                        )
                        created[n] += 1
                    elif kind == 1:
                        assert client.contacts.get(email)["fields"]["score"] == i - 1
                    elif kind == 2:
                        client.contacts.upsert(email, fields={"score": i})
                    elif kind == 3:
                        client.lists.list()
                    else:
                        client.fields.list()
                    mine.append(time.perf_counter() - start)
            except (APIError, AssertionError) as exc:
                errors.append(exc)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(CLIENTS)]
        wall = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall

        assert not errors, errors[:3]
        state = emu.state()
        assert not any(code.startswith("5") for code in state["responses"]), state["responses"]
        assert state["contacts"] == sum(created) == CLIENTS * REQUESTS_EACH // 5
        assert state["requests"] >= CLIENTS * REQUESTS_EACH
        for n in range(CLIENTS):  # the last upsert of every contact survived
            contact = setup.contacts.get(f"w{n}-0@example.com")
            assert contact["fields"]["score"] == 2
            assert contact["list_ids"] == [shared_list["id"]]
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"\nemulator load: {len(latencies)} requests from {CLIENTS} clients in {wall:.2f}s "
            f"({len(latencies) / wall:.0f} req/s); p50 {cuts[49] * 1000:.1f} ms, "
            f"p99 {cuts[98] * 1000:.1f} ms"
        )
