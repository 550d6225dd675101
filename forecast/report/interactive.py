"""An interactive equity chart for report.html: hover for the date and values, drag to zoom
into a span, double-click to see it all again.

No library and no network: a <canvas>, the curves as inline JSON and ~100 lines of plain
JavaScript defined once per page. The static PNG chart stays beside it, so the page reads
the same where scripts are off.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from forecast.report.html import Html, esc

COLOURS = {"strategy": "#1f6feb", "benchmark": "#6e7781", "market": "#d4a72c"}

# Defined once per page (the guard makes a second definition a no-op).
SCRIPT = r"""
(function () {
  if (window.fcastLineChart) return;
  function fmt(v) { return v.toLocaleString('en-US', {maximumFractionDigits: 0}); }
  function day(ms) { return new Date(ms).toISOString().slice(0, 10); }
  window.fcastLineChart = function (canvas, data) {
    var ctx = canvas.getContext('2d'), ratio = window.devicePixelRatio || 1, W = 0, H = 0;
    function size() {  // a closed <details> has no width yet: draw at 900 px, redraw when shown
      var w = canvas.clientWidth || 900, h = canvas.clientHeight || 320;
      if (w === W && h === H) return;
      W = w; H = h; canvas.width = W * ratio; canvas.height = H * ratio;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    }
    var pad = {l: 78, r: 12, t: 12, b: 26}, n = data.dates.length;
    var lo = 0, hi = n - 1, hover = -1, dragFrom = null, dragTo = null;
    var log = data.log, tf = log ? Math.log : function (v) { return v; };
    function x(i) { return pad.l + (i - lo) / Math.max(hi - lo, 1) * (W - pad.l - pad.r); }
    function index(px) {
      var i = Math.round(lo + (px - pad.l) / (W - pad.l - pad.r) * (hi - lo));
      return Math.min(hi, Math.max(lo, i));
    }
    function range() {
      var min = Infinity, max = -Infinity;
      data.series.forEach(function (s) {
        for (var i = lo; i <= hi; i++) {
          var v = s.values[i];
          if (v !== null && (!log || v > 0)) { min = Math.min(min, v); max = Math.max(max, v); }
        }
      });
      if (!(min < max)) { min = min * 0.99; max = max * 1.01; }
      return [tf(min), tf(max)];
    }
    function draw() {
      size();
      var r = range(), y = function (v) {
        return pad.t + (r[1] - tf(v)) / (r[1] - r[0]) * (H - pad.t - pad.b);
      };
      ctx.clearRect(0, 0, W, H);
      ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
      ctx.font = '11px sans-serif'; ctx.strokeStyle = '#d8dee4'; ctx.fillStyle = '#5b6570';
      for (var k = 0; k <= 4; k++) {  // five labelled levels, evenly spaced on the chart's scale
        var level = r[0] + (r[1] - r[0]) * k / 4, value = log ? Math.exp(level) : level;
        var py = y(value);
        ctx.beginPath(); ctx.moveTo(pad.l, py); ctx.lineTo(W - pad.r, py); ctx.stroke();
        ctx.fillText(fmt(value), 4, py + 4);
      }
      ctx.fillText(day(data.dates[lo]), pad.l, H - 8);
      var last = day(data.dates[hi]);
      ctx.fillText(last, W - pad.r - ctx.measureText(last).width, H - 8);
      data.series.forEach(function (s) {
        ctx.strokeStyle = s.colour; ctx.lineWidth = 1.4; ctx.beginPath();
        var pen = false;
        for (var i = lo; i <= hi; i++) {
          var v = s.values[i];
          if (v === null || (log && v <= 0)) { pen = false; continue; }
          if (pen) ctx.lineTo(x(i), y(v)); else ctx.moveTo(x(i), y(v));
          pen = true;
        }
        ctx.stroke();
      });
      if (dragFrom !== null && dragTo !== null) {
        ctx.fillStyle = 'rgba(31,111,235,0.12)';
        ctx.fillRect(Math.min(dragFrom, dragTo), pad.t, Math.abs(dragTo - dragFrom), H - pad.t - pad.b);
      }
      if (hover >= 0) {
        ctx.strokeStyle = '#999'; ctx.beginPath();
        ctx.moveTo(x(hover), pad.t); ctx.lineTo(x(hover), H - pad.b); ctx.stroke();
        var lines = [day(data.dates[hover])].concat(data.series.map(function (s) {
          var v = s.values[hover]; return s.name + ': ' + (v === null ? '–' : fmt(v));
        }));
        var bw = 16 + Math.max.apply(null, lines.map(function (t) { return ctx.measureText(t).width; }));
        var bx = Math.min(x(hover) + 10, W - pad.r - bw);
        ctx.fillStyle = 'rgba(255,255,255,0.92)'; ctx.fillRect(bx, pad.t + 4, bw, 8 + 15 * lines.length);
        ctx.strokeStyle = '#d8dee4'; ctx.strokeRect(bx, pad.t + 4, bw, 8 + 15 * lines.length);
        lines.forEach(function (t, j) {
          ctx.fillStyle = j === 0 ? '#1b1f24' : data.series[j - 1].colour;
          ctx.fillText(t, bx + 8, pad.t + 19 + 15 * j);
        });
      }
    }
    function px(e) { return e.clientX - canvas.getBoundingClientRect().left; }
    canvas.addEventListener('mousemove', function (e) {
      hover = index(px(e));
      if (dragFrom !== null) dragTo = px(e);
      draw();
    });
    canvas.addEventListener('mouseleave', function () { hover = -1; dragFrom = dragTo = null; draw(); });
    canvas.addEventListener('mousedown', function (e) { dragFrom = px(e); dragTo = null; });
    canvas.addEventListener('mouseup', function (e) {
      if (dragFrom !== null && Math.abs(px(e) - dragFrom) > 6) {
        var a = index(Math.min(dragFrom, px(e))), b = index(Math.max(dragFrom, px(e)));
        if (b - a >= 2) { lo = a; hi = b; }
      }
      dragFrom = dragTo = null; draw();
    });
    canvas.addEventListener('dblclick', function () { lo = 0; hi = n - 1; draw(); });
    var box = canvas.closest('details');
    if (box) box.addEventListener('toggle', draw);
    window.addEventListener('resize', draw);
    draw();
  };
})();
"""


def _values(series: pd.Series) -> list:
    return [round(float(v), 2) if v is not None and math.isfinite(v) else None for v in series]


def interactive_equity(equity: pd.DataFrame, name: str, labels: dict[str, str]) -> Html:
    """A zoomable equity chart of `equity`'s columns named in `labels` (column -> legend).

    A log scale when every value is positive, as the static chart."""
    columns = [c for c in labels if c in equity]
    frame = equity[columns]
    data = {
        "dates": [int(ts.value // 1_000_000) for ts in pd.DatetimeIndex(frame.index)],
        "log": bool((frame.min() > 0).all()),
        "series": [{"name": labels[c], "colour": COLOURS.get(c, "#444"), "values": _values(frame[c])}
                   for c in columns],
    }
    # "</" never appears inside the JSON (dates and numbers only; names escaped), so it
    # cannot close the script element.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return Html(
        f'<details class="interactive"><summary>Interactive view: hover for values, drag to zoom, '
        f'double-click to reset</summary>'
        f'<canvas id="chart-{esc(name)}" data-canvas-chart="{esc(name)}" '
        f'style="width:100%;height:320px;display:block"></canvas>'
        f"<script>{SCRIPT}</script>"
        f"<script>fcastLineChart(document.getElementById('chart-{esc(name)}'), {payload});</script></details>"
    )
