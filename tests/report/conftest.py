import pytest

from tests.report_fixtures import bikes_runs as _bikes_runs
from tests.report_fixtures import launch_chromium


@pytest.fixture(scope="session")
def bikes_runs(tmp_path_factory, bikes_predicted):
    return _bikes_runs(tmp_path_factory, bikes_predicted)


@pytest.fixture(scope="module")
def browser():
    playwright, browser = launch_chromium()
    yield browser
    browser.close()
    playwright.stop()
