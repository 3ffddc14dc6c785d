# The two commands a newcomer needs: `make demo` and `make test`. Everything else is theirs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
KATEX := src/coolpapers/web/static/vendor/katex

.PHONY: demo test install assets lint format bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python assets
	$(BIN)/pip install --quiet -e '.[dev]'

# KaTeX is served by us from the package, installed from the npm registry at build time.
assets: $(KATEX)/katex.min.js

$(KATEX)/katex.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	rm -rf $(KATEX) && mkdir -p $(KATEX)
	cp node_modules/katex/dist/katex.min.js node_modules/katex/dist/katex.min.css $(KATEX)/
	cp -r node_modules/katex/dist/fonts $(KATEX)/fonts

demo: install
	PORT=$(PORT) $(BIN)/coolpapers demo

test: install
	$(BIN)/ruff check src tests tools bench
	$(BIN)/ruff format --check src tests tools bench
	$(BIN)/pytest -q

lint:
	$(BIN)/ruff check src tests tools bench

format:
	$(BIN)/ruff format src tests tools bench
	$(BIN)/ruff check --fix src tests tools bench

# The browser extension (Manifest V3) as a zip to load or publish: build/coolpapers-extension.zip
.PHONY: extension
extension:
	mkdir -p build && rm -f build/coolpapers-extension.zip
	cd extension && $(abspath $(BIN))/python -m zipfile -c ../build/coolpapers-extension.zip manifest.json background.js content.js mapping.js options.html options.js

clean:
	rm -rf $(VENV) node_modules $(KATEX) build *.egg-info
