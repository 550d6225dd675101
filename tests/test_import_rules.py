"""Declared layer order: every package and top-level module of forecast/ (and strategies/)
sits in one layer of LAYERS, bottom first, and imports only point down, with no cycles.

Checked by parsing every module's imports: lazy ones inside functions count (they run as
surely as the others, only later), those under `if TYPE_CHECKING:` do not (they never run).
A module may import its own package or top-level module, and any unit of a layer listed
before its own; never a peer of its own layer (peers are independent) or a later one.
Among modules, no import may close a cycle, lazy imports included.

Where forecast.api sits: above strategies and the backtest, below the universe
(`portfolio`), experiment and CLI layers. It is the single-ticker public API (load,
predict, run_backtest, ...), and the portfolio and experiment runs load bars and run
single-ticker backtests through it. Only the facade `forecast/__init__.py` (which resolves
its names lazily from a table, out of this parser's sight) and `python -m forecast` sit
above the CLI.

A new package or top-level module fails `test_every_package_and_module_is_in_a_layer`
until it is added to LAYERS (a new layer, or a layer whose units it does not import).
"""

from __future__ import annotations

import ast
from collections import deque
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = ("forecast", "strategies")

# Bottom first. Each entry: (layer, its units), a unit being a package or a top-level module.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # import nothing of fcast
    ("foundation", ("forecast.errors", "forecast.defaults", "forecast.atomic", "forecast.calendar",
                    "forecast.formatting", "forecast.jsonsafe", "forecast.run_result",
                    "forecast.provenance")),
    ("helpers", ("forecast.locking", "forecast.tomlfile", "forecast.user_code", "forecast.seeds")),
    # one resolver for every kind of plugin; the kinds are declared in their registries above it
    ("plugins", ("forecast.plugins",)),
    ("stats", ("forecast.stats",)),
    # every figure: equity.png and the three pages draw with the same factory and curves
    ("charts", ("forecast.charts",)),
    # pages are built from a run's files alone: no data loading, training or runs behind them
    ("report", ("forecast.report",)),
    ("data", ("forecast.data",)),
    ("features", ("forecast.features",)),
    ("models", ("forecast.models",)),
    # grouped model, walk-forward and cost options shared by the API, specs and the CLI
    ("settings", ("forecast.settings",)),
    ("evaluate", ("forecast.evaluate",)),
    ("training", ("forecast.training",)),
    ("cache", ("forecast.cache",)),
    ("runs", ("forecast.runs",)),
    ("output folders", ("forecast.output_dir",)),
    ("backtest", ("forecast.backtest",)),
    ("strategies", ("strategies",)),
    ("api", ("forecast.api",)),
    # nested tuning: its fold hook is handed to the walk-forward, which never imports it
    ("tune", ("forecast.tune",)),
    ("portfolio", ("forecast.portfolio",)),
    ("experiment", ("forecast.experiment",)),
    # what `fcast backtest` runs: one ticker, several, or a grid (an experiment)
    ("batch", ("forecast.batch",)),
    ("signal", ("forecast.signal",)),
    ("journal", ("forecast.journal",)),
    ("cli", ("forecast.cli",)),
    ("entry points", ("forecast", "forecast.__main__")),
]

# Third-party modules a unit may not import, beyond the layer order.
FORBIDDEN = {"forecast.report": ("tensorflow", "keras")}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path, trees=TREES) -> dict[str, Path]:
    """Module name -> file, for every .py file of the trees under `root`."""
    return {_module_name(p, root): p for tree in trees for p in sorted((root / tree).rglob("*.py"))}


def unit(module: str) -> str:
    """The package or top-level module `module` belongs to: forecast.X, or strategies."""
    parts = module.split(".")
    return "strategies" if parts[0] == "strategies" else ".".join(parts[:2])


def _type_checking(test: ast.expr) -> bool:
    return getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"


