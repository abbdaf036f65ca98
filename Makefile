# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-all bench setup browser java

$(BIN)/entrepot: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,spark]'
	touch $@

setup: $(BIN)/entrepot

# Headless Chromium and its WebDriver from Debian, for the browser tests (needs root; skipped elsewhere).
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium or chromedriver not installed and not root: browser tests will skip (apt-get install chromium chromium-driver)"; fi; }

# A Java runtime from Debian, for the Spark engine's tests (pyspark runs on the JVM; needs root; skipped elsewhere).
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else echo "java not installed and not root: Spark tests will skip (apt-get install default-jre-headless)"; fi; }

demo: setup
	$(BIN)/entrepot demo

test: setup browser java
	$(BIN)/python -m pytest

test-all: setup browser java
	$(BIN)/python -m pytest -m ''

bench: setup
	$(BIN)/pip install -q -e '.[bench]'
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done
	$(BIN)/python benchmarks/reroute_accuracy.py --seeds 20 --controls 30
	$(BIN)/python benchmarks/reroute_accuracy.py --zoo
