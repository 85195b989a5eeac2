# The two commands of the README. Each creates .venv/ and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet --disable-pip-version-check

.PHONY: demo test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e '.[test]'
	touch $@

$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) install -e '.[video,samples,detect]'
	touch $@

test: $(VENV)/.installed-test
	$(PY) -m pytest

demo: $(VENV)/.installed-demo
	$(PY) -m thresher demo .demo

clean:
	rm -rf $(VENV) .demo .pytest_cache
