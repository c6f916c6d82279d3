# Two commands on a fresh machine: `make run` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
DEMO_DB := data/demo.sqlite

.PHONY: run test demo lint format migrate rollups bench clean help

help:
	@echo "make run   - start the app on the embedded SQLite database (data/app.sqlite), port \$$PORT (8501)"
	@echo "make test  - run the whole test suite (unit, SQLite, PostgreSQL, AppTest, Chromium)"
	@echo "make demo  - seed a separate demo database and start the app on it"
	@echo "make lint  - ruff check, ruff format --check, mypy"
	@echo "make rollups - recount the overview's roll-ups from the records (\$$DATABASE_URL or data/app.sqlite)"
	@echo "make bench - every page against its budgets at 1M sign-ups and at 1/10 (bench/results.json; BENCH_ARGS=--quick)"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

migrate: $(BIN)/.installed
	$(BIN)/python -m db.migrate

rollups: migrate
	$(BIN)/python -m db.services.rollups

run: migrate
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT)

test: $(BIN)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

demo: $(BIN)/.installed
	DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/python -m scripts.seed_demo
	DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/streamlit run app.py --server.headless true --server.port $(PORT)

lint: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts
