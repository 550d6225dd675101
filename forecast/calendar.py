"""Calendar conventions shared by metrics and strategies."""

# Trading days in a year: annualises daily volatility (sqrt) and returns.
TRADING_DAYS = 252
