"""Run every benchmark and print its figures: ``python -m benchmarks [name ...] [--rows N]``.

Each ``bench_*.py`` module has ``run(n_rows=...) -> dict``; figures are ratios
against a baseline measured in the same run, never absolute timings to assert.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("only", nargs="*", help=f"a subset of: {', '.join(names)}")
    parser.add_argument("--rows", type=int, default=None, help="rows per benchmark")
    args = parser.parse_args(argv)
    results = {}
    for name in names:
        if args.only and not any(o in name for o in args.only):
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n### {name}", flush=True)
        kwargs = {} if args.rows is None else {"n_rows": args.rows}
        results[name] = module.run(**kwargs)
    print("\n### all figures")
    print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
