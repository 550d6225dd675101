"""The tables `fcast universe show` prints, from forecast.data.universes' frames."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from forecast.formatting import fmt


def _day(value) -> str:
    return "-" if pd.isna(value) else str(pd.Timestamp(value).date())


def years_table(universe) -> Table:
    from forecast.data.universes import year_coverage

    table = Table(title=f"{universe.name}: members per year")
    for col in ("year", "members", "with bars", "coverage"):
        table.add_column(col, justify="right")
    for year, row in year_coverage(universe).iterrows():
        table.add_row(str(year), fmt(int(row["members"]), "int"), fmt(int(row["with_bars"]), "int"),
                      f"{row['coverage']:.1%}")
    return table


def members_table(universe, year: int) -> Table:
    from forecast.data.universes import year_members

    frame = year_members(universe, year)
    table = Table(title=f"{universe.name}: {len(frame)} members in {year}")
    for col in ("ticker", "member from", "member to", "bars from", "bars to", "bars"):
        table.add_column(col, justify="right" if col == "bars" else "left")
    for ticker, row in frame.iterrows():
        table.add_row(str(ticker), _day(row["member_from"]), _day(row["member_to"]), _day(row["first"]),
                      _day(row["last"]), "-" if pd.isna(row["rows"]) else fmt(int(row["rows"]), "int"))
    return table
