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
# The bundle's smoke test: dpkg-deb builds the .deb, desktop-file-validate checks its launcher.
# cairosvg (the icon script) loads the system's Cairo.
SYSTEM_PACKAGES += desktop-file-utils libcairo2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck unit bench package system-deps venv clean icons deb smoke \
	reliability

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
	$(VENV)/bin/mypy $(PACKAGING_SCRIPTS)
	# Most users run Windows or macOS: the app's code must type-check there too.
	$(VENV)/bin/mypy --platform win32 -p uploader_app
	$(VENV)/bin/mypy --platform darwin -p uploader_app

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: system-deps $(STAMP) lint typecheck unit smoke

# Issue 19's long runs: the whole of tests/reliability, soak and kill runs included (`make test`
# runs only its fast subset: the `soak` marker is deselected there).
reliability: system-deps $(STAMP)
	$(VENV)/bin/pytest -q -m "" tests/reliability

bench: system-deps $(STAMP)
	$(VENV)/bin/python -m tests.benchmarks

# A double-clickable folder bundle in dist/uploader-app (PyInstaller builds for the OS it runs on;
# packaging/README.md). The icons are rendered from resources/icon.svg first.
PACKAGING_SCRIPTS := packaging/make_icons.py packaging/build_deb.py packaging/launch.py \
	packaging/figures.py
ICONS := build/icons

icons: system-deps $(STAMP)
	$(PY) packaging/make_icons.py $(ICONS) >/dev/null

package: icons
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level ERROR \
		--distpath dist --workpath build/pyinstaller packaging/uploader-app.spec
	dist/uploader-app/uploader-app --version

# dist/uploader-app_<version>_<arch>.deb: /opt/uploader-app, /usr/bin/uploader-app, launcher, icons.
deb: package
	$(PY) packaging/build_deb.py --bundle dist/uploader-app --icons $(ICONS) --out dist

# Builds the bundle and the .deb, then runs the BUILT program from a clean environment
# (tests/bundle/), and prints the sizes and start-up times.
smoke: system-deps deb
	$(VENV)/bin/pytest -q tests/bundle
	PYTHONPATH=. $(PY) packaging/figures.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache
