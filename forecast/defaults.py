"""Every default a user can override, declared once.

The CLI options, experiment specs, the Python API, the walk-forward and the engines read
these names instead of writing the numbers again. This module imports nothing, so any
layer may read it.
"""

# Walk-forward
WINDOW = 20  # bars of history in each sample
HORIZON = 1
RETRAIN_EVERY = 63  # refit every quarter of trading days
MIN_TRAIN = 252  # at least a year of training decisions per fold
TRAIN_WINDOW = None  # None: expanding training span
TEST_SHARE = 0.2  # share of bars with valid features tested when test_days is not given
LABEL = "open"
# What a walk-forward learns: the direction of the traded return (P(up), what single-ticker
# strategies trade), or the return itself, or (universes) its cross-sectional rank that day.
TARGET = "direction"
REGRESSION_TARGETS = ("return", "rank")
SEED = 0

# Models
SINGLE_TICKER_MODEL = "lstm"
PORTFOLIO_MODEL = "logreg"
DEVICE = "auto"

# Trading
STRATEGY = "long-only"
PORTFOLIO_STRATEGY = "long-short"
PORTFOLIO_TARGET = "direction"
# Who a pooled universe model trains on when the universe has a point-in-time membership:
# the members on the fold's last training decision date, as Krauss et al. (2017) and
# Fischer & Krauss (2018) train on the constituents at the end of each training period.
TRAIN_ON = "members"
TRAIN_ON_CHOICES = ("members", "all")
ENGINE = "auto"  # the vector engine where it reproduces the strategy, else backtrader

# Money
CASH = 100_000.0
COMMISSION = 0.001  # fraction of traded value
SLIPPAGE = 0.0005  # fraction of the fill price
MIN_COMMISSION = 0.0
REBALANCE_BAND = 0.0
MAX_FEE_SHARE = 1.0
DOLLAR_VOLUME_WINDOW = 20  # bars in the portfolio's dollar-volume filter: about a trading month
