"""The nng build of nanomsg_rs for the benchmarks: the ``nanomsg_rs-nng`` library.

The same package, built with the cargo feature ``nng`` (nng's nanomsg-compatible API, Debian's
``libnng-dev``), is measured side by side with the default libnanomsg build. Since a Python
process can import only one ``nanomsg_rs``, the nng build lives in a private venv:

* the wheel is built by ``maturin build --release --features nng --auditwheel skip`` into
  ``target/nng-bench/wheels``, with ``CARGO_TARGET_DIR=target/nng-bench`` (a target dir of its
  own, apart from ``make wheel``'s and ``.ci/test-nng``'s); cargo rebuilds what changed, so
  every run measures the sources as they are (about 30 s from scratch, 10 s otherwise);
* it is installed into ``target/nng-bench/venv`` (``python -m venv --system-site-packages``,
  made once, remade when the interpreter changed), whose python then runs that library's
  workers.

Without libnng-dev, maturin or cargo, or when the build fails, :func:`prepare` says why and
the library is left out of the run.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_procs import BENCH_DIR

ROOT = BENCH_DIR.parent
NNG_DIR = ROOT / "target" / "nng-bench"
WHEELS = NNG_DIR / "wheels"
VENV = NNG_DIR / "venv"
#: The header of nng's nanomsg compatibility layer (what build.rs looks for, too).
NNG_HEADER = "nng/compat/nanomsg/nn.h"
INCLUDE_DIRS = ("/usr/include", "/usr/local/include")
BUILD_TIMEOUT_S = 1800

#: Printed by the venv's python: which nanomsg_rs it imports, and what it links.
_PROBE = (
    "import json, nanomsg_rs as nn; print(json.dumps({'backend': nn.BACKEND, "
    "'library': nn.LIBRARY_VERSION, 'version': nn.__version__, 'file': nn.__file__}))"
)


@dataclass(frozen=True)
class NngBuild:
    """An interpreter that imports an nng build of nanomsg_rs, and what that build is."""

    python: Path
    version: str
    library: str  # nn.LIBRARY_VERSION, e.g. "nng 1.5.2"
    where: str  # the imported package's __init__.py


def nng_headers() -> bool:
    """Whether nng's nanomsg-compatible headers are installed (Debian: libnng-dev)."""
    return any(Path(d, NNG_HEADER).exists() for d in INCLUDE_DIRS)


def maturin_command() -> list[str] | None:
    """How to run maturin here, or None."""
    exe = shutil.which("maturin")
    if exe is not None:
        return [exe]
    if importlib.util.find_spec("maturin") is not None:
        return [sys.executable, "-m", "maturin"]
    return None


def tail(text: str, lines: int = 3) -> str:
    """The last non-empty lines of ``text``, on one line."""
    kept = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    return " | ".join(kept)


def probe(python: Path) -> NngBuild | str:
    """The nng build that ``python`` imports, or why it does not import one."""
    try:
        done = subprocess.run(
            [str(python), "-c", _PROBE],
            capture_output=True,
            text=True,
            cwd=BENCH_DIR,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} does not run: {exc}"
    if done.returncode != 0:
        return f"{python} cannot import nanomsg_rs: {tail(done.stderr, 1)}"
    try:
        info = json.loads(done.stdout.splitlines()[-1])
    except (IndexError, ValueError):
        return f"{python} printed {done.stdout.strip()[-200:]!r} instead of its nanomsg_rs"
    if info["backend"] != "nng":
        return f"{python} imports a {info['backend']} build of nanomsg_rs ({info['file']})"
    return NngBuild(python, str(info["version"]), str(info["library"]), str(info["file"]))


def _venv_python() -> Path | str:
    """The private venv's python, made (or remade) for the running interpreter."""
    python = VENV / "bin" / "python"
    here = f"{sys.base_prefix} {sys.version}"
    if python.exists():
        seen = subprocess.run(
            [str(python), "-c", "import sys; print(sys.base_prefix, sys.version)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if seen.returncode == 0 and seen.stdout.strip() == here:
            return python
    shutil.rmtree(VENV, ignore_errors=True)
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(VENV)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        return f"python -m venv failed: {tail(made.stderr + made.stdout)}"
    return python


def prepare(progress: Callable[[str], None]) -> NngBuild | str:
    """Builds the nng wheel from the working tree and installs it into the private venv;
    returns the build, or (never raising) why there is none."""
    if not nng_headers():
        return f"nng's nanomsg compatibility headers ({NNG_HEADER}) are not installed " + (
            "(Debian/Ubuntu: apt-get install libnng-dev)"
        )
    maturin = maturin_command()
    if maturin is None:
        return "maturin is not installed (pip install maturin), so the nng wheel cannot be built"
    if shutil.which("cargo") is None:
        return "cargo is not installed, so the nng wheel cannot be built"
    NNG_DIR.mkdir(parents=True, exist_ok=True)
    # one preparation at a time: two runs would replace each other's wheel and venv
    with open(NNG_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        WHEELS.mkdir(exist_ok=True)
        for old in WHEELS.glob("*.whl"):
            old.unlink()
        progress(f"[nng] building the nng wheel (cargo: {NNG_DIR.relative_to(ROOT)})")
        try:
            built = subprocess.run(
                [
                    *maturin,
                    "build",
                    "--release",
                    "--features",
                    "nng",
                    "--auditwheel",
                    "skip",
                    "--interpreter",
                    sys.executable,
                    "--out",
                    str(WHEELS),
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "CARGO_TARGET_DIR": str(NNG_DIR)},
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the nng wheel did not build: {exc}"
        wheels = sorted(WHEELS.glob("*.whl"))
        if built.returncode != 0 or not wheels:
            return f"the nng wheel did not build: {tail(built.stderr + built.stdout)}"
        python = _venv_python()
        if isinstance(python, str):
            return python
        progress(f"[nng] installing it into {VENV.relative_to(ROOT)}")
        installed = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--force-reinstall",
                "--disable-pip-version-check",
                str(wheels[-1]),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if installed.returncode != 0:
            return f"the nng wheel did not install: {tail(installed.stderr)}"
    build = probe(python)
    venv = os.path.realpath(VENV) + os.sep
    if isinstance(build, NngBuild) and not os.path.realpath(build.where).startswith(venv):
        return f"the venv imports nanomsg_rs from {build.where}, not its own nng build"
    return build
