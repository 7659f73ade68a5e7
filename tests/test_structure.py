"""The shape of the code: the import graph of `rooms` has no cycle, and the
realtime runtime is imported only by the adapters that run an event loop."""

import ast
from pathlib import Path

import rooms

ROOT = Path(rooms.__file__).parent
# Adapters allowed to import rooms.realtime (outside the package itself).
REALTIME_ADAPTERS = {"rooms.management.commands.tailroom"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """The `rooms` modules `path` imports, at any depth of the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in ROOT.rglob("*.py")}
    modules = {name: path for name, path in modules.items() if ".migrations" not in name}
    graph = {}
    for name, path in modules.items():
        graph[name] = {other for other in _imports(path, name) if other in modules} - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_rooms_import_graph_has_no_cycle():
    # Package __init__ edges are implied by Python, not by the code: drop
    # the edge from a module to its own package.
    graph = {
        name: {other for other in deps if not name.startswith(other + ".")}
        for name, deps in import_graph().items()
    }
    assert _cycle(graph) is None


def test_only_adapters_import_the_realtime_package():
    importers = {
        name
        for name, deps in import_graph().items()
        if not name.startswith("rooms.realtime")
        and any(dep == "rooms.realtime" or dep.startswith("rooms.realtime.") for dep in deps)
    }
    assert importers <= REALTIME_ADAPTERS


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_a_built_wheel_carries_the_templates_and_static_files(tmp_path):
    import subprocess
    import sys
    import zipfile

    root = ROOT.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("rooms-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (root / "rooms" / "templates").rglob("*.html"):
        assert str(path.relative_to(root)) in names
    assert "rooms/templates/base.html" in names
    assert "rooms/static/rooms/client.js" in names
    assert "rooms/migrations/0004_log_of_entries.py" in names
