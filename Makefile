# nanomsg-rs: the table of contents.
PY ?= python3

.PHONY: help deps dev demo test test-all bench lint fmt wheel clean

help:            ## this list
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

deps:            ## system and Python packages (Debian; needs root)
	bash .ci/install-deps

dev:             ## build the extension in place (editable install)
	$(PY) -m pip install -q --no-build-isolation -e '.[test,dev]'

demo: dev        ## the Chicken egg's sample: a REP server answered by nanocat
	$(PY) examples/demo.py

test: dev        ## the test suite (soak tests excluded)
	$(PY) -m pytest -q

test-all: dev    ## every test, soak tests included
	$(PY) -m pytest -q -m ''

bench: dev       ## benchmarks: table and plot
	$(PY) benchmarks/run.py

lint:            ## every style gate
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	ruff check .
	ruff format --check .
	$(PY) -m mypy --strict python/nanomsg_rs

fmt:             ## reformat Rust and Python
	cargo fmt
	ruff format .

wheel:           ## release wheel (abi3, auditwheel-repaired) into dist/
	maturin build --release --out dist

clean:
	cargo clean
	rm -rf dist build python/nanomsg_rs/*.so
