#!/bin/bash
# Snapshot of what fcast prints (JSON), to check a refactor changes no figure:
#   bench/outputs_snapshot.sh /tmp/before; (change code); bench/outputs_snapshot.sh /tmp/after; diff -r /tmp/before /tmp/after
set -e
OUT=$1; mkdir -p $OUT
export FCAST_HOME=$(mktemp -d) FCAST_OFFLINE=1 CUDA_VISIBLE_DEVICES=-1 TF_CPP_MIN_LOG_LEVEL=3
F=.venv/bin/fcast
$F evaluate ^GSPC --source bundled --model logreg --start 2012-01-01 --json > $OUT/eval_logreg.json
$F evaluate ^GSPC --source bundled --model mlp --epochs 3 --start 2014-01-01 --test-days 252 --json > $OUT/eval_mlp.json
$F backtest AAPL --source bundled --model logreg --start 2008-01-01 --json > $OUT/bt_aapl_logreg.json
$F backtest MSFT --source bundled --model gbm --start 2008-01-01 --strategy long-short --param upper=0.52 --min-commission 5 --json > $OUT/bt_msft_gbm_ls.json
$F backtest KO --source bundled --model logreg --start 2008-01-01 --strategy vol-targeted --features <(printf 'garch = true\nday_of_week = true\n') --json > $OUT/bt_ko_vt.json
$F backtest ^GSPC --source bundled --model lstm --epochs 2 --start 2015-01-01 --test-days 252 --json > $OUT/bt_gspc_lstm.json
