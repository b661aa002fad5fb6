# One command sets up and starts the app (`make run`); one sets up and passes the tests (`make test`).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint-imports screenshots bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m studio

# The Qt suites run in their own process: Qt's teardown must not depend on what the torch-heavy
# suites (torch.compile, torchrun, exporters) left behind in the interpreter. The two processes run
# at the same time (each is mostly one busy thread: on two cores that halves the wall time); the Qt
# suite's report is printed after the other's, and either failing fails the target.
QT_TESTS := tests/reliability tests/ui
QT_LOG := $(VENV)/qt-tests.log

test: $(STAMP)
	@QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(QT_TESTS) >$(QT_LOG) 2>&1 & qt=$$!; \
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests $(QT_TESTS:%=--ignore=%); rest=$$?; \
	wait $$qt; qt_rc=$$?; echo "---- $(QT_TESTS) (run alongside) ----"; cat $(QT_LOG); \
	test $$rest -eq 0 && test $$qt_rc -eq 0

# Without the slow tests; the Qt suites in their own process, as in `make test` (one after the other).
test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow" tests $(QT_TESTS:%=--ignore=%) && \
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow" $(QT_TESTS)

lint-imports: $(STAMP)
	$(VENV)/bin/lint-imports

screenshots: $(STAMP)
	for f in resources/templates/*.json; do \
		QT_QPA_PLATFORM=offscreen $(PY) -m studio --screenshot docs/screenshots/$$(basename $$f .json).png $$f; \
	done

bench: $(STAMP)
	$(PY) -m studio bench train --device cpu
	$(PY) -m studio bench editor

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
