"""A phone's portrait video in the report (headless Chromium): its frames, shown upright and
tall, fit the same square as landscape frames instead of being stretched to the column's width."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def frame_boxes(page, selector: str) -> list[tuple[float, float]]:
    """(width, height) in CSS pixels of every element matching `selector`."""
    return [(box["width"], box["height"]) for box in (page.locator(selector).nth(k).bounding_box() for k in range(page.locator(selector).count()))]


def test_portrait_thumbnails_fit_the_square_of_landscape_ones(portrait_run, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto((portrait_run.folder / "report.html").as_uri())
    page.wait_for_selector("body[data-scatter-ready='1']")
    sizes = frame_boxes(page, "#gallery figure.thumb .frame")
    portrait = [(w, h) for w, h in sizes if h > w]
    assert portrait and len(portrait) < len(sizes)  # both kinds are shown
    for w, h in sizes:  # the longer side is the figure's 200 px, the aspect ratio the frame's
        assert max(w, h) == pytest.approx(200, abs=1)
        assert min(w, h) / max(w, h) == pytest.approx(272 / 640, abs=0.01)
    page.close()


def test_the_tooltip_shows_a_portrait_thumbnail_within_200_px(portrait_run, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto((portrait_run.folder / "report.html").as_uri())
    page.wait_for_selector("body[data-scatter-ready='1']")
    page.locator("#scatter").scroll_into_view_if_needed()
    # a phone frame with a thumbnail, at its screen position as the plot computes it
    x, y = page.evaluate(
        """() => { const d = JSON.parse(document.getElementById('report-data').textContent);
                   const S = window.ThresherScatter; const thumbOf = S.decode(d.thumbOf, Int32Array);
                   const i = d.names.findIndex((n, k) => n.startsWith('phone-') && thumbOf[k] >= 0);
                   const xs = S.unit(S.decode(d.x, Uint16Array)), ys = S.unit(S.decode(d.y, Uint16Array));
                   const c = document.getElementById('scatter'), r = c.getBoundingClientRect();
                   return [r.left + 12 + xs[i] * (r.width - 24), r.top + r.height - 12 - ys[i] * (r.height - 24)]; }"""
    )
    page.mouse.move(x, y)
    page.locator("#tooltip img").wait_for(state="visible")
    assert "phone-" in page.locator("#tooltip b").inner_text()
    [(w, h)] = frame_boxes(page, "#tooltip img")
    assert h == pytest.approx(200, abs=1) and w == pytest.approx(200 * 272 / 640, abs=1)
    [(frame_w, frame_h)] = frame_boxes(page, "#tooltip .frame")  # the crop box is placed in % of it
    assert (frame_w, frame_h) == pytest.approx((w, h), abs=1)
    page.close()
