"""Portfolios across a universe: pooled or per-ticker forecasts on the universe's calendar,
cross-sectional ranking strategies on backtrader (one feed per ticker), and the IC of the
forecasts."""
