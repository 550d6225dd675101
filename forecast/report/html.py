"""Self-contained HTML: sections, tables of checkable numbers, and charts as embedded PNGs.

One file, no network: CSS and the small self-check script are inline, and every chart is
a matplotlib figure embedded as a ``data:image/png`` URI. Every figure that comes from a
run's files is written with `number()`, which keeps the raw value and where it came from
(``data-key``), so a test can check each printed figure against ``metrics.json``.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable

from forecast.formatting import fmt


class Html(str):
    """Markup that is already safe: inserted as is, never escaped again."""


def esc(value) -> Html:
    """`value` as text in HTML (Html passes through unchanged)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable) -> Html:
    return Html("".join(esc(p) for p in parts))


def tag(name: str, *children, **attrs) -> Html:
    """``<name attrs>children</name>``; attribute names lose a trailing ``_`` (``class_``)
    and ``_`` becomes ``-`` (``data_key``); None or False attributes are left out."""
    rendered = []
    for key, val in attrs.items():
        if val is None or val is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        rendered.append(key if val is True else f'{key}="{html.escape(str(val), quote=True)}"')
    opening = " ".join([name, *rendered])
    return Html(f"<{opening}>{join(children)}</{name}>")


def number(value, kind: str = "num", key: str | None = None) -> Html:
    """A figure as `fmt(value, kind)` prints it, keeping the raw value and its source.

    `key`: the dotted path of the value in the run's JSON document (``strategy.sharpe``),
    which the page tests read back; None for derived figures (yearly returns, say).
    """
    raw = None
    if value is not None and not (isinstance(value, float) and not math.isfinite(value)):
        raw = repr(float(value))
    return tag("span", fmt(value, kind), class_="n", data_key=key, data_kind=kind, data_value=raw)


def table(headers: list, rows: Iterable[list], *, cls: str = "", caption=None, numeric_from: int = 1) -> Html:
    """A table; columns from `numeric_from` on are right-aligned (figures)."""
    head = tag("tr", *(tag("th", h, class_="r" if i >= numeric_from else None)
                       for i, h in enumerate(headers)))
    body = join(
        tag("tr", *(tag("td", c, class_="r" if i >= numeric_from else None) for i, c in enumerate(row)))
        for row in rows
    )
    cap = tag("caption", caption) if caption is not None else ""
    return tag("table", cap, tag("thead", head), tag("tbody", body), class_=cls or None)


def section(id: str, title: str, *body) -> Html:
    """A titled section; `id` is the anchor the contents and the tests find it by."""
    return tag("section", tag("h2", title), *body, id=id)


