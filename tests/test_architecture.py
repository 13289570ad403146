"""The package's shape, kept true: one-way imports (no cycle between files, counting imports inside functions too), a
small root, module-level imports outside the CLI, and no import resolved from a string.

Read from the source with :mod:`ast` (nothing is imported), so the test sees exactly what a reader of the code sees.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "soccerai"
MAX_ROOT_MODULES = 8
MAX_FUNCTION_IMPORTS = 30
"""Imports of soccerai inside functions, outside ``soccerai/cli`` (which imports its commands lazily for start-up time)."""


@dataclass
class ImportGraph:
    """Every soccerai module (dotted name -> file), the modules each imports, and its function-level imports."""

    files: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)
    in_functions: list[tuple[str, int]] = field(default_factory=list)
    by_string: list[tuple[str, int]] = field(default_factory=list)

    def resolve(self, dotted: str) -> str | None:
        """The module a dotted import name lands in (``soccerai.a.b.name`` -> ``soccerai.a.b``)."""
        while dotted and dotted not in self.files:
            dotted = dotted.rpartition(".")[0]
        return dotted or None


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
        return [base] + [f"{base}.{alias.name}" for alias in node.names]
    return []


def _inside_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return True
    return False


def import_graph() -> ImportGraph:
    graph = ImportGraph(files={_module_name(p): p for p in PACKAGE.rglob("*.py")})
    for module, path in graph.files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                    "import_module", "__import__"):
                graph.by_string.append((module, node.lineno))
            names = [t for t in _targets(node, module, path.name == "__init__.py") if t.startswith("soccerai")]
            if not names:
                continue
            landed = {graph.resolve(n) for n in names} - {None, module}
            # `from pkg import sub` imports the submodule: keep the most specific module of each statement
            graph.edges.setdefault(module, set()).update(
                m for m in landed if not any(o != m and o.startswith(m + ".") for o in landed))
            if _inside_function(node, parents) and not module.startswith("soccerai.cli"):
                graph.in_functions.append((module, node.lineno))
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return import_graph()


def test_no_import_cycle_between_files(graph: ImportGraph) -> None:
    assert cycles(graph.edges) == []


def test_the_root_stays_small(graph: ImportGraph) -> None:
    root = sorted(m for m, p in graph.files.items() if p.parent == PACKAGE and p.name != "__init__.py")
    assert len(root) <= MAX_ROOT_MODULES, root


def test_imports_sit_at_module_level(graph: ImportGraph) -> None:
    assert len(graph.in_functions) <= MAX_FUNCTION_IMPORTS, graph.in_functions


def test_no_import_resolved_from_a_string(graph: ImportGraph) -> None:
    assert graph.by_string == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
