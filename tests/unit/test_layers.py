"""The package's layers hold: nothing imports the package root, frames never import the wire,
no module imports another's private names.

`make test` runs `lint-imports` too; this test keeps the rule visible where tests are read, and adds
the rules import-linter cannot express: no module of the package imports the package root
(``mailtrap_pandas/__init__.py``), which would load the accessor and every pipeline; and what two
modules share is a public name of the module that owns it, never a ``_private`` one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

import mailtrap_pandas

PACKAGE = Path(mailtrap_pandas.__file__).parent


def test_no_module_imports_the_package_root() -> None:
    graph = grimp.build_graph("mailtrap_pandas")
    importers = graph.find_modules_that_directly_import("mailtrap_pandas")
    assert importers == set(), f"these modules import the package root: {sorted(importers)}"


def test_frames_never_reach_the_network() -> None:
    graph = grimp.build_graph("mailtrap_pandas", include_external_packages=True)
    frames = graph.find_descendants("mailtrap_pandas.frames")
    wire = {"mailtrap_pandas.api", *graph.find_descendants("mailtrap_pandas.api")}
    wire |= {"requests", "mailtrap_pandas.jobs"}
    reached = {
        (m, dep)
        for m in frames
        for dep in graph.find_modules_directly_imported_by(m)
        if dep in wire or dep.startswith(("mailtrap_pandas.api.", "mailtrap_pandas.jobs."))
    }
    assert reached == set()


def test_no_module_imports_another_modules_private_names() -> None:
    private = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if not (node.level or (node.module or "").startswith("mailtrap_pandas")):
                continue  # a third-party import
            private += [
                f"{path.relative_to(PACKAGE)}:{node.lineno} {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    assert private == []
