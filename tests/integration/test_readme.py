"""The README's Python blocks run against the emulator, and every CLI command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from mailtrap_pandas.cli import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_python_blocks_run_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"README.md python block {number}", "exec"), namespace)
            except Exception as exc:  # name the block that broke
                raise AssertionError(f"README python block {number} failed: {exc!r}") from exc
    finally:
        emu = namespace.get("emu")
        if emu is not None:
            emu.stop()  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert "ValidationReport" in out and "EventsResult(rows=1, sent=1" in out


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            paths += command_paths(command, path + " ")
        else:
            paths.append(path)
    return paths


def test_every_cli_command_is_in_the_readme() -> None:
    paths = command_paths(cli)
    assert len(paths) >= 15
    missing = [p for p in paths if not re.search(rf"\b{re.escape(p)}\b", README)]
    assert not missing, f"not documented in README.md: {missing}"
