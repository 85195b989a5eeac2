"""A phone's portrait video in the app (headless Chromium): the sample page shows the frame
upright and whole on the screen, not stretched to the page's 900 px width (2117 px tall)."""

from __future__ import annotations

import pytest

from tests.app.test_app_browser import open_page, wait_until

pytestmark = pytest.mark.slow


def test_a_portrait_frame_fits_the_screen_on_its_sample_page(browser, portrait_server):
    context, page, requests, errors = open_page(browser, portrait_server, "/sample?id=phone-100-mp4.png")
    wait_until(page, "() => !!document.querySelector('.big .frame img') && document.querySelector('.big .frame img').complete")
    box = page.locator(".big .frame").bounding_box()
    assert box["height"] == pytest.approx(800, abs=1)  # 80 % of the 1000 px viewport
    assert box["width"] == pytest.approx(800 * 272 / 640, abs=1)
    assert page.evaluate("() => document.querySelector('.big .frame img').naturalHeight") > page.evaluate("() => document.querySelector('.big .frame img').naturalWidth")
    assert errors == [] and requests.refused == []
    context.close()
