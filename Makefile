# The README's two commands: `make run` and `make test`.
# Each creates what it needs (virtualenv, migrations) by itself.

PYTHON ?= python3
SERVER ?= uvicorn
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint conformance bench cluster cluster-down clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

## run: serve the app with demo users and rooms on http://127.0.0.1:8000
## (and the job worker beside it: email and push; it stops with the server)
run: $(STAMP)
	$(BIN)/python manage.py compiletranslations
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seeddemo
	@# The worker in a session of its own: Ctrl-C reaches the server, and the
	@# worker then gets one SIGTERM (a second signal would cut a job short).
	@# uvicorn, chosen by measurement (docs/deploy.md, The server); daphne
	@# serves the same application (make run SERVER=daphne).
	@setsid $(BIN)/python manage.py worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	if [ "$(SERVER)" = daphne ]; then \
	  $(BIN)/daphne -b 127.0.0.1 -p 8000 project.asgi:application; \
	else \
	  $(BIN)/uvicorn --host 127.0.0.1 --port 8000 --lifespan off --ws-max-size 65536 \
	    --ws-per-message-deflate false project.asgi:application; \
	fi

## test: the whole suite (unit, consumer, integration, browser, JavaScript)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py compiletranslations
	$(BIN)/python -m pytest -n 2 --dist loadfile
	@if command -v node >/dev/null 2>&1 && [ -d tests/js ]; then \
	  $(MAKE) --no-print-directory tests/js/node_modules/.installed && node --test tests/js/; fi

# The JavaScript tests' packages (tests/js/package.json: ajv checks the client's
# frames against docs/asyncapi.yaml), exactly as locked.
tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# An outside conformance kit, not part of this repository: it runs when a copy
# sits beside the checkout.
conformance:
	@if [ ! -x ../shared/conformance/run.sh ]; then \
	  echo "make conformance needs the outside conformance kit at ../shared/conformance/run.sh" >&2; \
	  echo "(it is not part of this repository; the project's own suite is make test)" >&2; \
	  exit 2; \
	fi
	PATH="$(CURDIR)/$(BIN):$$PATH" ../shared/conformance/run.sh

# The benchmark's own dependencies: the `bench` extra (matplotlib for its charts).
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench

## cluster: nginx in front of three workers on PostgreSQL and Redis, on 127.0.0.1:8080
## (deploy/cluster.sh; docs/deploy.md, A cluster on one machine)
cluster: $(STAMP)
	$(BIN)/python manage.py compiletranslations
	deploy/cluster.sh up

cluster-down:
	deploy/cluster.sh down

clean:
	rm -rf $(VENV) staticfiles *.egg-info
