"""`TuneResult`: a nested tuning run's out-of-sample figures and what the search spent.

Its JSON (`to_dict`, tune.json) is `fcast evaluate --json`'s (the tuned model's metrics at
the top, the baselines nested) plus `trials`, `trials_per_fold`, `params_per_fold`, the
per-fold search record (`tune`), the default strategy's backtest of the tuned forecasts
and the deflated Sharpe ratio and PBO counted with every trial spent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from forecast.formatting import count
from forecast.jsonsafe import json_safe
from forecast.run_result import RunRecord

_AT_TOP = ("trials", "trials_per_fold", "params_per_fold")  # of the tune record, printed at the top


@dataclass
class TuneResult:
    evaluation: Any  # EvaluationReport: the tuned model first, then the baselines
    backtest: Any  # BacktestResult of the tuned forecasts with the default strategy
    tune: dict  # the predictions' attrs["tune"]: settings, trials, per-fold searches
    dsr: float | None
    pbo: float | None
    seed: int

    kind: ClassVar[str] = "tune"

    @property
    def title(self) -> str:
        return f"{self.evaluation.ticker}: the tuning run"

    @property
    def trials(self) -> int:
        return int(self.tune["trials"])

    @property
    def predictions(self) -> pd.DataFrame:
        return self.evaluation.predictions[self.evaluation.model]

    def verdict(self) -> str:
        """One line: the tuned accuracy, the strategy's Sharpe, and the trials behind them."""
        d = self.to_dict()
        per_fold = d["trials_per_fold"]
        spread = (f"{per_fold[0]} per fold" if len(set(per_fold)) == 1
                  else f"{min(per_fold)}-{max(per_fold)} per fold")
        fmt = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
        acc = d.get("accuracy")
        acc_text = "n/a" if acc is None else f"{acc:.3f} ± {d.get('accuracy_se') or 0:.3f}"
        return (f"{d['model']}: out-of-sample accuracy {acc_text} on {d.get('n')} days; "
                f"{d['strategy']['name']} Sharpe {fmt(d['strategy']['sharpe'])}; {self.trials} trials spent "
                f"({spread}, {count(len(per_fold), 'fold')}): DSR {fmt(self.dsr)}, PBO {fmt(self.pbo)}")

    def to_dict(self) -> dict:
        out = self.evaluation.to_dict()
        out["settings"] = {k: v for k, v in out["settings"].items() if k != "tune"}
        strat = self.backtest.metrics["strategy"]
        tune = self.tune
        return json_safe({
            **out,
            "trials": tune["trials"],
            "trials_per_fold": tune["trials_per_fold"],
            "params_per_fold": tune["params_per_fold"],
            "strategy": {"name": self.backtest.strategy, "sharpe": strat.get("sharpe"),
                         "total_return": strat.get("total_return"), "cagr": strat.get("cagr"),
                         "max_drawdown": strat.get("max_drawdown"), "n_trades": strat.get("n_trades"),
                         "start": self.backtest.start, "end": self.backtest.end},
            "benchmark": {"name": "buy-and-hold", "sharpe": self.backtest.metrics["benchmark"].get("sharpe"),
                          "total_return": self.backtest.metrics["benchmark"].get("total_return")},
            "dsr": self.dsr,
            "pbo": self.pbo,
            "pbo_per_fold": [f["pbo"] for f in tune["folds"]],
            "tune": {k: v for k, v in tune.items() if k not in _AT_TOP},
            "seed": self.seed,
        })

    def trial_table(self) -> pd.DataFrame:
        """One row per trial spent: fold, trial number, state, score, Sharpe, parameters."""
        rows = [{"fold": f["fold"], "trial": t["number"], "state": t["state"], "value": t["value"],
                 "sharpe": t["sharpe"], "chosen": _chosen(f, t),
                 "params": json.dumps(t["params"], sort_keys=True)}
                for f in self.tune["folds"] for t in f["trial_log"]]
        return pd.DataFrame(rows, columns=["fold", "trial", "state", "value", "sharpe", "chosen", "params"])

    def run_record(self) -> RunRecord:
        d = self.to_dict()
        metrics = {"start": d["start"], "end": d["end"], "strategy": d["strategy"],
                   "benchmark": d["benchmark"], "forecast": {"accuracy": d.get("accuracy")},
                   "trials": d["trials"], "dsr": d["dsr"], "pbo": d["pbo"]}
        summary = {"ticker": d["ticker"], "model": d["model"], "strategy": d["strategy"]["name"],
                   "seed": self.seed, "trials": d["trials"]}
        return RunRecord(summary=summary, metrics=metrics)

    def write(self, folder: str | Path, *, plot: bool = True) -> Path:
        """tune.json, predictions.csv (the tuned forecasts), trials.csv (every trial) and
        equity.csv (the default strategy on the tuned forecasts, and buy-and-hold)."""
        from forecast.output_dir import write_files

        writers = {
            "tune.json": lambda p: p.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False)),
            "predictions.csv": lambda p: self.predictions.to_csv(p, index_label="date",
                                                                 date_format="%Y-%m-%d"),
            "trials.csv": lambda p: self.trial_table().to_csv(p, index=False),
            "equity.csv": lambda p: self.backtest.equity.to_csv(p, index_label="date",
                                                                date_format="%Y-%m-%d"),
        }
        return write_files(Path(folder), writers)


def _chosen(fold: dict, trial: dict) -> bool:
    """The trial the fold chose: by number (records before fcast kept it: by parameters)."""
    if fold.get("best_trial") is not None:
        return trial["number"] == fold["best_trial"]
    return trial["params"] == fold["best_params"]
