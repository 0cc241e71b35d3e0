# azsim: the two set-up commands are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP_RUN  := $(VENV)/.installed-run
STAMP_DEV  := $(VENV)/.installed-dev

.PHONY: run app browser test bench lint clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: no python3.11 found; set PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP_RUN)

## run: set up .venv if needed and compare old vs new policy on the default scenario
run: $(STAMP_RUN)
	$(VENV)/bin/azsim compare scenarios/default.yaml

## app: set up .venv if needed and open the what-if explorer (Streamlit) on http://127.0.0.1:8501
## (.streamlit/config.toml, read from this folder: 127.0.0.1 only, no tracebacks in the browser, 1 MB uploads)
app: $(STAMP_RUN)
	$(VENV)/bin/streamlit run app.py

## browser: install Debian's chromium and chromium-driver for the browser test, if missing (needs root; CI calls it)
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "make: installing chromium and chromium-driver"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

## test: set up .venv with the dev extras and run the whole test suite
test: $(STAMP_DEV)
	$(PY) -m pytest -q

## bench: speed and memory benchmarks (slow; figures go in README)
bench: $(STAMP_DEV)
	$(PY) -m pytest -q -s -m slow benchmarks

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
