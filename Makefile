# The two commands: `make demo` runs the product with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench-answer install clean

# A local .env with a generated SECRET_KEY, so that management commands (create_api_key,
# import_touchpoints...) work in this checkout without setting anything; written once, never
# overwritten. Production sets its own SECRET_KEY in the environment, which wins over the file.
.env:
	@$(PYTHON) -c 'import secrets; print("# Written by make for this checkout (local use). The environment wins over this file.\nSECRET_KEY=" + secrets.token_urlsafe(50))' > .env
	@chmod 600 .env

$(STAMP): pyproject.toml | .env
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	DEBUG=$${DEBUG:-1} SITE_URL=$${SITE_URL:-http://$${DEMO_ADDR:-127.0.0.1:8000}} $(PY) manage.py demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var
