"""End to end in headless Chromium: a lasso on the app's embedding view saves a tag in the catalog."""

from __future__ import annotations

import time

import pytest

from thresher.catalog import Catalog
from tests.report_fixtures import Requests

pytestmark = pytest.mark.slow


def wait_until(page, function: str, timeout: float = 15.0) -> None:
    """Poll a JS function until it returns true (wait_for_function evaluates strings, which the app's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(function):
        assert time.monotonic() < deadline, f"timed out waiting for {function}"
        page.wait_for_timeout(100)


def open_page(browser, server, path: str):
    base = f"http://127.0.0.1:{server.server_port}"
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    requests = Requests((base + "/",))
    context.route("**/*", requests.route)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + path)
    return context, page, requests, errors


def test_lasso_on_the_embedding_saves_a_tag(browser, app_server, bikes_runs):
    context, page, requests, errors = open_page(browser, app_server, "/embedding")
    page.wait_for_selector("body[data-scatter-ready='1']", timeout=15_000)
    box = page.locator("#scatter").bounding_box()
    # a lasso around the left half of the plot
    left, top, right, bottom = box["x"] + 3, box["y"] + 3, box["x"] + box["width"] / 2, box["y"] + box["height"] - 3
    page.mouse.move(left, top)
    page.mouse.down()
    for x, y in ((right, top), (right, bottom), (left, bottom), (left, top + 1)):
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    count = page.locator("#lasso-count").inner_text()
    n = int(count.split()[0])
    assert n > 0
    # after the release the lasso stays drawn and its points are highlighted (amber, #fbbc04)
    page.mouse.move(box["x"] + box["width"] - 5, box["y"] + 5)  # hovering redraws: they must survive it
    canvas = page.evaluate(
        """([right, top, bottom]) => {
            const c = document.getElementById('scatter'), ctx = c.getContext('2d');
            const all = ctx.getImageData(0, 0, c.width, c.height).data;
            let amber = 0;
            for (let i = 0; i < all.length; i += 4) if (Math.abs(all[i] - 251) < 12 && Math.abs(all[i + 1] - 188) < 12 && all[i + 2] < 40) amber++;
            const edge = ctx.getImageData(Math.round(right) - 2, Math.round(top) + 20, 5, Math.round(bottom - top) - 40).data;
            let dark = 0;  // rows of the 5-pixel strip with a grey or darker pixel (the antialiased outline)
            for (let row = 0; row < edge.length / 20; row++) {
                let darkest = 255;
                for (let k = 0; k < 5; k++) darkest = Math.min(darkest, edge[row * 20 + 4 * k], edge[row * 20 + 4 * k + 1]);
                if (darkest < 170) dark++;
            }
            return {amber, dark, rows: Math.round(bottom - top) - 40};
        }""",
        [right - box["x"], top - box["y"], bottom - box["y"]],
    )
    assert canvas["amber"] > 4 * n  # each lassoed point is a filled amber disc
    assert canvas["dark"] > canvas["rows"] // 3  # the dashed outline along the lasso's right side
    page.fill("#tag-name", "lasso-left-half")
    page.click("#save-tag")
    page.locator("#message", has_text="saved").wait_for(timeout=10_000)
    with Catalog(bikes_runs.workspace) as catalog:
        ids = catalog.tag("lasso-left-half")
    assert len(ids) == n
    assert set(ids) <= set(bikes_runs.second.samples.id.tolist())
    assert errors == [] and requests.refused == []
    context.close()


@pytest.mark.parametrize("path", ["/", "/runs", "/sample?id={sample}"])
def test_pages_render_without_leaving_the_server(browser, app_server, bikes_runs, path):
    sample = bikes_runs.second.selection.ids[0]
    context, page, requests, errors = open_page(browser, app_server, path.format(sample=sample))
    page.wait_for_selector("section h2", timeout=15_000)
    wait_until(page, "() => [...document.images].every(i => i.complete)")
    if path == "/":
        assert page.locator("#grid .card").count() == 50
        assert page.locator("#grid svg.boxes rect").count() > 0
    if path == "/runs":
        assert page.locator("#runs a", has_text="report.html").count() == 2
        assert page.locator("#runs a", has_text="samples").count() == 2  # each run browsable
    if path.startswith("/sample"):
        assert sample in page.locator("section h2").inner_text()
    assert all(page.evaluate("[...document.images].map(i => i.naturalWidth > 0)"))
    assert errors == [] and requests.refused == []
    context.close()


def test_the_sample_page_shows_the_flagged_strip(browser, app_server, bikes_runs):
    """The worst flagged frame of the report: frames t-1, t, t+1 with the task's boxes, the
    imputed one on t, and its severity, as in the report's strip."""
    from thresher.report import load_report_data

    data = load_report_data(bikes_runs.second.folder)
    worst = str(data.strips.frame_id[0])
    context, page, requests, errors = open_page(browser, app_server, f"/sample?id={worst}")
    page.wait_for_selector("#strip", timeout=15_000)
    wait_until(page, "() => [...document.images].every(i => i.complete)")
    strip = page.locator("#strip")
    assert f"severity {float(data.strips.severity[0]):.4g}" in strip.locator("h3").inner_text()
    figures = strip.locator("figure.strip-frame")
    assert figures.count() == 3
    names = [figures.nth(k).locator("figcaption a").inner_text() for k in range(3)]
    assert names == data.strips.neighbours[0].tolist()
    assert figures.nth(1).locator("rect.imputed").count() >= 1
    assert any(t.startswith("imputed ") for t in figures.nth(1).locator("text.label").all_text_contents())
    assert all(page.evaluate("[...document.querySelectorAll('#strip img')].map(i => i.naturalWidth > 0)"))
    assert errors == [] and requests.refused == []
    context.close()


def test_an_older_run_is_browsed_and_filtered_with_one_colour_per_class(browser, app_server, bikes_runs):
    """The run picker reaches the older run, the filter keeps it, and a class has one colour."""
    first = bikes_runs.first.run_id
    context, page, requests, errors = open_page(browser, app_server, "/")
    page.wait_for_selector("#grid .card", timeout=15_000)
    assert page.locator("#run-picker option").count() == 2
    page.select_option("#run-picker", first)
    page.wait_for_url(f"**/?run={first}", timeout=15_000)
    page.wait_for_selector("#grid .card", timeout=15_000)
    page.select_option("select[name=score]", index=1)
    page.click("#filters button[type=submit]")
    page.wait_for_url("**score=**", timeout=15_000)
    page.wait_for_selector("#grid .card", timeout=15_000)
    assert f"run={first}" in page.url and f"(run {first})" in page.locator(".pager").inner_text()
    strokes = page.evaluate(
        """() => { const seen = {};
            for (const r of document.querySelectorAll('#grid svg.boxes rect.predicted')) {
                const label = r.querySelector('title').textContent.split(' ')[1];
                (seen[label] = seen[label] || new Set()).add(r.getAttribute('stroke'));
            }
            return Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, [...v]])); }"""
    )
    assert strokes and all(len(colours) == 1 for colours in strokes.values()), strokes
    assert page.locator(".legend .swatch").count() >= len(strokes)
    assert errors == [] and requests.refused == []
    context.close()


def test_a_point_of_the_embedding_shows_its_value_and_opens_its_sample(browser, app_server, bikes_runs):
    context, page, requests, errors = open_page(browser, app_server, "/embedding")
    page.wait_for_selector("body[data-scatter-ready='1']", timeout=15_000)
    assert "…" in page.locator("#color-range").inner_text()  # the colour scale's range
    box = page.locator("#scatter").bounding_box()
    spot = page.evaluate(
        """() => {  // a pixel of a point: saturated, unlike the background and the axes
            const c = document.getElementById('scatter'), all = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 0; i < all.length; i += 4)
                if (Math.max(all[i], all[i + 1], all[i + 2]) - Math.min(all[i], all[i + 1], all[i + 2]) > 80)
                    return [(i / 4) % c.width, Math.floor(i / 4 / c.width), c.width];
            return null; }"""
    )
    assert spot is not None
    scale = box["width"] / spot[2]
    page.mouse.move(box["x"] + (spot[0] + 1) * scale, box["y"] + (spot[1] + 1) * scale)
    page.wait_for_selector("#tooltip:not([hidden])", timeout=5_000)
    name = page.locator("#tooltip b").inner_text()
    assert ":" in page.locator("#tooltip div").inner_text()  # "<score>: <value>"
    page.mouse.down()
    page.mouse.up()
    page.wait_for_url("**/sample?id=**", timeout=15_000)
    page.wait_for_selector("section h2", timeout=15_000)
    assert name in page.locator("section h2").inner_text()
    assert errors == [] and requests.refused == []
    context.close()
