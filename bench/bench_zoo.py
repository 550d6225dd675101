"""A Qlib-style benchmark table for US stocks: every model x feature set x target x seed on a
point-in-time universe, scored by IC, ICIR, rank IC, rank ICIR and a long-short book.

Reads a universe imported with `fcast universe import` (by default `us_liquid` from
../shared/data/us_liquid; docs/BENCHMARKS.md has the import command), runs one pooled
walk-forward per (model, feature set, target, seed) through the prediction cache (a rerun
trains nothing), and writes `zoo.md`, `zoo.csv` (one row per run) and `zoo_daily.parquet`
(each run's daily IC and long-short returns) into --out, rewriting them after every run so a
stopped run keeps what it finished.

    python bench/bench_zoo.py --home FCAST_HOME --out OUT [--models logreg,gbm,lgbm,mlp,lstm,...]
        [--features returns,alpha158] [--targets beats-median,return] [--seeds 5 [--first-seed 0]]
        [--test-from 2010-01-01 | --periods N] [--epochs E] [--k 50]

The design (docs/BENCHMARKS.md states every difference from Qlib's):
- study periods as Krauss et al.: 750 training days, a fresh model every 250 trading days
  (`warm_start=False`), trained on the members at the training period's end, members per year
  ranked; the test span runs from --test-from (default 2010-01-01) to the data's end;
- feature sets: `returns` (the one-day log return, standardised per ticker on its training
  span, in 60-day windows: Qlib's Alpha360 idea with one field instead of six) and `alpha158`
  (the alpha158-style set, forecast.features; sequence models read its last 20 days, as Qlib's
  GRU/LSTM read 20-day windows of Alpha158);
- targets: `beats-median` (direction; the score is P(beats the day's median)) and, where this
  fcast has them, `return` (the next traded return; the score is the predicted return);
- IC and rank IC: each day's Pearson / Spearman correlation of the score with the traded
  return (open t+1 to open t+2) over that day's ranked members; ICIR = mean / std of the daily
  IC (not annualised, as Qlib);
- the book: $1 long the top 50 and $1 short the bottom 50 by score each day, equal weight,
  5 bp per half-turn on the weights that change; annualised return = 252 x mean daily return,
  Sharpe annualised; turnover one-way per day.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import replicate_papers as rp  # noqa: E402  (the universe loading, ranking and scoring pieces)

SEQUENCE_MODELS = ("lstm", "gru", "tcn", "transformer")
TREE_MODELS = ("gbm", "lgbm", "rf")
TRAIN_DAYS, TRADE_DAYS = 750, 250
K = 50
COST = 0.0005

# Qlib's CSI300 benchmark (examples/benchmarks/README.md, 20 seeds, mean): IC, ICIR, rank IC,
# rank ICIR, annualised excess return, information ratio. Its book is top-50 long-only with a
# drop-5 turnover rule against the CSI300 index, after 0.05%/0.15% open/close costs: not ours.
QLIB = {
    ("alpha158", "logreg"): ("Linear", 0.0397, 0.3000, 0.0472, 0.3531, 0.0692, 0.9209),
    ("alpha158", "mlp"): ("MLP", 0.0376, 0.2846, 0.0429, 0.3220, 0.0895, 1.1408),
    ("alpha158", "lgbm"): ("LightGBM", 0.0448, 0.3660, 0.0469, 0.3877, 0.0901, 1.0164),
    ("alpha158", "transformer"): ("Transformer", 0.0264, 0.2053, 0.0407, 0.3273, 0.0273, 0.3970),
    ("alpha158", "gru"): ("GRU (20 features)", 0.0315, 0.2450, 0.0428, 0.3440, 0.0344, 0.5160),
    ("alpha158", "lstm"): ("LSTM (20 features)", 0.0318, 0.2367, 0.0435, 0.3389, 0.0381, 0.5561),
    ("returns", "mlp"): ("MLP, Alpha360", 0.0273, 0.1870, 0.0396, 0.2910, 0.0029, 0.0274),
    ("returns", "lgbm"): ("LightGBM, Alpha360", 0.0400, 0.3037, 0.0499, 0.4042, 0.0558, 0.7632),
    ("returns", "lstm"): ("LSTM, Alpha360", 0.0448, 0.3474, 0.0549, 0.4366, 0.0647, 0.8963),
    ("returns", "gru"): ("GRU, Alpha360", 0.0493, 0.3772, 0.0584, 0.4638, 0.0720, 0.9730),
    ("returns", "tcn"): ("TCN, Alpha360", 0.0441, 0.3301, 0.0519, 0.4130, 0.0604, 0.8295),
    ("returns", "transformer"): ("Transformer, Alpha360", 0.0114, 0.0716, 0.0327, 0.2248, -0.0270, -0.3378),
}


# --- what runs -----------------------------------------------------------------------------------
def feature_set(name: str, model: str) -> tuple[object, int, dict]:
    """(FeatureSpec, window, extra model params) of a feature set for a model."""
    from forecast.features import FeatureSpec

    sequence = model in SEQUENCE_MODELS
    if name == "returns":
        # tabular models read the whole 60-day window flattened
        extra = {} if sequence else {"input_mode": "flatten"}
        return FeatureSpec(return_lags=(1,), **rp.OFF), 60, extra
    if name == "alpha158":
        spec = alpha158_spec()
        return spec, (20 if sequence else 1), ({} if sequence or model == "mlp" else {"input_mode": "latest"})
    raise SystemExit(f"unknown feature set {name!r}; choose returns or alpha158")


def alpha158_spec():
    """The alpha158-style feature set (the `alpha158` preset: Qlib's 158 factors and ret_1)."""
    from forecast.features import FeatureSpec
    from forecast.features.presets import preset_options

    return FeatureSpec(**preset_options("alpha158"))


def model_params(model: str, seed: int, epochs: int) -> dict:
    """The models' settings for the table: a fresh model each study period; Keras models get
    `epochs` (early stopping on the last 20% of the training span, patience 3)."""
    keras = dict(epochs=epochs, batch_size=1024, patience=3, warm_start=False, seed=seed)
    table = {
        "logreg": {},
        "gbm": dict(max_iter=100, learning_rate=0.1, max_depth=3, seed=seed),
        "lgbm": dict(seed=seed),
        "rf": dict(n_estimators=50, max_depth=20, max_samples=0.1, n_jobs=2, seed=seed),
        "mlp": dict(keras, hidden_units=(64, 32), dropout=0.1),
        "lstm": dict(keras, units=(32,), dropout=0.1),
        "gru": dict(keras, units=(32,), dropout=0.1),
        "tcn": dict(keras, dropout=0.1),
        "transformer": dict(keras, dropout=0.1),
    }
    if model not in table:
        raise SystemExit(f"no benchmark settings for model {model!r}")
    return table[model]


def deterministic(model: str) -> bool:
    """Models whose fit does not depend on the seed: one run stands for every seed."""
    return model == "logreg"


# --- one run -------------------------------------------------------------------------------------
def run_one(universe, model: str, features: str, target: str, seed: int, *, home, test_days: int,
            epochs: int, k: int, filters, log=print):
    spec, window, extra = feature_set(features, model)
    wf = rp.walk_forward_args(spec, window, 1, seed=seed)
    wf.update(test_days=test_days, target=target)
    params = {**model_params(model, seed, epochs), **extra}
    label = f"{model}/{features}/{target}/seed {seed}"
    preds, timing = rp.forecasts(universe, model, params, wf, home=home, label=label, log=log)
    column = "score" if "score" in preds.columns else "prob_up"
    score = rp.candidates(universe, preds[column].unstack("ticker"), filters)
    realized = preds["realized"].unstack("ticker")
    from forecast.portfolio.ic import ic_summary, information_coefficients
    from forecast.stats import sharpe_se
    from forecast.stats.sharpe import sharpe_ratio

    ic = information_coefficients(score, realized)
    s = ic_summary(ic)
    gross, net, traded = rp.long_short(score, realized, k, COST)
    from topk_dropout import qlib_figures, topk_dropout

    qlib_book = qlib_figures(topk_dropout(score, realized, k=k, n_drop=5))
    row = {
        "model": model, "features": features, "target": target, "seed": seed,
        "IC": s["mean_ic"], "ICIR": s["icir"], "rank IC": s["mean_rank_ic"], "rank ICIR": s["rank_icir"],
        "IC t": s["t_stat"], "ann. return": 252 * float(net.mean()), "Sharpe": sharpe_ratio(net),
        "Sharpe SE": sharpe_se(net), "ann. return gross": 252 * float(gross.mean()),
        "turnover": float(traded.mean() / 4), "days": len(net),
        "topk excess": qlib_book["excess_return"], "topk IR": qlib_book["information_ratio"],
        "names a day": float(score.notna().sum(axis=1).mean()),
        "periods": timing["periods"], "seconds": timing["seconds"],
        "seconds per period": timing["seconds"] / max(1, timing["periods"]), "cache": timing["cache"],
    }
    daily = pd.DataFrame({"ic": ic["ic"], "rank_ic": ic["rank_ic"]}).join(
        pd.DataFrame({"gross": gross, "net": net}), how="outer")
    daily = daily.assign(model=model, features=features, target=target, seed=seed)
    return row, daily


# --- the table -----------------------------------------------------------------------------------
FIGURES = ("IC", "ICIR", "rank IC", "rank ICIR", "ann. return", "Sharpe", "turnover", "topk excess",
           "topk IR", "seconds per period")


def summary(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Per (features, target, model): the mean and the seed spread (std) of every figure, and
    the number of seeds run."""
    # a run read from the cache trained nothing: its time says nothing about training
    rows = rows.assign(**{"seconds per period": rows["seconds per period"].where(rows["cache"] != "hit")})
    groups = rows.groupby(["features", "target", "model"], sort=False)
    return groups[list(FIGURES)].agg(["mean", "std"]), groups.size()


def fmt_cell(mean: float, std: float, digits: int) -> str:
    if not math.isfinite(mean):
        return ""
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if math.isfinite(std) else "")


def markdown(rows: pd.DataFrame) -> str:
    table, seeds = summary(rows)
    head = ("| features | target | model | seeds | IC | ICIR | rank IC | rank ICIR | ann. return (5 bp) | "
            "Sharpe (5 bp) | turnover | top-k/drop-5 excess | IR | s / period | "
            "Qlib CSI300: model, IC, ICIR, rank IC, rank ICIR, ann. "
            "excess return, IR |")
    lines = [head, "|" + "---|" * 3 + "---:|" * 11 + "---|"]
    digits = {"IC": 4, "ICIR": 3, "rank IC": 4, "rank ICIR": 3, "ann. return": 3, "Sharpe": 2,
              "turnover": 2, "topk excess": 3, "topk IR": 2, "seconds per period": 0}
    for (features, target, model), r in table.iterrows():
        cells = [fmt_cell(r[(f, "mean")], r[(f, "std")], digits[f]) for f in FIGURES]
        q = QLIB.get((features, model))
        ref = f"{q[0]}: {', '.join(f'{v:.4f}' for v in q[1:])}" if q else ""
        lines.append(f"| {features} | {target} | {model} | {seeds[features, target, model]} | "
                     + " | ".join(cells) + f" | {ref} |")
    return "\n".join(lines) + "\n"


def write(rows: list[dict], daily: list[pd.DataFrame], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "zoo.csv", index=False)
    (out / "zoo.md").write_text(markdown(frame))
    if daily:
        pd.concat(daily).to_parquet(out / "zoo_daily.parquet")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="FCAST_HOME holding the imported universe")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--universe", default="us_liquid")
    ap.add_argument("--models", default="logreg,gbm,lgbm,mlp,lstm,gru,tcn,transformer")
    ap.add_argument("--features", default="returns,alpha158")
    ap.add_argument("--targets", default="beats-median")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run seeds FIRST..FIRST+SEEDS-1 (one process a seed keeps memory down; a "
                         "later run over every seed reads them from the prediction cache)")
    ap.add_argument("--test-from", default="2010-01-01")
    ap.add_argument("--periods", type=int, default=None,
                    help="only the last N study periods of 250 days (a sample of the full run)")
    ap.add_argument("--start", default="2005-01-01", help="first bar loaded (750 training days + warm-up)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--k", type=int, default=K)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    universe = rp.load(args.home, args.universe, start=args.start)
    cal = universe.calendar
    from_date = int((cal >= pd.Timestamp(args.test_from)).sum())
    test_days = args.periods * TRADE_DAYS if args.periods else from_date
    print(f"universe {args.universe}: {len(universe.bars)} tickers, {len(cal):,} days; test span "
          f"{test_days:,} days from {cal[-test_days].date()} (loaded in {time.perf_counter() - t0:.0f} s)",
          flush=True)
    filters = rp.default_filters()
    rows, daily = [], []
    for features in args.features.split(","):
        for target in args.targets.split(","):
            for model in args.models.split(","):
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    if seed != args.first_seed and deterministic(model):
                        break
                    row, d = run_one(universe, model, features, target, seed, home=args.home,
                                     test_days=test_days, epochs=args.epochs, k=args.k, filters=filters)
                    rows.append(row)
                    daily.append(d)
                    write(rows, daily, args.out)
                    print(f"  {model}/{features}/{target}/seed {seed}: IC {row['IC']:+.4f} rank IC "
                          f"{row['rank IC']:+.4f} ann. return {row['ann. return']:+.3f} Sharpe "
                          f"{row['Sharpe']:+.2f} ({row['seconds per period']:.0f} s a period)", flush=True)
    print(f"wrote {args.out / 'zoo.md'} ({len(rows)} runs, {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
