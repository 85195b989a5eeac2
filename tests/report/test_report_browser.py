"""End to end: the report of a real run renders its plots and thumbnails in headless Chromium
with no network request at all (every request but file: and data: is aborted and counted)."""

from __future__ import annotations

import re

import pytest

from tests.report_fixtures import Requests

pytestmark = pytest.mark.slow


def test_report_renders_offline(bikes_runs, browser):
    page_file = bikes_runs.second.folder / "report.html"
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    requests = Requests(("file:", "data:"))
    context.route("**/*", requests.route)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_file.as_uri())
    page.wait_for_selector("body[data-scatter-ready='1']", timeout=15_000)
    page.wait_for_function("[...document.images].every(i => i.complete)", timeout=15_000)

    assert errors == []
    assert requests.refused == []
    assert all(re.match(r"(file|data):", url) for url in requests.seen)
    images = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.getAttribute('src').slice(0, 15)])")
    assert len(images) >= 12  # 12 selected frames at least, plus the near-duplicate pairs
    assert all(width > 0 and src == "data:image/jpeg" for width, src in images)
    assert page.locator("svg.chart.histogram").count() >= 3  # 3 scalar inputs + the embedding spread
    assert page.locator("svg.chart.classes").count() >= 2  # the BALANCE input and the task's classes
    assert page.locator("svg.boxes rect.predicted").count() > 0
    assert page.locator("svg.timeline rect.pick").count() > 0
    painted = page.evaluate(
        """() => { const c = document.getElementById('scatter'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) n++; return n; }"""
    )
    assert painted > 500  # points drawn (the canvas starts white)
    context.close()


def test_scatter_hover_shows_file_name_and_thumbnail(bikes_runs, browser):
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    requests = Requests(("file:", "data:"))
    context.route("**/*", requests.route)
    page = context.new_page()
    page.goto((bikes_runs.second.folder / "report.html").as_uri())
    page.wait_for_selector("body[data-scatter-ready='1']")
    page.locator("#scatter").scroll_into_view_if_needed()
    # the first selected sample's screen position, as the plot computes it
    x, y = page.evaluate(
        """() => { const d = JSON.parse(document.getElementById('report-data').textContent);
                   const S = window.ThresherScatter; const sel = S.decode(d.selected, Int32Array)[0];
                   const xs = S.unit(S.decode(d.x, Uint16Array)), ys = S.unit(S.decode(d.y, Uint16Array));
                   const c = document.getElementById('scatter'), r = c.getBoundingClientRect();
                   return [r.left + 12 + xs[sel] * (r.width - 24), r.top + r.height - 12 - ys[sel] * (r.height - 24)]; }"""
    )
    page.mouse.move(x, y)
    tooltip = page.locator("#tooltip")
    tooltip.wait_for(state="visible")
    assert re.search(r"bikes-\d+-mp4\.png", tooltip.inner_text())
    assert tooltip.locator("img").count() == 1
    assert requests.refused == []
    context.close()


def test_each_pick_is_explained_and_each_box_labelled(bikes_runs, browser):
    """Under every new pick one bar per strategy, its numbers on hover; boxes carry class and score."""
    import csv

    run = bikes_runs.second
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.goto((run.folder / "report.html").as_uri())
    page.wait_for_selector("body[data-scatter-ready='1']")
    figures = page.locator("#gallery figure.thumb")
    new_picks = [f for f in range(figures.count()) if "objective" in figures.nth(f).locator("figcaption").inner_text()]
    assert len(new_picks) == 6  # the second run adds 6 to the 6 of the datapool
    first = figures.nth(new_picks[0])
    assert first.locator("svg.why .why-row").count() == 4  # DIVERSITY, two WEIGHTS, BALANCE
    tips = first.locator("svg.why .why-row title").evaluate_all("titles => titles.map(t => t.textContent)")
    with open(run.folder / "selection.csv", newline="") as file:
        row = [r for r in csv.DictReader(file) if r["objective"]][0]  # the first new pick, as selection.csv gives it
    score = float(row["weights:scores:ssd/objectness_least_confidence"])
    assert tips[1].startswith("weights:scores:ssd/objectness_least_confidence (strength 1): value ")
    assert f"value {float(f'{score:.4g}'):g}" in tips[1] or f"value {score:.4g}" in tips[1]
    factors = [float(re.search(r"factor ([\d.e+-]+)", tip).group(1)) for tip in tips]
    assert abs(factors[0] * factors[1] * factors[2] * factors[3] - float(row["objective"])) < 2e-3 * float(row["objective"])
    box_text = page.locator("#gallery svg.boxes text").first.text_content()
    assert re.fullmatch(r"[a-z ]+ 0\.\d\d|[a-z ]+", box_text)
    legend = page.locator("#gallery p.keys").inner_text()
    assert legend.startswith("predicted: ") and "imputed (assertions)" in legend
    context.close()
