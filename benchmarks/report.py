"""Write one benchmark's section into ``docs/benchmarks.md`` without touching the others.

Each benchmark owns the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``;
a missing section is appended, so benchmarks can run in any order.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["DOC_PATH", "write_section"]

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_HEADER = (
    "# Benchmarks\n\n"
    "Figures are written by the scripts in `benchmarks/`; each section says the command that "
    "made it. Speed is reported as a ratio against a baseline measured in the same run, "
    "because our machines are shared and noisy.\n"
)


def write_section(name: str, markdown: str, path: Path = DOC_PATH) -> None:
    """Replace (or append) the section ``name`` of the benchmarks document."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
