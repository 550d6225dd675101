"""Backtrader strategies driven by fcast's out-of-sample predictions."""
