"""One-way dependencies: the library never imports the layers built on top of it.

`strategies` (top level), the CLI and the public API sit above the library: they may
import forecast.data, .features, .models, .evaluate and .backtest, never the reverse.
Checked by parsing every module's imports, lazy ones inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABOVE = ("strategies", "forecast.cli", "forecast.api")
# Package folder -> modules that no module in it may import.
RULES = {
    "forecast/data": ABOVE,
    "forecast/features": ABOVE,
    "forecast/models": ABOVE,
    "forecast/evaluate": ABOVE,
    "forecast/backtest": ABOVE,
    # pages are built from a run's files alone: no data loading, training or CLI behind them
    "forecast/report": (*ABOVE, "forecast.experiment.runner", "forecast.portfolio.run",
                        "tensorflow", "keras"),
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module `path` imports: `import a.b`, `from a import b` (both a and a.b),
    relative imports resolved, and `importlib.import_module("a.b")` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def violations(root: Path, rules: dict[str, tuple[str, ...]]) -> list[str]:
    """"path imports module" for every import a rule forbids, in every module under the rules' folders."""
    out = []
    for folder, forbidden in rules.items():
        for path in sorted((root / folder).rglob("*.py")):
            for module in sorted(imported_modules(path, root)):
                if any(module == bad or module.startswith(bad + ".") for bad in forbidden):
                    out.append(f"{path.relative_to(root)} imports {module}")
    return out


def test_the_library_never_imports_strategies_the_cli_or_the_api():
    assert all((ROOT / folder).is_dir() for folder in RULES)
    assert violations(ROOT, RULES) == []


@pytest.mark.parametrize(
    "source, caught",
    [
        ("from strategies import LongOnly\n", "strategies"),
        ("import strategies.base as b\n", "strategies.base"),
        ("def later():\n    from forecast.api import load\n", "forecast.api"),
        ("from forecast import cli\n", "forecast.cli"),
        ("from ..cli.app import run\n", "forecast.cli.app"),
        ("import importlib\nimportlib.import_module('strategies.loader')\n", "strategies.loader"),
    ],
)
def test_the_checker_catches_a_planted_violation(tmp_path, source, caught):
    package = tmp_path / "forecast" / "backtest"
    package.mkdir(parents=True)
    (tmp_path / "forecast" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    fine = "import numpy\nfrom forecast.data.frame import span\nfrom . import fine\n"
    (package / "fine.py").write_text(fine)
    (package / "planted.py").write_text(source)
    found = violations(tmp_path, {"forecast/backtest": ABOVE})
    assert f"{Path('forecast/backtest/planted.py')} imports {caught}" in found
    assert all(line.startswith(str(Path("forecast/backtest/planted.py"))) for line in found)
