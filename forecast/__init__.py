"""fcast: leak-free forecasting and backtesting of daily market data.

Importing this package is cheap: TensorFlow is only imported on the paths that
train or predict with a Keras model.
"""

__version__ = "0.1.0"
