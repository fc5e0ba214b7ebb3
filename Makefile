# Two commands: `make run` (the whole portal on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint install install-test clean messages

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-test.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	@bash scripts/run.sh

test: install-test
	@# The apps' layers first: a broken contract fails in a second, before the suite starts.
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-auto} $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

clean:
	rm -rf var

# Refresh the fr, nl and de catalogues from the sources, then compile them (translate the new entries between).
messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l fr -l nl -l de --no-obsolete -i ".venv/*" -i "var/*" \
		-i "tests/*" -i "bench/*" -i "scripts/*" -i ".ci/*" -i ".hypothesis/*" -i "static/*"
	DEBUG=true $(BIN)/python manage.py compilemessages -l fr -l nl -l de -i .venv -i var