def figure_png(fig, *, dpi: int = 96) -> bytes:
    """A matplotlib Figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def chart(fig, name: str, alt: str, *, dpi: int = 96) -> Html:
    """A figure embedded as an image; `name` identifies it (``data-chart``) to the browser
    test, which checks that every chart decoded and drew something."""
    data = base64.b64encode(figure_png(fig, dpi=dpi)).decode("ascii")
    return Html(f'<img class="chart" data-chart="{esc(name)}" alt="{esc(alt)}" '
                f'src="data:image/png;base64,{data}">')


def note(text, cls: str = "note") -> Html:
    return tag("p", text, class_=cls)


def link(href: str, text) -> Html:
    """A link to a relative path (pages link to each other; never to the network)."""
    if "://" in href or href.startswith("//"):
        raise ValueError(f"report links stay on disk: {href!r}")
    return tag("a", text, href=href)


CSS = """
:root { --fg:#1b1f24; --muted:#5b6570; --line:#d8dee4; --bg:#fff; --accent:#1f6feb;
        --bad:#c62828; --good:#2e7d32; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1180px; padding: 24px 28px 64px; }
header h1 { font-size: 22px; margin: 0 0 4px; }
header .sub { color: var(--muted); margin: 0 0 12px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 14px; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
nav { margin: 14px 0 6px; padding: 8px 0; border-top: 1px solid var(--line);
      border-bottom: 1px solid var(--line); }
nav a { margin-right: 12px; color: var(--accent); text-decoration: none; white-space: nowrap; }
section { margin-top: 26px; }
h2 { font-size: 17px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin: 0 0 10px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.r, th.r { text-align: right; }
caption { caption-side: bottom; text-align: left; color: var(--muted); padding-top: 4px; }
img.chart { display: block; max-width: 100%; height: auto; margin: 6px 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); gap: 8px; }
.grid img.chart { margin: 0; }
details.interactive summary { cursor: pointer; color: var(--accent); margin: 4px 0; }
.verdict { font-size: 15px; padding: 8px 12px; background: #f6f8fa; border-left: 4px solid var(--accent); }
.note { color: var(--muted); }
.warn { color: var(--bad); }
.scroll { max-height: 420px; overflow: auto; border: 1px solid var(--line); }
tr.best td { background: #fff8c5; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""

# Runs once the page has loaded: records script errors and checks that every chart image
# decoded and is not blank (more than a handful of colours), for the browser test and for
# anyone who opens the page and wonders why a picture is missing.
SELF_CHECK_JS = """
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });
  function colours(img) {  // an <img> or a <canvas>: how many colours a 200-px sample holds
    var w = Math.min(img.naturalWidth || img.width, 200), h = Math.min(img.naturalHeight || img.height, 200);
    if (!w || !h) return 0;
    var c = document.createElement('canvas'); c.width = w; c.height = h;
    var g = c.getContext('2d'); g.drawImage(img, 0, 0, w, h);
    var d = g.getImageData(0, 0, w, h).data, seen = {}, n = 0;
    for (var i = 0; i < d.length && n < 50; i += 4) {
      var k = d[i] + ',' + d[i + 1] + ',' + d[i + 2];
      if (!seen[k]) { seen[k] = 1; n++; }
    }
    return n;
  }
  window.addEventListener('load', function () {
    var charts = document.querySelectorAll('img[data-chart]'), blank = [];
    for (var i = 0; i < charts.length; i++) {
      var img = charts[i], box = img.getBoundingClientRect();
      if (!img.complete || !img.naturalWidth || box.height < 10 || colours(img) < 5) {
        blank.push(img.getAttribute('data-chart'));
      }
    }
    // interactive charts draw into a canvas (possibly inside a closed <details>)
    var canvases = document.querySelectorAll('canvas[data-canvas-chart]');
    for (var j = 0; j < canvases.length; j++) {
      if (!canvases[j].width || colours(canvases[j]) < 5) {
        blank.push(canvases[j].getAttribute('data-canvas-chart'));
      }
    }
    var b = document.body;
    b.setAttribute('data-canvases', String(canvases.length));
    b.setAttribute('data-charts', String(charts.length));
    b.setAttribute('data-blank-charts', blank.join(','));
    b.setAttribute('data-errors', errors.join(' | '));
    b.setAttribute('data-checked', 'yes');
  });
})();
"""


def page(title: str, *, subtitle=None, meta: list[tuple[str, object]] = (), sections: list[Html] = (),
         kind: str, footer=None) -> str:
    """The whole document: header (title, subtitle, metadata), contents, sections, footer.

    `meta`: (label, value) pairs shown as a grid in the header. `kind`: backtest,
    experiment or portfolio, kept on ``<body data-kind>``.
    """
    metadata = tag("dl", *(join([tag("dt", k), tag("dd", v)]) for k, v in meta), class_="meta")
    # spaces between the links: a line of contents may break between them, never inside one
    contents = tag("nav", Html(" ".join(_nav_link(s) for s in sections)))
    head = join([
        Html('<meta charset="utf-8">'),
        Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        tag("title", title),
        tag("style", Html(CSS)),
    ])
    body = join([
        tag("header", tag("h1", title), tag("p", subtitle, class_="sub") if subtitle else "", metadata),
        contents,
        *sections,
        tag("footer", footer or ""),
        tag("script", Html(SELF_CHECK_JS)),
    ])
    return "<!DOCTYPE html>\n" + tag("html", tag("head", head), tag("body", body, data_kind=kind), lang="en")


def _nav_link(section_html: str) -> str:
    """``<a href="#id">Title</a>`` for a section made by `section()`."""
    start = section_html.index('id="') + 4
    sid = section_html[start:section_html.index('"', start)]
    t0 = section_html.index("<h2>") + 4
    title = section_html[t0:section_html.index("</h2>", t0)]
    return f'<a href="#{sid}">{title}</a>'
