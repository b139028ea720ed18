"""The source trees keep their layers: ``src/ffi.rs`` (C declarations) under ``src/nn/``
(the safe core, no PyO3) under ``src/py/`` (the PyO3 layer), and no cycle between the
modules of ``src/nn/``, of ``src/py/``, or of the Python package (``python/nanomsg_rs``,
counting every import: at the top, inside a function, or for type checkers only). Read from
the source; the extension is not needed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from support import ROOT

SRC = ROOT / "src"
NN = SRC / "nn"
PY = SRC / "py"
PACKAGE = ROOT / "python" / "nanomsg_rs"

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


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` (module -> the modules it uses), as the path round it, or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for used in sorted(graph.get(module, ())):
            cycle = visit(used, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_modules_of_the_safe_core_form_no_cycle() -> None:
    cycle = find_cycle(nn_dependencies())
    assert cycle is None, f"cycle in src/nn/: {' -> '.join(cycle or [])}"


def py_dependencies() -> dict[str, set[str]]:
    """Which modules of ``src/py/`` each one uses (``py/mod.rs``, which gathers them into
    the module ``_native``, left out)."""
    modules = {p.stem for p in PY.glob("*.rs")} - {"mod"}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path in sorted(PY.glob("*.rs")):
        if path.stem == "mod":
            continue
        text = code(path)
        used = re.findall(r"crate::py::(\w+)", text) + re.findall(r"\bsuper::(\w+)", text)
        for name in used:
            assert name in modules, f"{path.name} uses crate::py::{name}: not a module"
            if name != path.stem:
                graph[path.stem].add(name)
        assert "crate::py::{" not in text, f"{path.name}: one path per module"
    return graph


def test_the_modules_of_the_python_layer_form_no_cycle() -> None:
    graph = py_dependencies()
    assert graph["socket"] >= {"errors", "blocking"}, graph  # the test sees the uses
    cycle = find_cycle(graph)
    assert cycle is None, f"cycle in src/py/: {' -> '.join(cycle or [])}"


def package_imports() -> dict[str, set[str]]:
    """Which modules of the package each one imports (``nanomsg_rs._socket`` ...), at the
    top, in a function or under ``TYPE_CHECKING``; importing a name of the package itself
    (``from . import x`` where ``x`` is no module) counts as importing ``nanomsg_rs``. The
    import of a package that Python makes before any of its modules is left out."""
    # the extension module, _native, by its stub
    sources = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyi")]
    files = {
        ".".join(("nanomsg_rs", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
            ".__init__"
        ): p
        for p in sorted(sources, key=lambda p: p.suffix, reverse=True)  # .py over .pyi
    }
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                if node.level:
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names
                ]
            else:
                continue
            graph[module].update(t for t in targets if t in files and t != module)
    return graph


def test_the_python_package_has_no_import_cycle() -> None:
    graph = package_imports()
    assert "nanomsg_rs._errors" in graph["nanomsg_rs._socket"], graph  # the test sees them
    assert "nanomsg_rs._socket" in graph["nanomsg_rs.compat.nnpy"]
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle in python/nanomsg_rs: {' -> '.join(cycle or [])}"
