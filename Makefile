# The two commands a newcomer needs: `make run` and `make test`. Everything else is a chore.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locales/*/LC_MESSAGES/messages.po))

.PHONY: run test chromium test-versions check lint format i18n eval bench lock clean

## run: set everything up and start the bot (without TELEGRAM_BOT_TOKEN: the terminal chat)
run: $(STAMP) $(MO_FILES)
	$(BIN)/migrant-bot run --chat-without-token

## test: set everything up and run the whole test suite (on every core: pytest-xdist)
# One test file per worker at a time (--dist loadfile): a module's fixtures (a bot process, an
# emulator) stay in one process; each worker empties a PostgreSQL database of its own.
test: $(STAMP) $(MO_FILES) chromium
	$(BIN)/python -m pytest -q -n auto --dist loadfile

# The console's browser tests drive Debian's chromium (Playwright comes with the dev extras):
# installed here when missing and possible (root with apt-get); else they are skipped and say
# why (with CI=true they fail).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null; } || echo "no chromium: the browser tests will be skipped (apt-get install chromium)"

## test-versions: the suite again under each other Python 3.11-3.13 found here (.venv-3.X)
test-versions: $(STAMP)
	MAKE="$(MAKE)" .ci/test-versions

## check: validate content/ and the translation catalogs (for content editors)
check: $(STAMP)
	$(BIN)/migrant-bot check

## lint: ruff (lint + format check) and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## i18n: extract UI sentences into locales/messages.pot and merge them into each language
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -o locales/messages.pot bot
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching

## eval: accuracy of understanding on the three report sets; the safety net on the danger sets
eval: $(STAMP)
	$(BIN)/migrant-bot eval tests/data/eval/*.jsonl
	$(BIN)/migrant-bot eval tests/data/hard/*.jsonl
	$(BIN)/migrant-bot eval tests/data/heldout/*.jsonl
	$(BIN)/migrant-bot eval tests/data/danger/*.jsonl
	$(BIN)/migrant-bot eval tests/data/danger-heldout/*.jsonl
	$(BIN)/migrant-bot eval tests/data/danger-heldout2/*.jsonl
	$(BIN)/migrant-bot eval tests/data/danger-heldout3/*.jsonl

## bench: understanding beside its anchors (accuracy, ablation, latency, start-up, memory)
bench: $(STAMP)
	$(BIN)/python bench/understanding.py --ablation

## lock: pin the dependencies again from pyproject.toml (UPGRADE=1: newest versions allowed)
# One lock for every supported Python (3.11.0 up) and platform: markers say what differs.
LOCK = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	$(if $(UPGRADE),--upgrade) pyproject.toml
lock: $(STAMP)
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock

# Exactly the pinned, hash-checked versions (requirements-dev.lock), then the bot itself.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Compiled catalogs are built, never committed.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d locales -D messages -l $*

clean:
	rm -rf $(VENV) .venv-3.* data .pytest_cache .ruff_cache .mypy_cache
	find locales -name '*.mo' -delete
