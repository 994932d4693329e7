# Two commands on a fresh Debian machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the app and its tests need: ffmpeg makes test videos, mediainfo is the
# reference tool the benchmarks compare against, Xvfb and the Qt libraries run the GUI headless.
SYSTEM_PACKAGES := ffmpeg mediainfo curl xvfb xauth libegl1 libgl1 libxkbcommon0 \
	libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 libglib2.0-0 \
	libxcb-icccm4 libxcb-keysyms1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck unit bench package system-deps venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Opens the window; without a key set, in demo mode on the bundled sandbox (docs/gui.md).
run: $(STAMP)
	UPLOADER_APP_DEMO=1 $(PY) -m uploader_app

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: system-deps $(STAMP) lint typecheck unit

bench: system-deps $(STAMP)
	$(VENV)/bin/python -m tests.benchmarks

# A double-clickable folder bundle in dist/uploader-app (PyInstaller builds for the OS it runs on).
package: $(STAMP)
	$(PY) -m pip install --quiet 'pyinstaller>=6.5'
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build packaging/uploader-app.spec
	dist/uploader-app/uploader-app --version

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache
