"""``make mutation``: mutmut 3 on the core modules, one module at a time, and a per-module table.

The modules and the tests that judge each one are in ``pyproject.toml``
(``[tool.mailtrap-pandas.mutation]``); mutmut's own settings (fork-server isolation, the pytest
arguments) are in ``[tool.mutmut]``. Each module runs in its own child process with a fresh
``mutants/`` folder, mutating only that module and running only its tests, so a slow
integration test that happens to call ``encode`` does not run for every ``encode`` mutant.

mutmut maps tests to functions by recording calls in the test process; code run in a child
process (``subprocess``, ``multiprocessing``) is invisible to it. The ``processes`` tests of a
module are therefore attached to every function of that module after mutmut's stats run.
They see the mutant because the children inherit ``MUTANT_UNDER_TEST`` and import the package
from ``mutants/`` (their working directory, and ``PYTHONPATH``).

Usage: ``python scripts/mutation.py [MODULE ...] [--max-children N]`` (default: every module).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".mutation"
GOAL = 90.0


def _modules() -> dict[str, dict[str, Any]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    modules: dict[str, dict[str, Any]] = data["tool"]["mailtrap-pandas"]["mutation"]["modules"]
    return modules


def _run_one(name: str, spec: dict[str, Any], max_children: int, again: list[str]) -> None:
    """In a child process: mutate one module and run its tests (``again``: those mutants only,
    and the mutants of functions changed since the last run)."""
    import mutmut.__main__ as mm
    from mutmut.configuration import config
    from mutmut.state import state

    path = spec["path"]
    tests: list[str] = list(spec["tests"])
    processes: list[str] = list(spec.get("processes", []))
    cfg = config()
    cfg.only_mutate = [path]
    cfg.debug = bool(os.environ.get("MUTATION_DEBUG"))
    cfg.pytest_add_cli_args_test_selection = tests + processes
    module = path.removesuffix(".py").replace("/", ".")

    original = mm.collect_or_load_stats

    def collect_then_attach(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        st = state()
        # A function of the module that only runs in a child process has no test at all
        # in mutmut's mapping, and one that runs in both has only the in-process ones.
        chosen = [t for t in st.duration_by_test if any(t.startswith(p) for p in processes)]
        functions = {f for f in st.current_function_hashes if f.startswith(module + ".")}
        for function in functions:
            st.tests_by_mangled_function_name[function].update(chosen)

    make_runner = mm.get_mutant_runner

    def runner_fastest_first(*args: Any, **kwargs: Any) -> Any:
        # pytest runs the given tests in order and stops at the first failure (-x): with the
        # fast unit tests first, a mutant they kill never waits for the multi-process ones.
        runner = make_runner(*args, **kwargs)
        submit = runner.submit

        def submit_sorted(name: str, tests: list[str], *rest: Any) -> None:
            durations = state().duration_by_test
            submit(name, sorted(tests, key=lambda t: (durations.get(t, 0.0), t)), *rest)

        runner.submit = submit_sorted
        return runner

    collect_mutants = mm.collect_source_file_mutation_data

    def collect_again(*, mutant_names: Any) -> Any:
        # mutmut runs the mutants without a result; forgetting the survivors' results makes
        # it run them again (the mutants of changed functions have none already).
        mutants, by_path = collect_mutants(mutant_names=mutant_names)
        rerun = set(again)
        return [(m, key, None if key in rerun else code) for m, key, code in mutants], by_path

    mm.collect_source_file_mutation_data = collect_again  # type: ignore[assignment]
    mm.collect_or_load_stats = collect_then_attach  # type: ignore[assignment]
    mm.get_mutant_runner = runner_fastest_first  # type: ignore[assignment]
    mm._run([], max_children)


#: A statement of SQL, or a piece of one (a statement split over lines): its keywords and
#: identifiers are case-insensitive in SQLite. ``=?``: a parameter, never in English text.
_SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK|VALUES|WHERE"
    r"|EXCLUDED)\b|=\s*\?",
    re.I,
)
#: A quoted SQL literal (``'sending'``): its letter case matters.
_LITERAL = re.compile(r"'[^']*'")


def equivalent(diff: str) -> str | None:
    """Why a surviving mutant cannot change behaviour, or ``None`` if it may.

    Only one kind is recognised from the diff alone: the letter case of SQL changed and
    nothing else (SQLite reads ``insert into pauses`` as ``INSERT INTO pauses``). A quoted
    SQL literal (``'sending'``) on the line must be the same, letter for letter.
    """
    removed = [line[1:] for line in diff.splitlines() if line[:1] == "-" and line[:3] != "---"]
    added = [line[1:] for line in diff.splitlines() if line[:1] == "+" and line[:3] != "+++"]
    if not removed or len(removed) != len(added):
        return None
    for old, new in zip(removed, added, strict=True):
        if old == new or old.lower() != new.lower() or not _SQL.search(old):
            return None
        if _LITERAL.findall(old) != _LITERAL.findall(new):
            return None
    return "the letter case of a SQL statement, which SQLite ignores"


def _count(path: str) -> dict[str, Any]:
    """The module's mutants by status, and the names of those not killed."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    data = SourceFileMutationData(path=Path(path))
    data.load()
    counts: dict[str, int] = {}
    alive: list[str] = []
    rerun: list[str] = []
    for key, code in data.exit_code_by_key.items():
        status = status_by_exit_code[code]
        if status == "survived":
            why = equivalent(get_diff_for_mutant(key, path=path))
            if why is not None:
                status = "equivalent"
                alive.append(f"equivalent: {key} ({why})")
        counts[status] = counts.get(status, 0) + 1
        if status not in ("killed", "timeout", "equivalent"):
            alive.append(f"{status}: {key}")
            rerun.append(key)
    return {"counts": counts, "alive": alive, "rerun": rerun}


