#!/usr/bin/env python3
"""The import graph of elbench's packages, from the source alone (no imports run).

    python scripts/import_graph.py [SRC_DIR] [--modules] [--local] [--json]

Nodes are the subpackages of ``elbench`` (``elbench.render``, ``elbench.engines``, ...;
a top-level module such as ``elbench.config`` is its own node); an edge A -> B means a
module of A imports something of B. Cycles are the graph's strongly connected
components with more than one node. ``--modules`` does the same between modules;
``--local`` lists the imports made inside functions (each with its file and line).
Exit code 1 when the graph has a cycle, so CI or a test can call it.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``from ... import`` names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, src: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported elbench module, line, inside a function) for one file."""
    module = module_name(path, src)
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, local) for a in child.names if a.name.startswith("elbench"))
            elif isinstance(child, ast.ImportFrom):
                target = resolve(child, module, path.name == "__init__.py")
                if target.startswith("elbench"):
                    for alias in child.names:  # `from elbench.x import y` may name a submodule y
                        sub = f"{target}.{alias.name}"
                        found.append((sub if sub in known else target, child.lineno, local))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # imports for annotations only: no runtime edge
            visit(child, inner)

    visit(tree, False)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def node_of(module: str, packages: set[str], modules: bool) -> str:
    if modules:
        return module
    parts = module.split(".")
    return ".".join(parts[:2]) if ".".join(parts[:2]) in packages else ".".join(parts[:2])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default=str(Path(__file__).resolve().parents[1] / "src"))
    parser.add_argument("--modules", action="store_true", help="graph between modules, not packages")
    parser.add_argument("--local", action="store_true", help="list function-local imports of elbench modules")
    parser.add_argument("--json", action="store_true", help="print the graph as JSON")
    opts = parser.parse_args(argv)
    src = Path(opts.src)
    files = sorted((src / "elbench").rglob("*.py"))
    known = {module_name(f, src) for f in files}
    packages = {module_name(f.parent / "__init__.py", src) for f in files if (f.parent / "__init__.py").exists()}
    graph: dict[str, set[str]] = {}
    local: list[str] = []
    for f in files:
        mod = module_name(f, src)
        a = node_of(mod, packages, opts.modules)
        graph.setdefault(a, set())
        for target, line, is_local in imports_of(f, src, known):
            if is_local:
                local.append(f"{f.relative_to(src)}:{line}: {target}")
            b = node_of(target, packages, opts.modules)
            if b != a and b in {node_of(k, packages, opts.modules) for k in known}:
                graph[a].add(b)
    found = cycles(graph)
    if opts.json:
        print(json.dumps({"graph": {k: sorted(v) for k, v in sorted(graph.items())}, "cycles": found,
                          "function_local_imports": len(local)}, indent=1))
    else:
        for node in sorted(graph):
            print(f"{node} -> {', '.join(sorted(graph[node])) or '(nothing)'}")
        print(f"\n{len(found)} cycle(s)" + "".join(f"\n  {' <-> '.join(c)}" for c in found))
        print(f"{len(local)} function-local imports of elbench modules")
        if opts.local:
            print("\n".join(local))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
