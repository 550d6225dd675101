"""Real daily bars that work offline: the index series the `arch` package ships."""

from __future__ import annotations

from forecast.data.files import normalize_columns
from forecast.data.frame import validate_bars
from forecast.errors import TickerError

# Ticker -> (arch.data module name, description).
SAMPLES = {
    "^GSPC": ("sp500", "S&P 500 index, daily, 1999-2018 (arch.data.sp500)"),
    "^IXIC": ("nasdaq", "NASDAQ Composite index, daily, 1999-2018 (arch.data.nasdaq)"),
}


def load_sample(ticker: str):
    """Load one of the bundled sample series as validated canonical bars."""
    key = ticker.upper()
    if key not in SAMPLES:
        raise TickerError(
            f"{ticker}: not a sample ticker; the samples are {', '.join(SAMPLES)}"
        )
    import importlib

    module = importlib.import_module(f"arch.data.{SAMPLES[key][0]}")
    raw = module.load()
    return validate_bars(normalize_columns(raw, key), key, source="sample")
