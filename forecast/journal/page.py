"""A journal's page (`fcast journal show NAME --html FILE`): its chain, its calls, and per
ticker the live record beside the backtest (figures and cumulative return)."""

from __future__ import annotations

from pathlib import Path

from forecast.report import html as h


def write_page(name: str, docs: list[dict], path, *, home=None) -> Path:
    from forecast.atomic import write_atomic
    from forecast.errors import FcastError
    from forecast.journal.score import score_journal

    rows = [[seq, doc["created"], r["as_of"], r["ticker"], h.number(r.get("prob_up"), "num3"),
             h.number(r.get("target")), len(doc.get("orders") or [])]
            for seq, doc in enumerate(docs, start=1) for r in doc["signals"]]
    sections = [h.section("calls", "Calls, as journaled",
                          h.table(["#", "made (UTC)", "as of", "ticker", "P(up)", "target", "orders"], rows,
                                  numeric_from=4))]
    try:
        scores = score_journal(name, home=home)
    except FcastError as exc:  # nothing scorable yet, or a portfolio journal: said on the page
        scores, why = [], str(exc)
    else:
        why = None
    for s in scores:
        sections.append(_score_section(s))
    if why:
        sections.append(h.section("score", "Live record", h.note(why)))
    config = docs[0]["config"] if docs else {}
    meta = [("entries", len(docs)), ("configuration", str(docs[0]["config_hash"])[:12] if docs else "-"),
            ("model", (config.get("model") or {}).get("name") or config.get("model_path")),
            ("strategy", config.get("strategy")),
            ("folds from", (config.get("walk_forward") or {}).get("test_start"))]
    text = h.page(f"Journal {name}", subtitle="signals written before their outcome, chained by hash",
                  meta=meta, sections=sections, kind="journal")
    return write_atomic(Path(path), text.encode("utf-8"))


def _score_section(s) -> h.Html:
    figures = [("accuracy", "accuracy", "pct"), ("accuracy SE", "accuracy_se", "pct"),
               ("total return", "total_return", "pct"), ("Sharpe", "sharpe", "num"),
               ("Sharpe SE", "sharpe_se", "num"), ("PSR (vs 0)", "psr", "pct")]
    table = h.table(["", "live", "backtest, same days"],
                    [[label, h.number(s.live.get(k), kind), h.number(s.backtest.get(k), kind)]
                     for label, k, kind in figures])
    body = [table, h.note(f"{s.days} days scored, {s.pending} waiting; verdict: {s.verdict['text']}")]
    if s.live_returns is not None and len(s.live_returns) > 1:
        body.append(h.chart(_curves(s), f"journal-{s.ticker}", f"{s.ticker}: live and backtest growth"))
    return h.section(f"score-{s.ticker}", f"{s.ticker}: live beside the backtest", *body)


def _curves(s):
    import pandas as pd

    from forecast.charts.base import page_figure

    fig = page_figure()
    ax = fig.add_subplot()
    frame = pd.DataFrame({"live": (1 + s.live_returns).cumprod(),
                          "backtest": (1 + s.backtest_returns).cumprod()})
    ax.plot(frame.index, frame["live"], lw=1.4, label="live (journaled calls)")
    ax.plot(frame.index, frame["backtest"], lw=1.0, ls="--", label="backtest, same days")
    ax.set_ylabel("growth of 1")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return fig
