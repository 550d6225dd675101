"""Tomorrow's orders from today's model: the last row of the backtest a configuration
defines (`ticker_signals`, `portfolio_signal`), as a document (`signal_document`) with
orders for an account (`orders_for`). See docs/SIGNALS.md."""

from forecast.signal.config import SignalConfig
from forecast.signal.document import signal_document
from forecast.signal.orders import orders_for, read_positions
from forecast.signal.portfolio import portfolio_signal
from forecast.signal.ticker import ticker_signals

__all__ = ["SignalConfig", "orders_for", "portfolio_signal", "read_positions", "signal_document",
           "ticker_signals"]
