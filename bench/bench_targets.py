"""IC of each universe target on the bundled Dow 30 (2008 on): direction, beats-median,
return and rank, pooled gbm, long-short k=5 at the default costs. Prints one line a target.

    FCAST_OFFLINE=1 .venv/bin/python bench/bench_targets.py [model]
"""

import sys
import time

from forecast.portfolio.run import run_portfolio_backtest

MODEL = sys.argv[1] if len(sys.argv) > 1 else "gbm"

for target in ("direction", "beats-median", "return", "rank"):
    t0 = time.time()
    r = run_portfolio_backtest("dow30", model=MODEL, target=target, strategy="long-short", params={"k": 5},
                               source="bundled", start="2008-01-01", walk_forward={"seed": 0})
    ic = r.ic_summary
    print(f"{target:13s} IC {ic['mean_ic']:+.4f} (t {ic['t_stat']:+.2f})  rank IC {ic['mean_rank_ic']:+.4f} "
          f"(t {ic['rank_t_stat']:+.2f})  days {ic['n_days']}  spread {r.spread['mean'] * 1e4:+.2f} bp/day  "
          f"Sharpe {r.backtest.metrics['strategy']['sharpe']:+.2f}  {time.time() - t0:.0f} s")
