"""What `fcast data update` prints from an `UpdateReport`: a table of the tickers that changed,
one line per problem, a summary; or one JSON document. Exit 1 unless every ticker was asked."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from forecast.cli.console import err, out
from forecast.data.update import FAILED, KEPT, SKIPPED, UP_TO_DATE, UPDATED, UpdateReport
from forecast.formatting import count

SHOWN = 5  # tickers named in a line, then "and N more"


def show_update(report: UpdateReport, store, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    elif report.reachable is False:
        _errors(report)
        kept = len(report.having(KEPT))
        err.print(f"error: Yahoo Finance is unreachable (no network? FCAST_OFFLINE set?): nothing "
                  f"updated, the stored bars of {count(kept, 'ticker')} kept as they were",
                  markup=False, soft_wrap=True)
    else:
        _changes(report, store)
    if not report.ok:
        raise typer.Exit(1)


def _changes(report: UpdateReport, store) -> None:
    updated = report.having(UPDATED)
    if updated:
        table = Table(title="Updated from Yahoo Finance")
        for col in ("ticker", "new bars", "new dates", "revised", "last"):
            table.add_column(col, justify="right" if col == "new bars" else "left")
        for r in updated:
            new_dates = f"{r.first_new} to {r.last_new}" if r.added else "-"
            table.add_row(r.ticker, f"{r.added:,}", new_dates, _revised(r), r.last)
        out.print(table)
    for r in updated:
        for warning in r.warnings:
            err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    skipped = report.having(SKIPPED)
    if skipped:
        out.print(f"skipped {count(len(skipped), 'ticker')} whose bars are not Yahoo's, never mixed with "
                  f"it ({_names(skipped)}); `fcast data fetch TICKER --replace` swaps them",
                  markup=False, soft_wrap=True)
    if report.without_bars:
        missing = report.without_bars
        more = f" and {len(missing) - SHOWN:,} more" if len(missing) > SHOWN else ""
        out.print(f"{count(len(missing), 'member')} of {report.universe} without stored bars "
                  f"({', '.join(missing[:SHOWN])}{more}): `fcast data fetch TICKER` downloads them",
                  markup=False, soft_wrap=True)
    out.print(_summary(report, store), markup=False, soft_wrap=True)
    _errors(report)


def _revised(r) -> str:
    if not r.revised:
        return "0"
    note = ", history re-adjusted" if r.readjusted else ""
    return f"{r.revised:,} from {r.revised_from}{note}"


def _names(results) -> str:
    names = [r.ticker for r in results]
    more = f" and {len(names) - SHOWN:,} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def _summary(report: UpdateReport, store) -> str:
    if not report.results:
        where = f"universe {report.universe} has no tickers in the store" if report.universe \
            else f"the store at {store.home} holds no tickers"
        return f"{where}: nothing to update"
    n = report.counts()
    updated = report.having(UPDATED)
    added, revised = sum(r.added for r in updated), sum(r.revised for r in updated)
    parts = [f"updated {n[UPDATED]:,} of {count(len(report.results), 'ticker')}"
             + (f" (+{count(added, 'bar')}, {revised:,} revised)" if updated else ""),
             f"{n[UP_TO_DATE]:,} up to date"]
    parts += [f"{n[s]:,} {word}" for s, word in ((SKIPPED, "skipped"), (FAILED, "failed"),
                                                   (KEPT, "not asked")) if n[s]]
    return "; ".join(parts)


def _errors(report: UpdateReport) -> None:
    for r in report.having(FAILED):
        err.print(f"error: {r.message}", markup=False, soft_wrap=True)
    kept = report.having(KEPT)
    if kept and report.stopped:  # stopped half way: one line for all of them
        err.print(f"error: {report.stopped}: {count(len(kept), 'ticker')} not asked ({_names(kept)}), their "
                  "stored bars kept; try again later", markup=False, soft_wrap=True)
