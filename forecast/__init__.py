"""fcast: leak-free forecasting and backtesting of daily market data.

The public API (all lazily imported, so `import forecast` stays cheap and never imports
TensorFlow)::

    import forecast as fc
    bars = fc.load("^GSPC", source="bundled")
    report = fc.evaluate_model(bars, "mlp", test_days=252)   # model vs baselines
    preds = fc.predict(bars, "mlp", test_days=252)            # out-of-sample, with provenance
    result = fc.run_backtest(bars, preds, strategy="long-only")
    fig = fc.plot_equity(result)
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {
    "load": "forecast.api",
    "build_features": "forecast.api",
    "make_forecaster": "forecast.api",
    "model_params_for": "forecast.api",
    "walk_forward": "forecast.api",
    "evaluate_model": "forecast.api",
    "train": "forecast.api",
    "run_backtest": "forecast.api",
    "rescore": "forecast.api",
    "plot_equity": "forecast.api",
    "predict": "forecast.api",
    "over_seeds": "forecast.api",
    "ensemble_predictions": "forecast.evaluate.ensemble",
    "tune_model": "forecast.tune.api",
    "TuneSettings": "forecast.tune",
    "Predictions": "forecast.evaluate.predictions",
    "predict_forward": "forecast.training",
    "save_trained": "forecast.training",
    "load_trained": "forecast.training",
    "TrainedModel": "forecast.training",
    "FeatureSpec": "forecast.features",
    "FeaturePipeline": "forecast.features",
    "Store": "forecast.data.store",
    "FcastError": "forecast.errors",
    "DataError": "forecast.errors",
    "ConfigError": "forecast.errors",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
