"""The README and docs/*.md point only at files that exist (a moved module must take its docs along)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TREES = ("app", "tests", "scripts", "bench", "migrations", "deploy", "docs")
# `app/services/ops/reconcile.py`, `tests/faults/`, `tests/x.py::test_y`, `scripts/test --flag`
BACKTICKED = re.compile(r"`(?:\./)?((?:" + "|".join(TREES) + r")/[^`\s]*)[^`]*`")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
PLACEHOLDER = re.compile(r"[<>*…{}|]")


def _named_paths(doc: Path) -> set[str]:
    """Repository paths a document names: backticked, linked, or first on a line of a code block."""
    content = doc.read_text()
    named = {match.group(1) for match in BACKTICKED.finditer(content)}
    for block in FENCE.findall(content):
        for line in block.splitlines()[1:-1]:
            first = line.split(maxsplit=1)[0].removeprefix("./") if line.strip() else ""
            if first.split("/", 1)[0] in TREES and "/" in first:
                named.add(first)
    for target in LINK.findall(content):
        if "://" not in target and not target.startswith("mailto:"):
            named.add((doc.parent / target).resolve().relative_to(ROOT).as_posix())
    return {path.split("::")[0].rstrip(".,:;") for path in named if not PLACEHOLDER.search(path)}


@pytest.mark.parametrize("doc", DOCS, ids=[doc.relative_to(ROOT).as_posix() for doc in DOCS])
def test_every_path_a_document_names_exists(doc):
    paths = _named_paths(doc)
    missing = sorted(path for path in paths if not (ROOT / path).exists())
    assert paths and not missing, f"{doc.name} names paths that do not exist: {missing}"


def test_a_stale_path_is_caught(tmp_path, monkeypatch):
    stale = tmp_path / "stale.md"
    stale.write_text("See `app/services/reconcile.py`, [design](docs/design.md) and\n\n```\napp/jobs.py  jobs\n```\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _named_paths(stale) == {"app/services/reconcile.py", "docs/design.md", "app/jobs.py"}
