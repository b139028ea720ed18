# nanomsg-rs: the table of contents. `make help` lists the targets.
PY ?= python3
PIP_QUIET = 2>&1 | grep -v "Running pip as the 'root' user" || true

.PHONY: help deps dev demo test test-all bench lint fmt wheel clean

help:            ## this list
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

deps:            ## apt and pip packages (skipped when present; apt needs root or sudo)
	@bash .ci/install-deps

dev: deps        ## build the extension in place (editable install, release profile)
	$(PY) -m pip install -q --no-build-isolation --disable-pip-version-check -e . $(PIP_QUIET)
	@$(PY) -c "import nanomsg_rs"

demo: dev        ## the Chicken egg's sample: a REP server answered by nncat
	$(PY) examples/demo.py

test: dev        ## the test suite (soak tests excluded)
	$(PY) -m pytest -q

test-all: dev    ## every test, soak tests included
	$(PY) -m pytest -q -m ''

bench: dev       ## benchmarks: table and plot
	$(PY) benchmarks/run.py

lint: dev        ## every style gate
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	ruff check .
	ruff format --check .
	$(PY) -m mypy --strict python/nanomsg_rs
	$(PY) -m mypy.stubtest nanomsg_rs._native

fmt:             ## reformat Rust and Python
	cargo fmt
	ruff format .

wheel: deps      ## release wheel (abi3, auditwheel-repaired) into dist/
	# A target dir of its own: the repair step patches the built library in place, which
	# would leak into the editable install's build.
	CARGO_TARGET_DIR=target/wheel maturin build --release --out dist

clean:
	cargo clean
	rm -rf dist build python/nanomsg_rs/*.so