def _nodes(tree: ast.AST, *, expressions: bool):
    """Every statement under `tree` (and every expression too, if `expressions`), except
    in the bodies of `if TYPE_CHECKING:` blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if expressions:
            children = list(ast.iter_child_nodes(node))
        else:  # imports are statements: only statement lists need walking
            children = [c for f in ("body", "orelse", "finalbody", "handlers", "cases")
                        for c in getattr(node, f, ())]
        for child in children:
            if isinstance(child, ast.If) and _type_checking(child.test):
                todo.extend(child.orelse)
                yield from child.orelse
            else:
                todo.append(child)
                yield child


@cache  # four tests read the same files; the planted trees are new paths each time
def imports(path: Path, root: Path) -> frozenset[tuple[str, str | None]]:
    """What `path` imports, as (module, name) pairs: `import a.b` is ("a.b", None), `from a
    import b` is ("a", "b") (b a module or a name in a), relative imports resolved, and
    `importlib.import_module("a.b")` with a literal name is ("a.b", None)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    package = _module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[tuple[str, str | None]] = set()
    for node in _nodes(tree, expressions="import_module" in source):
        if isinstance(node, ast.Import):
            found.update((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.update((module, alias.name) for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add((node.args[0].value, None))
    return frozenset(found)


def resolve(module: str, name: str | None, known) -> str | None:
    """The module of `known` an import runs into: `module.name` when that is a module,
    else the deepest known package of `module`; None for a third-party import."""
    if name is not None and f"{module}.{name}" in known:
        return f"{module}.{name}"
    while module and module not in known:
        module = module.rpartition(".")[0]
    return module or None


def import_graph(root: Path, trees=TREES) -> dict[str, set[str]]:
    """Module -> the modules of the trees it imports (itself left out)."""
    known = modules(root, trees)
    graph = {}
    for name, path in known.items():
        targets = {resolve(m, n, known) for m, n in imports(path, root)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def unlisted(root: Path, layers, trees=TREES) -> list[str]:
    """One line per unit of the trees that no layer lists, and per listed unit that is gone."""
    listed = {u for _, units in layers for u in units}
    present = {unit(m) for m in modules(root, trees)}
    missing = [f"{u} is in no layer: add it to LAYERS in tests/test_import_rules.py"
               for u in sorted(present - listed)]
    return missing + [f"{u} is listed in LAYERS but no longer exists" for u in sorted(listed - present)]


def upward_imports(root: Path, layers, trees=TREES) -> list[str]:
    """"module imports target (layer a -> layer b)" for every import that does not point down."""
    rank = {u: i for i, (_, units) in enumerate(layers) for u in units}
    names = [name for name, _ in layers]
    out = []
    for module, targets in sorted(import_graph(root, trees).items()):
        for target in sorted(targets):
            a, b = unit(module), unit(target)
            if a == b or a not in rank or b not in rank or rank[b] < rank[a]:
                continue
            how = "a peer in its own layer" if rank[a] == rank[b] else "a higher layer"
            out.append(f"{module} imports {target}, {how} ({names[rank[a]]} -> {names[rank[b]]})")
    return out


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """One "a -> b -> ... -> a" line per group of modules that import each other in a ring
    (a strongly connected component, shown by its shortest cycle through its first module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(" -> ".join(_shortest_cycle(graph, group)) for group in groups)


def _shortest_cycle(graph, group: set[str]) -> list[str]:
    start = min(group)
    came = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & group):
            if child == start:
                path = [node]
                while came[path[-1]] is not None:
                    path.append(came[path[-1]])
                return [*reversed(path), start]
            if child not in came:
                came[child] = node
                queue.append(child)
    raise AssertionError("a strongly connected group always has a cycle")


def forbidden_imports(root: Path, rules=FORBIDDEN, trees=TREES) -> list[str]:
    out = []
    for name, path in modules(root, trees).items():
        banned = rules.get(unit(name), ())
        for module, _ in sorted(imports(path, root), key=str):
            if any(module == bad or module.startswith(bad + ".") for bad in banned):
                out.append(f"{name} imports {module}")
    return out


def test_every_package_and_module_is_in_a_layer():
    assert unlisted(ROOT, LAYERS) == []


def test_imports_only_point_down():
    assert upward_imports(ROOT, LAYERS) == []


def test_no_import_cycles_lazy_imports_included():
    assert cycles(import_graph(ROOT)) == []


def test_pages_never_import_tensorflow():
    assert forbidden_imports(ROOT) == []


# --- the checker itself, on a planted tree ---------------------------------------------

PLANTED_LAYERS = [
    ("base", ("forecast.errors",)),
    ("low", ("forecast.data", "forecast.stats")),
    ("high", ("forecast.backtest",)),
    ("top", ("forecast", "strategies")),
]


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    """A tree with forecast/{errors.py, data/, stats/, backtest/} and strategies/, clean
    imports in each, plus `files` (path -> source)."""
    clean = {
        "forecast/__init__.py": "",
        "forecast/errors.py": "import numpy\n",
        "forecast/data/__init__.py": "from forecast.errors import ConfigError\n",
        "forecast/data/frame.py": "from . import load\n",
        "forecast/data/load.py": "from ..errors import ConfigError\n",
        "forecast/stats/__init__.py": "",
        "forecast/backtest/__init__.py": "",
        "forecast/backtest/fine.py": "from forecast.data.frame import span\nfrom forecast import stats\n",
        "strategies/__init__.py": "def later():\n    from forecast.backtest import fine\n",
    }
    for rel, source in {**clean, **files}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(source)
    return tmp_path


def test_the_planted_tree_is_clean(tmp_path):
    root = _plant(tmp_path, {})
    assert unlisted(root, PLANTED_LAYERS) == []
    assert upward_imports(root, PLANTED_LAYERS) == []
    assert cycles(import_graph(root)) == []


@pytest.mark.parametrize(
    "source, target",
    [
        ("from strategies import LongOnly\n", "strategies"),
        ("import forecast.backtest.fine as f\n", "forecast.backtest.fine"),
        ("def later():\n    from forecast.backtest import fine\n", "forecast.backtest.fine"),
        ("from forecast import backtest\n", "forecast.backtest"),
        ("from ..backtest.fine import run\n", "forecast.backtest.fine"),
        ("import importlib\nimportlib.import_module('forecast.backtest')\n", "forecast.backtest"),
        ("class A:\n    def m(self):\n        import strategies\n", "strategies"),
    ],
)
def test_the_checker_catches_a_planted_upward_import(tmp_path, source, target):
    root = _plant(tmp_path, {"forecast/data/planted.py": source})
    found = upward_imports(root, PLANTED_LAYERS)
    assert len(found) == 1 and found[0].startswith(f"forecast.data.planted imports {target}, a higher layer")


def test_the_checker_catches_an_import_of_a_peer(tmp_path):
    root = _plant(tmp_path, {"forecast/stats/sharpe.py": "from forecast.data.load import x\n"})
    assert upward_imports(root, PLANTED_LAYERS) == [
        "forecast.stats.sharpe imports forecast.data.load, a peer in its own layer (low -> low)"]


def test_the_checker_catches_a_planted_lazy_cycle(tmp_path):
    root = _plant(tmp_path, {
        "forecast/data/a.py": "from forecast.data.b import f\n",
        "forecast/data/b.py": "def f():\n    from forecast.data import c\n",
        "forecast/data/c.py": "def g():\n    import forecast.data.a\n",
    })
    ring = "forecast.data.a -> forecast.data.b -> forecast.data.c -> forecast.data.a"
    assert cycles(import_graph(root)) == [ring]
    assert upward_imports(root, PLANTED_LAYERS) == []  # inside one package: only the cycle check sees it


def test_an_import_for_type_checking_only_is_no_edge(tmp_path):
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from strategies import X\n"
              "else:\n    import forecast.stats\n")
    root = _plant(tmp_path, {"forecast/data/typed.py": source})
    assert import_graph(root)["forecast.data.typed"] == {"forecast.stats"}


def test_a_module_in_no_layer_fails_with_its_name(tmp_path):
    root = _plant(tmp_path, {"forecast/charts/__init__.py": "", "forecast/settings.py": ""})
    layers = [*PLANTED_LAYERS, ("gone", ("forecast.old",))]
    assert unlisted(root, layers) == [
        "forecast.charts is in no layer: add it to LAYERS in tests/test_import_rules.py",
        "forecast.settings is in no layer: add it to LAYERS in tests/test_import_rules.py",
        "forecast.old is listed in LAYERS but no longer exists",
    ]


def test_the_checker_catches_tensorflow_in_the_pages(tmp_path):
    root = _plant(tmp_path, {"forecast/stats/page.py": "def f():\n    import tensorflow.keras\n"})
    assert forbidden_imports(root, {"forecast.stats": ("tensorflow",)}) == [
        "forecast.stats.page imports tensorflow.keras"]
