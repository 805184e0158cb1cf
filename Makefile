# Two entry points for a fresh machine: `make run` (the app on the seeds) and `make test`.
# Each sets up its own virtualenv in .venv from PyPI; nothing else is downloaded.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: setup run test lint bench browser curl dist clean train

setup: $(VENV)/.installed

# The package with its dev extras; everything it needs at run time (prompts, sample
# documents, the tokenizer) ships inside it.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: setup
	$(BIN)/citechat ingest seeds/
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) \
		--browser.gatherUsageStats false

# The browser test drives Debian's Chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null || { \
		(apt-get update -qq || sudo apt-get update -qq) && \
		(apt-get install -y -qq chromium || sudo apt-get install -y -qq chromium); }

# The API tests drive `citechat serve` with curl too.
curl:
	@command -v curl >/dev/null || { \
		(apt-get update -qq || sudo apt-get update -qq) && \
		(apt-get install -y -qq curl || sudo apt-get install -y -qq curl); }

# Two workers, a test file each at a time: much of the suite waits on servers and browsers,
# and a file's module-scoped servers stay with one worker.
test: setup browser curl
	$(BIN)/ruff check rag tests app.py benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Regenerates docs/benchmarks.md, docs/benchmarks.json and docs/bench-*.png (under 30 min
# on 2 cores); `$(BIN)/python -m benchmarks.run --quick` does it in a few minutes.
bench: setup browser
	$(BIN)/python -m benchmarks.run

# Rebuilds rag/models/answerability.json from SQuAD 2.0's 12 articles (benchmarks/data),
# printing its leave-one-article-out figures; the first run caches every question's
# retrieval and vectors in .bench-cache (about half an hour on 2 cores), later runs minutes.
train: setup
	$(BIN)/python -m benchmarks.train_answerability --write

# The sdist and the wheel in dist/ (`pip install dist/citechat-*.whl` anywhere).
dist: setup
	$(BIN)/python -m build --outdir dist

clean:
	rm -rf $(VENV) .citechat .pytest_cache build dist
