"""Check that pyproject.toml's lower bounds are exactly what this environment has installed.

``make test-lowest`` runs it with the interpreter of the environment that
``uv pip install --resolution lowest-direct`` built. A floor below the version
the resolver had to pick is a promise no run tests; this makes it fail loudly.
Only ``>=`` bounds of the runtime dependencies and of the ``dev`` and ``excel``
extras are checked (``bench`` is never installed at its floor).

Exit status 0 when every floor matches, 1 otherwise (each mismatch printed).
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
EXTRAS = ("dev", "excel")


def floors(pyproject: Path = PYPROJECT) -> dict[str, Version]:
    """Each checked requirement's name -> its ``>=`` bound (unbounded ones are an error)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in EXTRAS:
        specs += project["optional-dependencies"][extra]
    out: dict[str, Version] = {}
    for text in specs:
        req = Requirement(text)
        bounds = [Version(s.version) for s in req.specifier if s.operator == ">="]
        if len(bounds) != 1:
            raise SystemExit(f"pyproject.toml: {text!r} needs exactly one '>=' lower bound")
        out[req.name] = bounds[0]
    return out


def main() -> int:
    """Compare every floor with the installed version; print mismatches."""
    bad = 0
    for name, floor in sorted(floors().items()):
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            print(f"{name}: not installed (floor {floor})")
            bad += 1
            continue
        if installed != floor:
            print(f"{name}: floor {floor} but the lowest resolution installed {installed}")
            bad += 1
    if bad:
        print(f"{bad} floor(s) in pyproject.toml do not match the lowest run", file=sys.stderr)
        return 1
    print(f"all {len(floors())} floors in pyproject.toml are what the lowest run installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
