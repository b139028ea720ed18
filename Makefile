# nanomsg-rs: the table of contents. `make help` lists the targets.
PY ?= python3
# pip's warning about running as root (CI is root), silenced without a filter that could hide
# pip's exit status: a failed install fails the target.
export PIP_ROOT_USER_ACTION = ignore
# The wheel `make wheel` just built (it removes older ones first): `make test` checks that
# the nanomsg_rs it imports is this one (tests/ci_skips.py).
WHEEL_FILE = $$(ls dist/nanomsg_rs-*.whl)

.PHONY: help deps dev install demo test test-nng test-all flake-hunt soak fuzz-smoke bench profile-layers lint fmt wheel clean repro prove model docs

help:            ## this list
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

deps:            ## apt and pip packages (skipped when present; apt needs root or sudo)
	@bash .ci/install-deps

dev: deps        ## build the extension in place (editable install, release profile)
	$(PY) -m pip install -q --no-build-isolation --disable-pip-version-check -e .
	@$(PY) -c "import nanomsg_rs"

demo: install    ## the Chicken egg's sample: a REP server answered by nncat
	$(PY) examples/demo.py

install: wheel   ## install the release wheel into the current Python
	$(PY) -m pip install -q --no-deps --force-reinstall --disable-pip-version-check \
		$(WHEEL_FILE)

test: install    ## the test suite (soak tests excluded), on the installed release wheel
	NANOMSG_RS_EXPECT_WHEEL=$(WHEEL_FILE) $(PY) -m pytest -q

test-nng: deps   ## the test suite on the nng backend (its own build, in a venv of its own)
	bash .ci/test-nng

test-all: install ## every test, soak tests included
	NANOMSG_RS_EXPECT_WHEEL=$(WHEEL_FILE) $(PY) -m pytest -q -m ''

flake-hunt: install ## the whole suite 5 times on each backend under load (stress-ng)
	PY=$(PY) bash .ci/flake-hunt

soak: install    ## the soak tests and the fuzzers' soak budgets, with a summary table
	PY=$(PY) bash .ci/soak

# BENCH_SIZES and BENCH_SUBS (e.g. 64,64KiB,1MiB and 1,16,256) shorten the sweeps.
bench: install   ## benchmarks: table, targets, plots, benchmarks/README.md's Results, the docs' figures
	PIP_ROOT_USER_ACTION=ignore $(PY) -m pip install -q --disable-pip-version-check \
		-r benchmarks/requirements.txt  # the compared libraries and matplotlib, for the plots
	$(PY) benchmarks/run.py --pin --readme benchmarks/README.md --docs

# Line tables (no change to the code) let the profile split what LTO inlined by source file.
profile-layers:  ## instructions per call, layer by layer (callgrind), against C
	CARGO_PROFILE_RELEASE_DEBUG=line-tables-only $(MAKE) install
	$(PY) benchmarks/profile_layers.py --noblock

docs: install    ## the site (Sphinx) in docs/_build/html; a warning or broken link fails it
	$(PY) -m pip install -q --disable-pip-version-check -r docs/requirements.txt
	# -n: every cross-reference must resolve; -W --keep-going: list every warning, then fail.
	$(PY) -m sphinx -b html -n -W --keep-going -q docs docs/_build/html
	# the links of the site that are no cross-references (to pages, files, anchors);
	# conf.py's linkcheck_ignore leaves out the external ones, which need a network
	$(PY) -m sphinx -b linkcheck -n -W --keep-going -q docs docs/_build/linkcheck
	@echo "docs: file://$(CURDIR)/docs/_build/html/index.html"

lint: deps       ## every style gate (on the installed package), and the Rust unit tests
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test --lib --quiet
	ruff check .
	ruff format --check .
	$(PY) -m mypy --strict python/nanomsg_rs examples
	$(PY) -m mypy.stubtest nanomsg_rs._native

fmt:             ## reformat Rust and Python
	cargo fmt
	ruff format .

wheel: deps      ## release wheel (abi3, our hardened libnanomsg linked in) into dist/
	# A target dir of its own. A build on the system library (no source, or the feature
	# system-libnanomsg) carries that library, grafted by maturin's repair step, which
	# patches cargo's output in place (the grafted copy's hashed name): that would leak into
	# other builds, and a patched output left from the last wheel must be relinked, or the
	# repair cannot find that name.
	rm -f dist/nanomsg_rs-*.whl
	@if readelf -d target/wheel/release/deps/lib_native.so 2>/dev/null | grep -q 'libnanomsg-'; \
		then rm -f target/wheel/release/deps/lib_native.so target/wheel/release/lib_native.so; fi
	CARGO_TARGET_DIR=target/wheel maturin build --release --out dist

fuzz-smoke:      ## a short run of every fuzz harness of nanomsg/fuzz (ASan, UBSan), as CI does
	$(MAKE) -C nanomsg/fuzz smoke

repro: wheel     ## the C reproducers of nanomsg/patches/: system libnanomsg 1.1.5 vs hardened
	bash nanomsg/repro/run

prove: deps      ## each patch's Proof: inputs fail with the patch left out, pass on the series
	nanomsg/prove

model: deps      ## the spin models of nanomsg/models (lazy readiness fds): pass, and fail when broken
	nanomsg/models/check

clean:
	cargo clean
	rm -rf dist build python/nanomsg_rs/*.so docs/_build