def _row(counts: dict[str, int]) -> tuple[int, int, int, int, int, float]:
    """mutants, killed, survived, equivalent, other (no tests, suspicious...), score.

    The score leaves the equivalent mutants out: no test can kill them.
    """
    total = sum(counts.values())
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    survived = counts.get("survived", 0)
    same = counts.get("equivalent", 0)
    other = total - killed - survived - same
    score = 100.0 * killed / (total - same) if total > same else 0.0
    return total, killed, survived, same, other, score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", nargs="*", help="module names from pyproject.toml")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument(
        "--again",
        action="store_true",
        help="reuse the last run of each module: test only its surviving mutants again, and"
        " those of changed functions (while writing tests; the table counts them all)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    modules = _modules()
    os.chdir(ROOT)

    if args.one:
        previous = RESULTS / f"{args.one}.json"
        again = json.loads(previous.read_text())["rerun"] if args.again else []
        _run_one(args.one, modules[args.one], args.max_children, again)
        (RESULTS / f"{args.one}.json").write_text(json.dumps(_count(modules[args.one]["path"])))
        return 0

    unknown = [m for m in args.module if m not in modules]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {sorted(modules)}")
    chosen = args.module or list(modules)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "mutants"))
    failed = []
    RESULTS.mkdir(exist_ok=True)
    for name in chosen:
        print(f"== {name} ({modules[name]['path']})", flush=True)
        mutants, kept = ROOT / "mutants", RESULTS / f"{name}.mutants"
        shutil.rmtree(mutants, ignore_errors=True)
        again = args.again and kept.exists() and (RESULTS / f"{name}.json").exists()
        if again:
            kept.rename(mutants)
        else:
            shutil.rmtree(kept, ignore_errors=True)
            (RESULTS / f"{name}.json").unlink(missing_ok=True)
            # Before the child starts: Python caches "no such folder" for a PYTHONPATH entry
            # that is missing at start-up, and would then import the unmutated package.
            mutants.mkdir()
        cmd = [sys.executable, __file__, "--one", name, "--max-children", str(args.max_children)]
        cmd += ["--again"] if again else []
        # mutmut's progress spinner would flood the terminal: its output goes to a log.
        log = RESULTS / f"{name}.log"
        with log.open("w") as out:
            code = subprocess.run(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
            ).returncode
        # Kept for `--again`; mutmut's own commands (`mutmut show NAME`) read it as mutants/.
        mutants.rename(kept)
        result = RESULTS / f"{name}.json"
        if code != 0 or not result.exists():
            print(f"   mutmut failed (exit {code}); see {log.relative_to(ROOT)}")
            failed.append(name)
            continue
        for line in json.loads(result.read_text())["alive"]:
            print(f"   {line}")

    print()
    print(f"| {'module':<10} | mutants | killed | survived | equivalent | other | score |")
    print(f"|{'-' * 12}|---------|--------|----------|------------|-------|-------|")
    below = []
    for name in chosen:
        result = RESULTS / f"{name}.json"
        if not result.exists():
            print(f"| {name:<10} | run failed |")
            continue
        total, killed, survived, same, other, score = _row(json.loads(result.read_text())["counts"])
        cells = (
            f"{total:>7} | {killed:>6} | {survived:>8} | {same:>10} | {other:>5} | {score:5.1f} %"
        )
        print(f"| {name:<10} | {cells} |")
        if score < GOAL:
            below.append(name)
    if below or failed:
        print(f"below {GOAL:.0f} %: {below}; failed runs: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
