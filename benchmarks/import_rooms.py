"""The import graph between "rooms" (packages and top-level modules of fanpin, monitoring and
assistance), its arrows and its circles (strongly connected components of more than one room).

    .venv/bin/python benchmarks/import_rooms.py

Imports under ``if TYPE_CHECKING:`` are left out, as in the import-linter contract (.importlinter).
"""

from __future__ import annotations

import sys

import grimp

sys.path.insert(0, ".")

ROOTS = ("fanpin", "monitoring", "assistance")


def room(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "fanpin":
        return ".".join(parts[:2]) if len(parts) > 1 and parts[1] in {"core", "web"} else "fanpin"
    if len(parts) > 2 and parts[1] == "services" and parts[2] == "imports":
        return "monitoring.services.imports"
    return ".".join(parts[:2])


def main() -> int:
    graph = grimp.build_graph(*ROOTS, exclude_type_checking_imports=True)
    arrows: set[tuple[str, str]] = set()
    for importer in graph.modules:
        if ".migrations" in importer:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = room(importer), room(imported)
            if a != b and ".migrations" not in imported:
                arrows.add((a, b))
    rooms = sorted({r for pair in arrows for r in pair})
    # Tarjan's strongly connected components
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles: list[list[str]] = []
    out = {r: sorted(b for a, b in arrows if a == r) for r in rooms}

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in out[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for r in rooms:
        if r not in index:
            visit(r)
    print(f"{len(rooms)} rooms, {len(arrows)} arrows, {len(circles)} circles")
    for comp in circles:
        inner = sorted((a, b) for a, b in arrows if a in comp and b in comp)
        print("  circle:", " ".join(comp))
        for a, b in inner:
            print(f"    {a} → {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
