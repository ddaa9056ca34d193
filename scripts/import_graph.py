"""The import graph of `app/`: no circles, and no import running back up a layer.

Every `import` counts, at module level or inside a function (a function-level import
dodges a circle at run time but is still a circle in the design). Exit 1 on any finding.
Run: python scripts/import_graph.py [--print]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lower layers first; a module may import its own layer or any lower one. The first
# matching prefix wins, so the more specific names come first.
LAYERS: list[tuple[str, ...]] = [
    ("app.clock", "app.errors", "app.localtime", "app.privacy", "app.config", "app.observability",
     "app.vapid_keys"),
    ("app.extensions",),
    ("app.models", "app.persistence"),
    ("app.jobs.queue", "app.jobs.specs", "app.jobs.tries", "app.jobs.requeue", "app.jobs.follow_on",
     "app.adapters"),
    ("app.services",),
    ("app.web",),
    ("app.blueprints", "app.jobs.worker", "app.jobs"),
    ("app.cli", "app"),
]


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = level, len(prefix)
    if best is None:
        raise SystemExit(f"{module}: in no layer of scripts/import_graph.py")
    return best


def modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "app").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in known else base)
    # A package importing its own submodules assembles itself (a blueprint's routes attach to
    # its bp, `app.services` hands on its entry points): not an edge of the design.
    return {t for t in targets if t in known and t != name and not (is_package and t.startswith(name + "."))}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in edges.items() for b in targets if layer_of(b) > layer_of(a))


def main() -> int:
    edges = graph()
    if "--print" in sys.argv:
        for name in sorted(edges):
            print(name, "->", ", ".join(sorted(edges[name])))
    circles, ups = cycles(edges), upward(edges)
    for component in circles:
        print("circle:", " <-> ".join(component))
    for a, b in ups:
        print(f"up: {a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})")
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports, "
          f"{len(circles)} circles, {len(ups)} upward imports")
    return 1 if circles or ups else 0


if __name__ == "__main__":
    raise SystemExit(main())
