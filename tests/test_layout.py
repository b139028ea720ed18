"""The Rust source tree keeps its layers: ``src/ffi.rs`` (C declarations) under ``src/nn/``
(the safe core, no PyO3) under ``src/py/`` (the PyO3 layer), and no cycle between the
modules of ``src/nn/``. Read from the source; the extension is not needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
NN = SRC / "nn"

pytestmark = pytest.mark.skipif(not NN.is_dir(), reason="no Rust source tree here")


def code(path: Path) -> str:
    """The file's Rust code without its comments (line comments, doc comments included)."""
    return "\n".join(line.split("//", 1)[0] for line in path.read_text().splitlines())


def nn_files() -> list[Path]:
    return sorted(NN.rglob("*.rs"))


def module_of(path: Path) -> str:
    """The module of ``src/nn/`` a file belongs to: ``socket`` for ``nn/socket/io.rs``."""
    return path.relative_to(NN).parts[0].removesuffix(".rs")


def test_the_safe_core_never_uses_pyo3() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in [*nn_files(), SRC / "ffi.rs"]
        if re.search(r"\bpyo3\b", code(p), re.IGNORECASE)
    ]
    assert not offenders, f"PyO3 in the safe layer: {offenders}"


def test_the_safe_core_never_uses_the_python_layer() -> None:
    offenders = [str(p.relative_to(SRC)) for p in nn_files() if "crate::py" in code(p)]
    assert not offenders, f"src/nn/ uses src/py/: {offenders}"


def test_the_safe_core_keeps_no_state_of_the_warnings() -> None:
    """Which misuse warnings a socket gave is the Python layer's state (``py/misuse.rs``);
    the core keeps facts only (what a socket was used for)."""
    offenders = [str(p.relative_to(SRC)) for p in nn_files() if re.search(r"warn", code(p), re.I)]
    assert not offenders, f"warnings in src/nn/: {offenders}"


# Where the nng feature may be tested: the declarations, nn's backend module, and the few
# small cfgs its doc names (options.rs: a test that runs on libnanomsg only).
NNG_ALLOWED = {"ffi.rs", "nn/symbols.rs", "nn/library.rs", "nn/error.rs", "nn/options.rs"}


def test_every_backend_difference_is_behind_the_backend_module() -> None:
    """``src/py/`` never meets a difference between the backends, and ``src/nn/`` asks its
    ``backend`` module for them."""
    offenders = [
        str(p.relative_to(SRC))
        for p in sorted(SRC.rglob("*.rs"))
        if 'feature = "nng"' in code(p)
        and not p.is_relative_to(NN / "backend")
        and str(p.relative_to(SRC)) not in NNG_ALLOWED
    ]
    assert not offenders, f"the nng feature tested outside nn/backend/: {offenders}"


def test_ffi_uses_nothing_of_the_crate() -> None:
    assert "crate::" not in code(SRC / "ffi.rs")


def nn_dependencies() -> dict[str, set[str]]:
    """Which modules of ``src/nn/`` each one uses (``nn/mod.rs``, the facade, left out)."""
    modules = {module_of(p) for p in nn_files()} - {"mod"}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path in nn_files():
        module = module_of(path)
        if module == "mod":
            continue
        text = code(path)
        # A file of src/nn/ itself reaches its siblings as super::x as well.
        used = re.findall(r"crate::nn::(\w+)", text)
        if path.parent == NN:
            used += re.findall(r"\bsuper::(\w+)", text)
        for name in used:
            assert name in modules, (
                f"{path.relative_to(SRC)} uses crate::nn::{name}: inside src/nn/, name the "
                "module (crate::nn::socket::Guard), not a re-export, so that this test sees "
                "the dependency"
            )
            if name != module:
                graph[module].add(name)
        assert "crate::nn::{" not in text, f"{path.relative_to(SRC)}: one path per module"
    return graph


def test_the_modules_of_the_safe_core_form_no_cycle() -> None:
    graph = nn_dependencies()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail(f"cycle in src/nn/: {' -> '.join(cycle)}")
        if module in done:
            return
        for used in sorted(graph[module]):
            visit(used, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
