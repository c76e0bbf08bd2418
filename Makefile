# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
MANAGE := $(BIN)/python manage.py

.PHONY: install run test lint migrate seed screens bench-compliance bench-export bench-similarity bench messages backup restore

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Starts embedded PostgreSQL (unless DATABASE_URL is set), migrates, loads the demo district,
# and runs the web server with a Celery worker and beat. PORT overrides 8000.
run: install
	$(MANAGE) run_platform

# The whole suite; exits non-zero on any failure, and when no test ran: pytest's exit 5 when none was
# selected, and the skip guard's (tests/support/skip_guard.py) when every selected test skipped.
# Runs in parallel (pytest-xdist, one process per core up to four, each with its own test database);
# tests that change cluster-wide roles share one process (xdist_group "cluster_roles").
# PYTEST_ARGS replaces the parallel flags, e.g. PYTEST_ARGS="tests/api -x" runs in one process.
PYTEST_ARGS ?= -n auto --maxprocesses=4 --dist loadgroup
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Static checks, run by .ci/run before the suite: ruff (with import order), the import-linter layers
# contract (docs/ARCHITECTURE.md, "Layers") and mypy on the typed part (pyproject.toml [tool.mypy]).
MYPY_TARGETS := tenancy jobs api/base.py schools/services submissions/services compliance/services
lint: install
	$(BIN)/ruff check .
	PYTHONPATH=platform:. $(BIN)/lint-imports
	$(BIN)/mypy $(MYPY_TARGETS)

migrate: install
	$(MANAGE) migrate

seed: install
	$(MANAGE) seed_demo

# Phone screenshots of every demo role's start page (real chromium, the demo seeded as of today),
# written to docs/screens/start_<role>.png, and the centre school's review queue at 360 px
# (docs/screens/centre_review.png). Needs a CJK font for legible text (Debian: fonts-wqy-microhei).
screens: install
	WRITE_DOCS=1 $(BIN)/python -m pytest tests/e2e/test_start_screens.py tests/e2e/test_centre_review_phone.py -q -p no:cacheprovider

# Recompile translations (needs GNU gettext only for makemessages; .mo files are committed).
messages: install
	$(MANAGE) makemessages -l zh_Hans --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'staticfiles/*'
	PYTHONPATH=platform $(BIN)/python -m config.i18n_compile

# Scores 1,000 schools x 100 children in a throwaway database (dropped afterwards); prints a table
# and writes var/bench/compliance.json. BENCH_ARGS="--quick" for a small run.
bench-compliance: install
	$(MANAGE) bench_compliance $(BENCH_ARGS)

# Writes a 100,000-row contact log with xlsxwriter (constant_memory) and openpyxl (write_only),
# each in a fresh process; time, peak memory above baseline and the ratio go to var/bench/export.json.
bench-export: install
	$(MANAGE) bench_export $(BENCH_ARGS)

# Copied-narrative detection at district scale: 300 schools x 24 periods of ~1,500-character
# narratives fingerprinted and stored (throwaway database, dropped afterwards), the submit-time
# task timed per submit, recall/precision on planted pairs; writes var/bench/similarity.json.
bench-similarity: install
	$(MANAGE) bench --only similarity --output var/bench/similarity.json $(BENCH_ARGS)

# One archive of the database (pg_dump, as a role that bypasses row-level security) and every stored
# file, with a signed manifest of SHA-256 hashes; see README "Backup and restore".
# BACKUP_ARGS e.g. "--output-dir /backups --keep 14".
backup: install
	$(MANAGE) backup $(BACKUP_ARGS)

# Loads ARCHIVE into an EMPTY database and EMPTY storage, after verifying every hash and the HMAC.
# RESTORE_ARGS e.g. "--verify-only".
restore: install
	@test -n "$(ARCHIVE)" || { echo "usage: make restore ARCHIVE=var/backups/liushou-backup-….tar"; exit 2; }
	$(MANAGE) restore "$(ARCHIVE)" $(RESTORE_ARGS)

# Everything side by side in one run (benchmarks/): scoring and its growth, the export, the API
# under Locust load (gunicorn, production settings), RLS overhead and the photo pipeline. Prints
# one table and writes var/bench/bench.json. BENCH_ARGS="--quick" for a CI-sized run.
bench: install
	$(MANAGE) bench $(BENCH_ARGS)
