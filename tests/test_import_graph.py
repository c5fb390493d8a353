"""elbench's import graph (scripts/import_graph.py, from the source alone): no cycles, and every
function-local import of an elbench module says why it is local (start-up time or an import cycle)."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
#: a function-local elbench import carries one of these in a comment on its line or above its import block
REASONS = ("start-up time", "import cycle")


@pytest.fixture(scope="module")
def graph_module():
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("import_graph", module)
    spec.loader.exec_module(module)
    return module


def _files() -> list[Path]:
    return sorted((SRC / "elbench").rglob("*.py"))


def _graph(ig, *, modules: bool) -> dict[str, set[str]]:
    files = _files()
    known = {ig.module_name(f, SRC) for f in files}
    packages = {ig.module_name(f.parent / "__init__.py", SRC) for f in files if (f.parent / "__init__.py").exists()}
    nodes = {ig.node_of(k, packages, modules) for k in known}
    graph: dict[str, set[str]] = {}
    for f in files:
        a = ig.node_of(ig.module_name(f, SRC), packages, modules)
        graph.setdefault(a, set())
        for target, _line, _local in ig.imports_of(f, SRC, known):
            b = ig.node_of(target, packages, modules)
            if b != a and b in nodes:
                graph[a].add(b)
    return graph


@pytest.mark.parametrize("modules", [False, True], ids=["packages", "modules"])
def test_no_import_cycles(graph_module, modules):
    found = graph_module.cycles(_graph(graph_module, modules=modules))
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_script_exits_zero_without_cycles(graph_module, capsys):
    assert graph_module.main([str(SRC)]) == 0
    assert "0 cycle(s)" in capsys.readouterr().out


def test_leaf_modules_import_no_upper_layer(graph_module):
    """The bottom layer (errors, elements, io, units, config, record and readers) imports only its own layer."""
    leaves = {"elbench.errors", "elbench.elements", "elbench.io", "elbench.surface_charge", "elbench.config",
              "elbench.type_map", "elbench.deck_reader", "elbench.run_record", "elbench.reference",
              "elbench.layer_window"}
    graph = _graph(graph_module, modules=False)
    upward = {leaf: sorted(graph.get(leaf, set()) - leaves - {"elbench"}) for leaf in leaves}
    assert all(not v for v in upward.values()), upward


def _local_imports_without_reason() -> list[str]:
    """``file:line`` of function-local elbench imports with no reason comment on their line or above their block."""
    missing = []
    for f in _files():
        lines = f.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for body in _bodies(func):
                missing += [f"{f.relative_to(SRC)}:{n.lineno}" for n in _unexplained(body, lines)]
    return sorted(set(missing))


def _bodies(func: ast.AST):
    for node in ast.walk(func):
        for field in ("body", "orelse", "finalbody"):
            seq = getattr(node, field, None)
            if isinstance(seq, list) and seq and isinstance(seq[0], ast.stmt):
                yield seq


def _is_elbench(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.startswith("elbench") for a in node.names)
    return isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("elbench"))


def _unexplained(body: list[ast.stmt], lines: list[str]) -> list[ast.stmt]:
    """Elbench imports of ``body`` whose contiguous import block has no reason comment above it or on their line."""
    out, block_start = [], 0
    for i, node in enumerate(body):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if i == 0 or not isinstance(body[i - 1], (ast.Import, ast.ImportFrom)):
            block_start = node.lineno
        above = lines[block_start - 2] if block_start >= 2 else ""
        explained = (above.lstrip().startswith("#") and any(r in above for r in REASONS)) or any(
            r in lines[node.lineno - 1] for r in REASONS)
        if _is_elbench(node) and not explained:
            out.append(node)
    return out


def test_function_local_imports_say_why():
    missing = _local_imports_without_reason()
    assert missing == [], ("function-local elbench imports without a '# start-up time: ...' or "
                           "'# import cycle: ...' comment (import at module level instead): " + ", ".join(missing))
