"""`fcast signal --run ID`: the options of a recorded backtest or portfolio run, as a signal's.

A run record keeps the command line that made it; the signal takes its configuration
options as they were (so the same data resolution, model, strategy, costs and
walk-forward) and leaves out what only shapes that run's output. The test span is pinned
to the run's first out-of-sample day, so the signal's folds are the run's, extended to
today.
"""

from __future__ import annotations

from forecast.errors import ConfigError

# Options of a backtest or portfolio run that a signal leaves out: where the run's output
# went, its span's end (a signal runs to its --as-of), its starting cash (a signal's --cash
# is the account's), how it ran. True: the option takes a value.
DROPPED = {
    "--output": True, "-o": True, "--json": False, "--plot": False, "--no-plot": False, "--force": False,
    "--common-span": False, "--end": True, "--seeds": True, "--cash": True, "--no-cache": False,
    "--workers": True, "--ray-address": True, "--debug": False,
}
# Counted back from the run's last bar, they would move with every new bar: replaced by
# --test-start at the run's first out-of-sample day.
SPAN = {"--test-days": True, "--folds": True}
# A portfolio's options that a signal does not take (yet): refused rather than dropped,
# since leaving one out would give another portfolio's weights.
PORTFOLIO_ONLY = ("--train-on", "--max-fee-share", "--min-price", "--min-dollar-volume",
                  "--dollar-volume-window", "--drop-extreme-moves", "--mixed-precision")


def signal_args(run: dict) -> list[str]:
    """The `fcast signal` arguments standing for `run` (a run record, see forecast.runs)."""
    kind, command = run.get("kind"), list(run.get("command") or [])
    if kind not in ("backtest", "portfolio"):
        raise ConfigError(f"run {run.get('id')} is a {kind} run; a signal follows a backtest or portfolio")
    if kind not in command:
        raise ConfigError(f"run {run.get('id')} does not record the command that made it")
    args = command[command.index(kind) + 1:]
    out, pinned, i = [], False, 0
    while i < len(args):
        token = args[i]
        name = token.split("=", 1)[0]
        takes = "=" not in token
        if name in PORTFOLIO_ONLY:
            raise ConfigError(f"run {run.get('id')} used {name}, which `fcast signal` does not take")
        if name in DROPPED or name in SPAN:
            i += 1 + (takes and (DROPPED.get(name) or SPAN.get(name) or False))
            continue
        if name == "--model-path":
            raise ConfigError(f"run {run.get('id')} traded a saved model: give `fcast signal` --model-path")
        pinned = pinned or name == "--test-start"
        out.append(token)
        i += 1
    if kind == "portfolio" and not any(t.split("=", 1)[0] == "--universe" for t in out):
        out.append("--portfolio")  # its tickers were one portfolio, not a signal each
    if kind == "backtest" and _is_grid(out):
        raise ConfigError(f"run {run.get('id')} was a grid; a signal follows one configuration")
    if not pinned:
        first = (run.get("data") or {}).get("start") or (run.get("metrics") or {}).get("start")
        if not first:
            raise ConfigError(f"run {run.get('id')} does not record its first out-of-sample day")
        out += ["--test-start", str(first)[:10]]
    return out


def _is_grid(args: list[str]) -> bool:
    """Whether the options name lists (`forecast.batch.is_grid` on their values)."""
    from forecast.batch import is_grid

    given: dict[str, list[str]] = {"model": [], "strategy": [], "param": []}
    names = {"--model": "model", "-m": "model", "--strategy": "strategy", "-s": "strategy",
             "--param": "param", "-p": "param"}
    for token, following in zip(args, [*args[1:], ""], strict=True):
        name, eq, value = token.partition("=")
        if name in names:
            given[names[name]].append(value if eq else following)
    return is_grid(",".join(given["model"][-1:]) or "x", ",".join(given["strategy"][-1:]) or "x",
                   given["param"])
