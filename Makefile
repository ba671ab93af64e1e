# Two commands do all the set-up: `make run` and `make test`. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck bench sandbox messages language clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot storage tests bench
	$(BIN)/ruff format --check bot storage tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix bot storage tests bench
	$(BIN)/ruff format bot storage tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.panels
	$(BIN)/python -m bench.tracking
	$(BIN)/python -m bench.concurrency

sandbox: $(STAMP)
	$(BIN)/smm-sandbox

# Extract every translatable string and merge it into each language's catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract --no-location --omit-header --add-comments=Translators: -k _ -k gettext -k ngettext:1,2 -k N_ \
		-o bot/locales/messages.pot bot
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete \
		-i bot/locales/messages.pot -d bot/locales
	rm bot/locales/messages.pot

# A new language's catalog, every message to translate: make language CODE=de
language: $(STAMP)
	@test -n "$(CODE)" || { echo "usage: make language CODE=de"; exit 1; }
	$(BIN)/pybabel extract --no-location --omit-header --add-comments=Translators: -k _ -k gettext -k ngettext:1,2 -k N_ \
		-o bot/locales/messages.pot bot
	$(BIN)/pybabel init --no-wrap -i bot/locales/messages.pot -d bot/locales -l $(CODE)
	rm bot/locales/messages.pot

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
