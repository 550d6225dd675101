"""Every chart fcast draws: equity.png and the backtest, experiment and portfolio pages.

- :mod:`~forecast.charts.base`: the figure factory and the axis helpers (percent, money and
  growth log axes, diverging heatmap cells) every chart is built from.
- :mod:`~forecast.charts.curves`: log equity, drawdown and monthly-returns charts of equity
  curves, shared by the pages and equity.png.
- :mod:`~forecast.charts.backtest`: the rest of the backtest page's charts.
- :mod:`~forecast.charts.cross`: the rest of the experiment and portfolio pages' charts.

matplotlib's object API only (a `Figure` on its own Agg canvas, never pyplot): a chart is
drawn in a library call, possibly in a worker, touches no global state and needs no
display. No module here reads files or computes a figure a page prints; the numbers come
from `forecast.stats.returns`. Importing this package imports nothing heavy; its modules
import matplotlib.
"""
