"""Execute the notebooks against the emulator, render them to HTML, screenshot them.

``make screenshots`` runs this. It needs headless Chromium (Debian package
``chromium``) and writes into ``screenshots/`` (gitignored):

* ``<notebook>.html`` and ``<notebook>.png``: the whole executed notebook;
* ``<notebook>-<n>-<Class>.png``: a close-up of each rich object repr
  (``ValidationReport``, ``ImportResult``, ``Plan``, ...), the pictures to
  look at when changing a ``_repr_html_``.

The notebooks always run against their throwaway in-process emulator: any
``MAILTRAP_*`` variable is removed from the kernel's environment first.
nbconvert is used when installed; otherwise a small built-in renderer turns
the executed cells' ``text/html``, ``image/png`` and ``text/plain`` outputs
into one page.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01-quickstart.ipynb", "02-list-hygiene.ipynb"]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A repr of one of our result objects: "<ValidationReport ...>", "Plan(...)", ...
OBJECT_REPR = re.compile(r"^<?([A-Z][A-Za-z]+)[ (:]")

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       font-size: 14px; color: #212121; margin: 24px 40px; max-width: 1180px; }
h1 { font-size: 26px; } h2 { font-size: 20px; margin-top: 28px; }
.cell { margin: 10px 0; }
.input { display: flex; }
.prompt { width: 70px; flex: none; color: #303f9f; font-family: monospace; font-size: 12px;
          padding-top: 8px; text-align: right; padding-right: 8px; }
.out-prompt { color: #d84315; }
pre.code { flex: 1; background: #f5f5f5; border: 1px solid #e0e0e0; border-radius: 2px;
           padding: 6px 8px; margin: 0; font-size: 13px; white-space: pre-wrap; }
.output { display: flex; margin-top: 4px; }
.output-body { flex: 1; overflow-x: auto; }
pre.text { margin: 0; font-size: 13px; white-space: pre-wrap; }
pre.stderr { background: #fff5f5; margin: 0; font-size: 12px; white-space: pre-wrap; }
pre.error { background: #ffdddd; margin: 0; font-size: 12px; white-space: pre-wrap; }
.output-body table { border-collapse: collapse; font-size: 12px; margin: 4px 0; }
.output-body th, .output-body td { padding: 4px 8px; border: none; text-align: right;
                                   vertical-align: top; }
.output-body thead th, .output-body tr:first-child th { border-bottom: 1px solid #bdbdbd; }
.output-body tbody tr:nth-child(odd) { background: #f5f5f5; }
.output-body tbody tr:hover { background: rgba(66, 165, 245, 0.2); }
"""


def find_browser() -> str:
    """The Chromium executable, or exit with a message that says how to install it."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit(
        "screenshots: headless Chromium is needed but none of "
        f"{', '.join(BROWSERS)} is on PATH.\n"
        "Install it (Debian/Ubuntu): sudo apt-get install -y chromium"
    )


def execute(path: Path, workdir: Path) -> Any:
    """Run a notebook top to bottom in a fresh kernel, against the emulator."""
    import nbformat
    from nbclient import NotebookClient

    for name in [n for n in os.environ if n.startswith("MAILTRAP_")]:
        del os.environ[name]  # never a real account, whatever the shell has
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()
    return nb


def _markdown(source: str) -> str:
    """Just enough Markdown for our notebooks: headings, paragraphs, `code`."""
    out = []
    for block in re.split(r"\n\s*\n", source.strip()):
        text = html.escape(block.strip())
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
        text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
        heading = re.match(r"^(#{1,6})\s+(.*)", text)
        if heading:
            level = len(heading.group(1))
            out.append(f"<h{level}>{heading.group(2)}</h{level}>")
        else:
            out.append(f"<p>{text}</p>")
    return "\n".join(out)


def _output_html(output: Any) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        css = "stderr" if output.get("name") == "stderr" else "text"
        return f'<pre class="{css}">{html.escape(ANSI.sub("", output.get("text", "")))}</pre>'
    if kind == "error":
        trace = ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="error">{html.escape(trace)}</pre>'
    data = output.get("data", {})
    if "text/html" in data:
        return str(data["text/html"])
    if "image/png" in data:
        return f'<img src="data:image/png;base64,{data["image/png"]}">'
    return f'<pre class="text">{html.escape(str(data.get("text/plain", "")))}</pre>'


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>"
    )


def render(nb: Any, title: str) -> str:
    """The executed notebook as one HTML page (nbconvert's when installed)."""
    try:
        from nbconvert import HTMLExporter  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        body, _ = HTMLExporter().from_notebook_node(nb)
        return str(body)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cells.append(f'<div class="cell">{_markdown(cell.source)}</div>')
            continue
        if cell.cell_type != "code":
            continue
        n = cell.get("execution_count") or " "
        parts = [
            f'<div class="input"><div class="prompt">In [{n}]:</div>'
            f'<pre class="code">{html.escape(cell.source)}</pre></div>'
        ]
        for output in cell.get("outputs", []):
            prompt = f"Out[{n}]:" if output.get("output_type") == "execute_result" else ""
            parts.append(
                f'<div class="output"><div class="prompt out-prompt">{prompt}</div>'
                f'<div class="output-body">{_output_html(output)}</div></div>'
            )
        cells.append(f'<div class="cell">{"".join(parts)}</div>')
    return _page(title, "\n".join(cells))


def object_reprs(nb: Any) -> list[tuple[str, str]]:
    """(class name, text/html) of every output that is a rich repr of a non-frame object."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            plain = str(data.get("text/plain", ""))
            match = OBJECT_REPR.match(plain)
            if "text/html" in data and match:
                found.append((match.group(1), str(data["text/html"])))
    return found


def screenshot(browser: str, page: Path, png: Path, *, width: int, height: int) -> None:
    """One headless-Chromium screenshot of a local HTML file."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not png.exists():
        sys.exit(f"screenshots: chromium failed on {page.name}:\n{done.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=3000, help="of the whole-notebook shots")
    args = parser.parse_args(argv)
    browser = find_browser()
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in NOTEBOOKS:
        stem = Path(name).stem
        print(f"executing notebooks/{name} against the emulator ...", flush=True)
        with tempfile.TemporaryDirectory() as work:
            nb = execute(ROOT / "notebooks" / name, Path(work))
        errors = [
            o.get("ename", "")
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if o.get("output_type") == "error"
        ]
        page = args.out / f"{stem}.html"
        page.write_text(render(nb, stem), encoding="utf-8")
        shots = [args.out / f"{stem}.png"]
        screenshot(browser, page, shots[0], width=args.width, height=args.height)
        for i, (cls, fragment) in enumerate(object_reprs(nb), start=1):
            close = args.out / f"{stem}-{i}-{cls}.html"
            close.write_text(
                _page(cls, f'<div class="output-body">{fragment}</div>'), encoding="utf-8"
            )
            shots.append(args.out / f"{stem}-{i}-{cls}.png")
            screenshot(browser, close, shots[-1], width=args.width, height=700)
        for shot in shots:
            print(f"  wrote {shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}")
        if errors:
            print(f"  ERROR: {len(errors)} cell(s) raised: {', '.join(errors)}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
