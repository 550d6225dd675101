"""report.html opened in a real browser: headless Chromium, from disk, with the network off.

Each page kind (backtest, experiment, portfolio, tune) is written by its command's --output, then
opened. The page's own check script (forecast/report/html.py) records script errors and
whether every chart image decoded and drew something; Chromium's console log must stay
empty. A screenshot of each page is saved (set FCAST_SCREENSHOTS=DIR to keep them, e.g.
to refresh docs/). Without Chromium these tests report themselves skipped, with the
reason; `.ci/run` installs Debian's `chromium` first, so they run in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from forecast.report.html import chart, page, section

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
def find_browser() -> str | None:
    named = os.environ.get("FCAST_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.fixture(scope="module")
def browser():
    path = find_browser()
    if path is None:
        pytest.skip("no Chromium on this machine (install Debian's `chromium`; .ci/run does) "
                    "or set FCAST_CHROMIUM to a Chrome/Chromium binary")
    return path


@pytest.fixture(scope="module")
def runs(backtest_output, experiment_output, portfolio_output, tune_output):
    """One --output folder per page kind, written by the CLI (conftest's session runs)."""
    return {"backtest": backtest_output, "experiment": experiment_output, "portfolio": portfolio_output,
            "tune": tune_output[0]}


def open_page(browser: str, page_path: Path, workdir: Path) -> dict:
    """Load `page_path` from disk in headless Chromium with every network request refused;
    return the checked <body> attributes, the console lines and a screenshot's path."""
    common = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-extensions", "--disable-background-networking", "--mute-audio",
        f"--user-data-dir={workdir / 'profile'}",
        # the network off: no proxy answers, and no name resolves
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr", "--v=0",
    ]
    url = page_path.resolve().as_uri()
    dom = subprocess.run([*common, "--virtual-time-budget=15000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    shot = workdir / "screenshot.png"
    subprocess.run([*common, "--window-size=1280,2200", "--hide-scrollbars", f"--screenshot={shot}", url],
                   capture_output=True, text=True, timeout=120)
    body = re.search(r"<body([^>]*)>", dom.stdout)
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1))) if body else {}
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    return {"attrs": attrs, "console": console, "screenshot": shot, "returncode": dom.returncode}


def problems(result: dict, html_text: str) -> list[str]:
    """What is wrong with a page as the browser saw it (empty when it is fine)."""
    found = []
    attrs = result["attrs"]
    if attrs.get("data-checked") != "yes":
        found.append("the page's check script did not run")
    charts = len(re.findall(r"data-chart=", html_text))
    if charts == 0:
        found.append("no charts on the page")
    if attrs.get("data-charts") != str(charts):
        found.append(f"the browser saw {attrs.get('data-charts')} of {charts} charts")
    canvases = len(re.findall(r"data-canvas-chart=", html_text))
    if attrs.get("data-canvases") != str(canvases):
        found.append(f"the browser saw {attrs.get('data-canvases')} of {canvases} interactive charts")
    if attrs.get("data-blank-charts"):
        found.append(f"charts blank or not decoded: {attrs['data-blank-charts']}")
    if attrs.get("data-errors"):
        found.append(f"script errors: {attrs['data-errors']}")
    found.extend(f"console: {line}" for line in result["console"])
    return found


def _keep_screenshot(path: Path, kind: str) -> None:
    keep = os.environ.get("FCAST_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / f"report-{kind}.png")


@pytest.mark.parametrize("kind", ["backtest", "experiment", "portfolio", "tune"])
def test_report_renders_in_a_real_browser_offline(kind, runs, browser, tmp_path):
    from PIL import Image

    page_path = runs[kind] / "report.html"
    assert page_path.is_file(), f"--output did not write {page_path}"
    html_text = page_path.read_text()
    result = open_page(browser, page_path, tmp_path)
    assert result["returncode"] == 0
    assert result["attrs"].get("data-kind") == kind
    assert problems(result, html_text) == []
    with Image.open(result["screenshot"]) as shot:
        assert shot.size == (1280, 2200)
        colours = shot.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50  # a rendered page, not a blank canvas
    _keep_screenshot(result["screenshot"], kind)


def test_the_browser_check_catches_a_blank_chart_and_a_script_error(browser, tmp_path):
    """The checks above can fail: a page with a blank chart and a throwing script is caught."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    drawn, blank = Figure(figsize=(4, 2)), Figure(figsize=(4, 2))
    FigureCanvasAgg(drawn)
    FigureCanvasAgg(blank)
    drawn.subplots().plot([0, 1, 2], [1, 3, 2])
    text = page("broken", kind="backtest", sections=[
        section("a", "Drawn", chart(drawn, "drawn", "a line")),
        section("b", "Blank", chart(blank, "blank", "nothing")),
    ]).replace("</body>", "<script>undefinedFunction();</script></body>")
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "report.html").write_text(text)
    result = open_page(browser, folder / "report.html", tmp_path)
    assert result["attrs"]["data-blank-charts"] == "blank"  # the drawn chart passes
    assert "undefinedFunction" in result["attrs"]["data-errors"]
    found = problems(result, text)
    assert any(p.startswith("charts blank") for p in found), found
    assert any(p.startswith("console:") and "undefinedFunction" in p for p in found), found


def test_the_interactive_equity_chart_zooms_and_resets(runs, browser, tmp_path):
    """Drag across the canvas: it redraws a narrower span; double-click: back to the whole run."""
    text = (runs["backtest"] / "report.html").read_text()
    assert text.count("data-canvas-chart=") == 1
    probe = """<script>
window.addEventListener('load', function () {
  var c = document.querySelector('canvas[data-canvas-chart]');
  c.closest('details').open = true;
  var r = c.getBoundingClientRect(), b = document.body;
  function at(type, x) { c.dispatchEvent(new MouseEvent(type, {clientX: r.left + x, clientY: r.top + 100})); }
  c.dispatchEvent(new Event('mouseleave'));
  var whole = c.toDataURL();
  at('mousedown', 300); at('mousemove', 500); at('mouseup', 500); c.dispatchEvent(new Event('mouseleave'));
  var zoomed = c.toDataURL();
  c.dispatchEvent(new MouseEvent('dblclick')); c.dispatchEvent(new Event('mouseleave'));
  b.setAttribute('data-zoomed', String(zoomed !== whole));
  b.setAttribute('data-reset', String(c.toDataURL() === whole));
});
</script></body>"""
    folder = tmp_path / "page"
    folder.mkdir()
    (folder / "report.html").write_text(text.replace("</body>", probe))
    result = open_page(browser, folder / "report.html", tmp_path)
    assert result["attrs"].get("data-zoomed") == "true"
    assert result["attrs"].get("data-reset") == "true"
    assert problems(result, text) == []
