"""The import graph runs one way: views, CLI and worker -> pipeline and services -> integrations,
calendars, mirror and rules -> models -> db. Read from the source (every import, also those inside
functions), so a circle dodged by a late import still counts."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("webapp", "worker")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _resolve(module, is_package, node):
    """The absolute name an ImportFrom names, relative dots resolved."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph():
    """module -> the project modules it imports (a name imported from a package that is a module
    of its own counts as that module)."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node)
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            for name in names:
                # `import webapp.models` names webapp.models; a name inside a module names the module.
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


def circles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_is_read_from_the_code(graph):
    # A check that reads nothing would pass: these arrows exist today.
    assert "webapp.models" in graph["webapp.pipeline"]
    assert "webapp.db" in graph["webapp.models"]
    assert "webapp" in graph["worker.__main__"]


def test_no_module_imports_itself_back(graph):
    assert circles(graph) == []


def test_circles_are_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _importers(graph, target):
    return {m for m, targets in graph.items() if any(t == target or t.startswith(target + ".") for t in targets)}


def _inside(module, prefixes):
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# Who may import what. The upper layers import the lower; nothing imports upwards.
UPPER = ("webapp.views", "webapp.cli", "webapp.devserver", "webapp.demo", "worker")
SERVICES = ("webapp.pipeline", "webapp.rulebook", "webapp.scheduling", "webapp.setup", "webapp.erasure")
ADAPTERS = ("webapp.integrations", "webapp.calendars", "webapp.mirror", "webapp.rules")


@pytest.mark.parametrize("upper", UPPER)
def test_nothing_below_the_views_and_workers_imports_them(graph, upper):
    importers = {m for m in _importers(graph, upper) if not _inside(m, UPPER) and m != "webapp"}
    assert importers == set(), f"{sorted(importers)} import {upper}"


@pytest.mark.parametrize("service", SERVICES)
def test_integrations_calendars_mirror_and_rules_do_not_import_the_services(graph, service):
    importers = {m for m in _importers(graph, service) if _inside(m, ADAPTERS)}
    assert importers == set(), f"{sorted(importers)} import {service}"


def test_the_rules_engine_imports_nothing_of_the_app(graph):
    outside = {
        (m, t)
        for m, targets in graph.items()
        if _inside(m, ("webapp.rules",))
        for t in targets
        if not _inside(t, ("webapp.rules",))
    }
    assert outside == set()


def test_models_import_only_the_database(graph):
    assert graph["webapp.models"] <= {"webapp.db"}
