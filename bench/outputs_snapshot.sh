#!/bin/bash
# Snapshot of what fcast prints and writes, to check a refactor changes no figure:
#   bench/outputs_snapshot.sh /tmp/before; (change code); bench/outputs_snapshot.sh /tmp/after; diff -r /tmp/before /tmp/after
# Files that hold a run id or a wall-clock time (report.html, run ids in JSON) are normalised
# by bench/normalise_outputs.py so the diff shows only figures.
set -e
OUT=$1; mkdir -p $OUT
export FCAST_HOME=$(mktemp -d) FCAST_OFFLINE=1 CUDA_VISIBLE_DEVICES=-1 TF_CPP_MIN_LOG_LEVEL=3
F=${FCAST:-.venv/bin/fcast}
PY=${PY:-.venv/bin/python}
$F evaluate ^GSPC --source bundled --model logreg --start 2012-01-01 --json > $OUT/eval_logreg.json
$F evaluate ^GSPC --source bundled --model mlp --epochs 3 --start 2014-01-01 --test-days 252 --json > $OUT/eval_mlp.json
$F backtest AAPL --source bundled --model logreg --start 2008-01-01 --json > $OUT/bt_aapl_logreg.json
$F backtest MSFT --source bundled --model gbm --start 2008-01-01 --strategy long-short --param upper=0.52 --min-commission 5 --json > $OUT/bt_msft_gbm_ls.json
$F backtest KO --source bundled --model logreg --start 2008-01-01 --strategy vol-targeted --features <(printf 'garch = true\nday_of_week = true\n') --json > $OUT/bt_ko_vt.json
$F backtest ^GSPC --source bundled --model lstm --epochs 2 --start 2015-01-01 --test-days 252 --json > $OUT/bt_gspc_lstm.json
# Output folders: every file a backtest, a portfolio and an experiment write.
$F backtest KO MSFT --source bundled --model logreg --strategy long-only,long-short --param upper=0.52 --start 2014-01-01 --output $OUT/bt_grid > /dev/null
$F portfolio KO MSFT AAPL IBM XOM --source bundled --start 2013-01-01 --model logreg --strategy long-short --param k=1 --test-days 252 --json > $OUT/pf_pooled.json
$F portfolio KO MSFT AAPL IBM XOM JNJ --source bundled --start 2013-01-01 --model logreg --per-ticker --target beats-median --strategy top-k --param k=2 --test-days 252 --output $OUT/pf_per_ticker > /dev/null
cat > $FCAST_HOME/exp.toml <<'TOML'
name = "snapshot"
tickers = ["KO", "MSFT"]
start = "2014-01-01"
seeds = [0]

[walk_forward]
test_days = 252

[[models]]
name = "logreg"

[[models]]
name = "gbm"

[[strategies]]
name = "long-only"

[[strategies]]
name = "long-short"
params = { upper = 0.55 }

[[portfolios]]
name = "long-short"
params = { k = 1 }
TOML
$F experiment run $FCAST_HOME/exp.toml --source bundled --output $OUT/experiment > /dev/null
$PY bench/normalise_outputs.py $OUT
