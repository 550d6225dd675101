"""Import paths that must stay light: TensorFlow and Keras load only when a Keras model
trains or predicts, and `arch` only when a GARCH feature is computed.

All paths run in one fresh interpreter, one after another (one start-up instead of one per
path). Each path is judged by the heavy modules that appeared while it ran, so the message
names the path that pulled one in; a heavy module already loaded before a path ran makes
that path uncheckable, which fails too (reorder PATHS, or fix the path above it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KERAS = ("tensorflow", "keras")
# LightGBM loads only when `lgbm` fits or predicts.
TREES = ("lightgbm",)

# name -> (code run in the probe, top-level modules it must not import). Order matters only
# when a path may import what a later one must not (arch: the GARCH path comes first).
PATHS = {
    "importing forecast.features, forecast.evaluate and forecast.features.garch": (
        "import forecast.features, forecast.evaluate, forecast.features.garch",
        (*KERAS, "arch"),
    ),
    "import forecast and fc.load of the sample": (
        "import forecast as fc\nfc.load('^GSPC', source='sample')",
        KERAS,
    ),
    "importing forecast.evaluate, forecast.backtest, forecast.backtest.report and strategies": (
        "import forecast.evaluate, forecast.backtest, forecast.backtest.report, strategies",
        KERAS,
    ),
    "importing the models and building every one (make_model, list_models)": (
        "import forecast.models, forecast.models.registry, forecast.models.persistence, "
        "forecast.models.device\n"
        "from forecast.models.registry import list_models, make_model\n"
        "make_model('mlp'); make_model('lstm'); make_model('lgbm'); list_models()",
        (*KERAS, *TREES),
    ),
    **{
        f"fcast {' '.join(argv)}": (
            f"from forecast.cli.app import main\nassert main({argv!r}) == 0, 'exit status not 0'",
            (*KERAS, *TREES, "optuna"),
        )
        for argv in (["data", "sample"], ["cache", "list"], ["runs", "list"], ["universe", "list"],
                     ["journal", "list"])
    },
    # Optuna only when a search runs
    "importing forecast.tune, its API and fcast tune's command": (
        "import forecast.tune, forecast.tune.api, forecast.tune.fold_models, forecast.cli.tune_cmd",
        (*KERAS, "optuna"),
    ),
    # Ray only with --workers or --ray-address
    "fcast portfolio (serial)": (
        "from forecast.cli.app import main\nassert main(['portfolio', 'KO', 'MSFT', 'AAPL', '--source', "
        "'bundled', '--start', '2016-01-01', '--param', 'k=1', '--test-days', '63', '--json']) == 0",
        (*KERAS, "ray"),
    ),
    # A signal of a scikit-learn model, journaled: no network library, no Optuna, no Ray
    "fcast signal --journal (logreg)": (
        "from forecast.cli.app import main\nassert main(['signal', 'KO', '--source', 'bundled', '--model', "
        "'logreg', '--start', '2016-01-01', '--journal', 'light', '--json']) == 0",
        (*KERAS, "ray", "optuna"),
    ),
}

# Runs each step in turn and writes, per step, the forbidden modules it imported, those
# loaded before it, and its error (a traceback) if it raised.
PROBE = """\
import json, sys, traceback
steps, out = json.loads(sys.argv[1]), sys.argv[2]
report = {}
for name, code, heavy in steps:
    before = {m.split(".")[0] for m in sys.modules}
    error = None
    try:
        exec(compile(code, name, "exec"), {"__name__": "__probe__"})
    except BaseException:
        error = traceback.format_exc(limit=8)
    after = {m.split(".")[0] for m in sys.modules}
    report[name] = {"imported": sorted(set(heavy) & (after - before)),
                    "already": sorted(set(heavy) & before), "error": error}
with open(out, "w") as f:
    json.dump(report, f)
"""


def probe(paths: dict, tmp: Path, env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run `paths` (name -> (code, forbidden modules)) in one fresh interpreter, in order;
    name -> what the probe saw (see PROBE)."""
    out = tmp / "light_imports.json"
    steps = [[name, code, list(heavy)] for name, (code, heavy) in paths.items()]
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(steps), str(out)], capture_output=True,
                          text=True, env=env, cwd=cwd, check=False)
    assert done.returncode == 0 and out.exists(), done.stderr[-3000:]
    return json.loads(out.read_text())


def problem(name: str, seen: dict) -> str | None:
    """Why the path `name` is not light (None: it is)."""
    if seen["error"]:
        return f"{name} failed:\n{seen['error']}"
    if seen["already"]:
        return (f"{name} cannot be checked: {', '.join(seen['already'])} was imported before it ran "
                "(by a path above it in PATHS)")
    if seen["imported"]:
        return f"{name} imports {', '.join(seen['imported'])}"
    return None


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("light_imports")
    # an empty store and no network, as conftest gives each test (this fixture outlives one)
    env = {**os.environ, "FCAST_HOME": str(tmp / "fcast_home"), "FCAST_OFFLINE": "1"}
    return probe(PATHS, tmp, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PATHS))
def test_path_stays_light(seen, name):
    assert problem(name, seen[name]) is None, problem(name, seen[name])


@pytest.mark.slow
def test_the_probe_names_the_path_that_imports_a_heavy_module(tmp_path):
    lib = tmp_path / "lib"
    (lib / "plantedlib").mkdir(parents=True)
    (lib / "plantedlib" / "__init__.py").write_text("def later():\n    import heavyweight\n")
    (lib / "plantedlib" / "eager.py").write_text("import heavyweight\n")
    (lib / "heavyweight.py").write_text("")
    heavy = ("heavyweight",)
    paths = {
        "a clean path": ("import json, plantedlib", heavy),
        "a lazy import, called": ("import plantedlib\nplantedlib.later()", heavy),
        "a path after it": ("import plantedlib.eager", heavy),
        "a path that raises": ("raise ValueError('boom')", ()),
        # a real fcast module known to pull in a heavy library
        "forecast.evaluate.metrics": ("import forecast.evaluate.metrics", ("scipy", "sklearn")),
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(lib), str(Path(__file__).parents[1])])}
    seen = probe(paths, tmp_path, env=env)
    assert problem("a clean path", seen["a clean path"]) is None
    assert problem("a lazy import, called", seen["a lazy import, called"]) == (
        "a lazy import, called imports heavyweight")
    assert problem("a path after it", seen["a path after it"]) == (
        "a path after it cannot be checked: heavyweight was imported before it ran "
        "(by a path above it in PATHS)")
    assert "ValueError: boom" in problem("a path that raises", seen["a path that raises"])
    assert problem("forecast.evaluate.metrics", seen["forecast.evaluate.metrics"]) == (
        "forecast.evaluate.metrics imports scipy, sklearn")
