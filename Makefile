# The two commands of the README. Each creates .venv/ and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet --disable-pip-version-check

.PHONY: demo test browser clean

# Playwright drives the system Chromium; it must never fetch a browser build of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e '.[test]'
	touch $@

$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) install -e '.[video,samples,detect]'
	touch $@

test: $(VENV)/.installed-test browser
	$(PY) -m pytest

# Debian's chromium for the browser tests of the report and the app: installed with apt-get when
# missing and possible (root, or sudo without a password); otherwise those tests are skipped
# and say why.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "chromium is missing and cannot be installed without root: the browser tests will be skipped"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "chromium is missing and there is no apt-get: the browser tests will be skipped"; exit 0; fi; \
	echo "installing chromium (apt-get) for the browser tests"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || { $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1; } \
	  || echo "could not install chromium: the browser tests will be skipped"

demo: $(VENV)/.installed-demo
	$(PY) -m thresher demo .demo

clean:
	rm -rf $(VENV) .demo .pytest_cache
