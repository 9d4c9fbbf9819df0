"""The package's layers hold: nothing imports the package root, frames never import the wire.

`make test` runs `lint-imports` too; this test keeps the rule visible where tests are read, and adds
the one rule import-linter cannot express: no module of the package imports the package root
(``mailtrap_pandas/__init__.py``), which would load the accessor and every pipeline.
"""

from __future__ import annotations

import grimp


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
