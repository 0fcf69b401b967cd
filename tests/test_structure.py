"""The house rules on engine structure, checked over the source (ast, no import of the engine):
no import cycle inside engine/ (module-level and function-level imports both count: a lazy import
is still a dependency), no module importing another module's underscore names, no engine module
over 600 lines, no function over 80 lines."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def engine_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


MODULES = engine_modules()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def absolute(name: str, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names, resolving relative levels against `name`."""
    if node.level == 0:
        return node.module or ""
    base = name.split(".")
    if not is_package(name):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, source: str | None = None) -> list[tuple[str, list[str], int]]:
    """Every import in the module, anywhere in it: (imported module, names taken from it, line)."""
    if source is None:
        source = MODULES[name].read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            target = absolute(name, node)
            names = [a.name for a in node.names]
            # `from engine.batch import local` imports the submodule engine.batch.local
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            plain = [n for n in names if f"{target}.{n}" not in MODULES]
            for sub in submodules:
                found.append((sub, [], node.lineno))
            found.append((target, plain, node.lineno))
    return found


def engine_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name in MODULES:
        for target, _names, _line in imports_of(name):
            if target in MODULES and target != name:
                graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_lazy_and_relative_imports_count_as_dependencies():
    source = ("def f():\n    from engine.batch import local\n"
              "    from ..register import read_register\n    from .frame import _hidden\n")
    found = imports_of("engine.columnar.evaluator", source)
    assert ("engine.batch.local", [], 2) in found
    assert ("engine.register", ["read_register"], 3) in found
    assert ("engine.columnar.frame", ["_hidden"], 4) in found


def test_no_import_cycle_inside_engine():
    cycles = find_cycles(engine_graph())
    assert cycles == [], "import cycles inside engine/: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_module_imports_another_modules_private_names():
    offences = []
    for name in MODULES:
        for target, names, line in imports_of(name):
            if not target.startswith("engine"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            hidden_module = any(part.startswith("_") and not part.startswith("__")
                                for part in target.split("."))
            if private or hidden_module:
                offences.append(f"{MODULES[name].relative_to(ROOT)}:{line} imports "
                                f"{', '.join(private) or target} from {target}")
    assert offences == [], "\n".join(offences)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_engine_module_is_at_most_600_lines(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{MODULES[name].relative_to(ROOT)} has {lines} lines"


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            length = node.end_lineno - first + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_engine_function_is_over_80_lines():
    offences = [f for path in MODULES.values() for f in long_functions(path)]
    assert offences == [], "\n".join(offences)


CLI_MODULES = (ROOT / "cli.py", ROOT / "cli_support.py")


def test_the_cli_is_thin():
    """cli.py parses options, calls one engine/commands function per command and renders: under 600
    lines, no function over 80 (decorators counted) in it or in cli_support.py, and no engine name
    with an underscore imported (the engine's orchestration is engine/commands/)."""
    lines = len((ROOT / "cli.py").read_text(encoding="utf-8").splitlines())
    assert lines < MAX_MODULE_LINES, f"cli.py has {lines} lines"
    offences = [f for path in CLI_MODULES for f in long_functions(path)]
    for path in CLI_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine"):
                offences += [f"{path.name}:{node.lineno} imports {a.name} from {node.module}"
                             for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert offences == [], "\n".join(offences)


def test_the_package_list_in_pyproject_names_every_engine_package():
    """pyproject.toml lists the packages explicitly (it also maps policies/ and rules/ into the
    distribution): a new engine subpackage must be added there or an installed copy lacks it."""
    import re
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(re.findall(r'"(engine(?:\.\w+)*)"', re.search(r"packages = \[(.*?)\]", text, re.S).group(1)))
    packages = {name for name in MODULES if is_package(name)}
    assert listed == packages
