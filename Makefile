# fanpin — 防止返贫监测和帮扶系统.  Needs only Python 3.11+ (and make).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEMO_HOUSEHOLDS ?= 2000
PORT ?= 8000

.PHONY: demo test lint format typecheck migrate serve clean ci

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

## demo: venv, install, migrate, demo data, serve on 127.0.0.1:8000 (SQLite, in-process tasks)
demo: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	@if DEBUG=1 $(PY) manage.py shell -v0 -c "import sys; from monitoring.services.demo import demo_exists; sys.exit(0 if demo_exists() else 1)" >/dev/null 2>&1; then \
	  echo "演示数据已存在：直接启动（要重新生成，先删除 db.sqlite3）"; \
	else \
	  DEBUG=1 $(PY) manage.py generate_demo --households $(DEMO_HOUSEHOLDS) && \
	  DEBUG=1 $(PY) manage.py screen --year 2025 && \
	  DEBUG=1 $(PY) manage.py demo_workflow; \
	fi
	@echo ""
	@echo "  打开 http://127.0.0.1:$(PORT)/ ，用户名 admin / province / city / county / township / village / dept，密码 demo-2020"
	@echo ""
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

## test: venv, install, the whole suite (SQLite unless DATABASE_URL is set)
test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy fanpin monitoring assistance

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .mypy_cache .ruff_cache
