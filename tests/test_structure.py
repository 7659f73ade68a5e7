"""The shape of the code (docs/architecture.md): the import graph of `rooms`
has no cycle; the realtime runtime is imported only by the adapters that run
an event loop; only the services publish; adapters neither touch a model's
manager nor build querysets; no module passes 400 lines; and nothing sends a
reader outside the repository."""

import ast
import re
import subprocess
from pathlib import Path

import rooms

ROOT = Path(rooms.__file__).parent
REPOSITORY = ROOT.parent
# Adapters allowed to import rooms.realtime (outside the package itself).
REALTIME_ADAPTERS = {"rooms.management.commands.tailroom"}
# The adapters: they parse, call one service or selector, and render.
ADAPTERS = (
    "rooms.web",
    "rooms.api",
    "rooms.admin",
    "rooms.realtime.consumer",
    "rooms.management",
)
# What building a queryset looks like: a manager, or a QuerySet method call.
QUERYSET_METHODS = {
    "objects",
    "filter",
    "exclude",
    "annotate",
    "aggregate",
    "select_related",
    "prefetch_related",
    "values_list",
    "order_by",
    "select_for_update",
}
MAX_LINES = 400


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


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _modules() -> dict[str, Path]:
    modules = {_module_name(path): path for path in ROOT.rglob("*.py")}
    return {name: path for name, path in modules.items() if ".migrations" not in name}


def test_only_the_services_publish():
    # The realtime runtime is broadcast's other end: it registers the sinks
    # that publish() delivers to, and publishes nothing itself.
    importers = {
        name
        for name, deps in import_graph().items()
        if "rooms.broadcast" in deps and name != "rooms.broadcast"
    }
    assert {
        name
        for name in importers
        if not _is_under(name, "rooms.services") and not _is_under(name, "rooms.realtime")
    } == set()


def _with_parents(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node
    return tree


def queryset_builders(paths) -> list[str]:
    """`file:line .method` of each manager use or QuerySet-method call."""
    found = []
    for path in paths:
        tree = _with_parents(ast.parse(path.read_text()))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.attr not in QUERYSET_METHODS:
                continue
            called = isinstance(node.parent, ast.Call) and node.parent.func is node
            if node.attr == "objects" or called:
                where = path.relative_to(REPOSITORY) if path.is_relative_to(REPOSITORY) else path
                found.append(f"{where}:{node.lineno} .{node.attr}")
    return found


def test_adapters_never_build_querysets():
    adapters = [
        path
        for name, path in _modules().items()
        if any(_is_under(name, adapter) for adapter in ADAPTERS)
    ]
    assert adapters, "no adapter found: is ADAPTERS out of date?"
    assert queryset_builders(adapters) == []


def test_the_queryset_check_finds_a_manager_and_a_filter(tmp_path):
    sample = tmp_path / "view.py"
    sample.write_text(
        "rooms = Room.objects.all()\nmine = rooms.filter(slug='x')\nnames = {}.values()\n"
    )
    found = [line.split(" ", 1)[1] for line in queryset_builders([sample])]
    assert sorted(found) == [".filter", ".objects"]


def _source_files() -> list[Path]:
    python = [path for path in _modules().values()]
    python += [path for path in (REPOSITORY / "project").rglob("*.py")]
    scripts = [
        path
        for path in (ROOT / "static").rglob("*.js")
        if "vendor" not in path.relative_to(ROOT / "static").parts
    ]
    return python + scripts


def test_no_module_passes_400_lines():
    long = {
        str(path.relative_to(REPOSITORY)): lines
        for path in _source_files()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, "two subjects in one file? split it"


# Built from parts so that this file does not name them itself.
OUTSIDE = re.compile(
    "|".join(
        [
            re.escape("PROTOCOL" + ".md"),
            re.escape("INTERFACE" + ".md"),
            re.escape("../" + "shared"),
            re.escape("/work" + "/"),
        ]
    )
)


def test_nothing_sends_a_reader_outside_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPOSITORY, capture_output=True, text=True, check=True
    ).stdout.split()
    found = []
    for name in tracked:
        path = REPOSITORY / name
        if name == "Makefile" or not path.is_file():
            continue  # the Makefile's conformance target runs the outside kit
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [
            f"{name}:{number}"
            for number, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)
        ]
    assert found == []


def test_the_makefile_names_the_outside_kit_only_in_its_conformance_target():
    makefile = (REPOSITORY / "Makefile").read_text()
    target = re.search(r"^conformance:.*?(?=^\S|\Z)", makefile, re.M | re.S).group(0)
    assert OUTSIDE.search(makefile.replace(target, "")) is None
