"""The release wheel installs and works where no libnanomsg is installed; the sdist builds.

``make wheel`` puts an abi3 wheel into dist/. By default it carries one shared object, the
extension, with our hardened libnanomsg linked into it statically; a build on the system
library (``--features system-libnanomsg``, or no source to build from) carries an
auditwheel-repaired copy of it in ``nanomsg_rs.libs/`` instead. These tests install the wheel
into a fresh virtual environment (no system site packages, no index, no dependencies) and run a
smoke test there inside a mount namespace in which every system copy of libnanomsg is hidden
under an empty file (and the loader's cache is rebuilt without it): the import, a PAIR round
trip and ``nn.LIBRARY_VERSION`` must work, and the process must map no libnanomsg file at all
(hardened) or only the wheel's own copy.

Without a wheel in dist/ the wheel tests skip (run ``make wheel`` first). The sdist tests need
maturin; building a wheel from the sdist is a second release build, so that one runs only with
``NANOMSG_RS_SLOW=1``.
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ROOT

import nanomsg_rs as nn

DIST = ROOT / "dist"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux wheels only")


def find_wheel() -> Path | None:
    """The newest abi3 wheel in dist/ for this machine, if any."""
    machine = platform.machine()
    wheels = [
        p
        for p in DIST.glob("nanomsg_rs-*.whl")
        if "-abi3-" in p.name and p.name.endswith(f"_{machine}.whl")
    ]
    return max(wheels, key=lambda p: p.stat().st_mtime, default=None)


WHEEL = find_wheel()
needs_wheel = pytest.mark.skipif(
    WHEEL is None,
    reason=f"no nanomsg_rs abi3 wheel for {platform.machine()} in dist/: run `make wheel` first",
)
needs_maturin = pytest.mark.skipif(shutil.which("maturin") is None, reason="maturin not found")
#: Whether the wheel in dist/ links our hardened libnanomsg: as the installed build under test
#: does (``make test`` installs that wheel), or, under an nng build, as the source at hand says.
HARDENED_WHEEL = (
    nn.HARDENED
    if nn.BACKEND == "nanomsg"
    else any((ROOT / "nanomsg" / "upstream").glob("nanomsg_*.orig.tar.gz"))
)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that could lead Python or the loader elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTHON") and k not in ("LD_LIBRARY_PATH", "LD_PRELOAD", "VIRTUAL_ENV")
    }
    env.update(extra)
    return env


def run(cmd: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)}: exit status {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return proc


# -- the wheel's contents ---------------------------------------------------------------------


def needed_libraries(wheel: Path) -> list[str]:
    """The shared libraries the wheel's extension needs (its ELF NEEDED entries)."""
    with tempfile.NamedTemporaryFile(suffix=".so") as so:
        so.write(zipfile.ZipFile(wheel).read("nanomsg_rs/_native.abi3.so"))
        so.flush()
        dynamic = subprocess.run(
            ["readelf", "-d", so.name], capture_output=True, text=True, check=True
        ).stdout
    return [line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line]


@needs_wheel
def test_wheel_carries_its_library_and_types() -> None:
    assert WHEEL is not None
    assert "-cp311-abi3-" in WHEEL.name, WHEEL.name
    assert "manylinux" in WHEEL.name, f"{WHEEL.name}: not repaired (auditwheel)"
    names = zipfile.ZipFile(WHEEL).namelist()
    for required in (
        "nanomsg_rs/__init__.py",
        "nanomsg_rs/_native.abi3.so",
        "nanomsg_rs/_native.pyi",
        "nanomsg_rs/py.typed",
    ):
        assert required in names, f"{WHEEL.name} lacks {required}"
    shared = [n for n in names if ".so" in n]
    if HARDENED_WHEEL:
        # libnanomsg is inside the extension: one shared object, which needs no libnanomsg.
        assert shared == ["nanomsg_rs/_native.abi3.so"], shared
        needed = needed_libraries(WHEEL)
        assert needed and not [n for n in needed if "libnanomsg" in n], needed
    else:
        bundled = [n for n in names if n.startswith("nanomsg_rs.libs/libnanomsg")]
        assert bundled, f"{WHEEL.name} carries no libnanomsg in nanomsg_rs.libs/: {names}"


# -- installed in a fresh venv, with the system libnanomsg hidden -----------------------------

SMOKE = textwrap.dedent(
    """
    import ctypes, ctypes.util, json, sys, tempfile

    facts = {"sys_path": sys.path}
    # The system's libnanomsg must be out of reach before the package is imported.
    try:
        ctypes.CDLL("libnanomsg.so.5")
        facts["system_load_error"] = None
    except OSError as e:
        facts["system_load_error"] = str(e)
    found = ctypes.util.find_library("nanomsg")
    facts["find_library"] = found
    facts["find_library_load_error"] = None
    if found is not None:
        try:
            ctypes.CDLL(found)
        except OSError as e:
            facts["find_library_load_error"] = str(e)

    import nanomsg_rs as nn

    facts["package"] = nn.__file__
    facts["native"] = nn._native.__file__
    facts["library_version"] = nn.LIBRARY_VERSION
    facts["nanomsg_version"] = nn.NANOMSG_VERSION
    with (
        tempfile.TemporaryDirectory() as tmp,
        nn.Socket("pair") as a,
        nn.Socket("pair") as b,
    ):
        a.bind(f"ipc://{tmp}/smoke.ipc")
        b.connect(f"ipc://{tmp}/smoke.ipc")
        for s in (a, b):
            s.sndtimeo = s.rcvtimeo = 10000
        a.send(b"ping")
        got = b.recv()
        b.send(b"pong")
        facts["round_trip"] = [got.decode(), a.recv().decode()]
    with open("/proc/self/maps") as maps:
        fields = [line.split() for line in maps]
    facts["mapped"] = sorted({f[5] for f in fields if len(f) >= 6 and "libnanomsg" in f[5]})
    print(json.dumps(facts))
    """
)

# Runs as root in a private mount namespace: $1 python, $2 the smoke script, $3 a scratch
# directory, then the files to hide. Mounts made here vanish with the namespace.
HIDE_AND_RUN = textwrap.dedent(
    """
    set -eu
    py=$1 smoke=$2 work=$3
    shift 3
    : > "$work/empty"
    for f in "$@"; do mount --bind "$work/empty" "$f"; done
    # ctypes.util.find_library asks `ldconfig -p`, which reads the cache: rebuild it from the
    # directories as they now look (empty files are left out).
    if command -v ldconfig >/dev/null && [ -f /etc/ld.so.cache ] &&
        ldconfig -X -C "$work/ld.so.cache" 2>/dev/null; then
        mount --bind "$work/ld.so.cache" /etc/ld.so.cache
    fi
    exec "$py" -I "$smoke"
    """
)


def system_libnanomsg_files() -> list[str]:
    """The real files of every libnanomsg the loader could find (symlinks resolved)."""
    dirs = {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"}
    dirs |= {f"{d}/{platform.machine()}-linux-gnu" for d in ("/lib", "/usr/lib", "/usr/local/lib")}
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    if os.path.exists(ldconfig):
        listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
        dirs |= {
            os.path.dirname(line.rsplit("=> ", 1)[1])
            for line in listing.splitlines()
            if "libnanomsg" in line and "=> " in line
        }
    files = {
        os.path.realpath(p) for d in dirs for p in glob.glob(os.path.join(d, "libnanomsg.so*"))
    }
    return sorted(f for f in files if os.path.isfile(f))


def namespace_command() -> list[str]:
    cmd = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        cmd.insert(1, "--map-root-user")
    return cmd


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment with only the wheel installed; its python."""
    assert WHEEL is not None
    root = tmp_path_factory.mktemp("wheel-venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], 120, env=clean_env())
    python = root / "venv" / "bin" / "python"
    # The running interpreter's pip installs into the venv (--python): no pip in the venv, no
    # index, no dependencies.
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            str(WHEEL),
        ],
        240,
        env=clean_env(),
    )
    yield python


@needs_wheel
@pytest.mark.timeout(600)
def test_wheel_works_without_system_libnanomsg(venv: Path, tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to hide the system libnanomsg")
    probe = subprocess.run([*namespace_command(), "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.strip()}")

    smoke = tmp_path / "smoke.py"
    smoke.write_text(SMOKE)
    hidden = system_libnanomsg_files()
    proc = run(
        [
            *namespace_command(),
            "sh",
            "-c",
            HIDE_AND_RUN,
            "sh",
            str(venv),
            str(smoke),
            str(tmp_path),
            *hidden,
        ],
        120,
        cwd=tmp_path,
        env=clean_env(),
    )
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    report = f"hidden: {hidden}\nfacts: {json.dumps(facts, indent=1)}\nstderr: {proc.stderr}"

    # The system copy really was out of reach.
    assert facts["system_load_error"] is not None, report
    assert facts["find_library"] is None or facts["find_library_load_error"], report

    # The package came from the venv, and so did the library it loaded.
    site = (venv.parent.parent / "lib").resolve()
    assert Path(facts["package"]).resolve().is_relative_to(site), report
    assert Path(facts["native"]).resolve().is_relative_to(site), report
    if HARDENED_WHEEL:
        assert facts["mapped"] == [], report
    else:
        assert facts["mapped"], report
    for path in facts["mapped"]:
        assert Path(path).resolve().is_relative_to(site), report
        assert Path(path).parent.name == "nanomsg_rs.libs", report

    assert facts["round_trip"] == ["ping", "pong"], report
    expected_start = "1.1.5+nanomsg-rs." if HARDENED_WHEEL else "nanomsg "
    assert facts["library_version"].startswith(expected_start), report
    if nn.BACKEND == "nanomsg":  # the same build as this process's (not so under .ci/test-nng)
        assert facts["library_version"] == nn.LIBRARY_VERSION, report
        assert tuple(facts["nanomsg_version"]) == nn.NANOMSG_VERSION, report


@needs_wheel
@pytest.mark.skipif(nn.BACKEND != "nanomsg", reason="this build links nng, not libnanomsg")
def test_system_libnanomsg_found_to_hide() -> None:
    """The hiding above is only a test if there was a system libnanomsg to hide: every
    libnanomsg this process maps from outside a wheel's own copy, and the one the dynamic
    loader finds by name, are among the files hidden."""
    files = system_libnanomsg_files()
    assert files, "no system libnanomsg found to hide"
    probe = ctypes.CDLL("libnanomsg.so.5")  # the system's, as the loader resolves it
    del probe
    with open("/proc/self/maps") as maps:
        mapped = {line.split()[5] for line in maps if len(line.split()) >= 6}
    outside = {
        os.path.realpath(p)
        for p in mapped
        if "libnanomsg" in p and Path(p).parent.name != "nanomsg_rs.libs"
    }
    assert outside, "the system libnanomsg did not load"
    assert outside <= set(files), f"loaded {outside}, would hide only {files}"


# -- the sdist --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    run(["maturin", "sdist", "--out", str(out)], 240, cwd=ROOT)
    (archive,) = out.glob("nanomsg_rs-*.tar.gz")
    return archive


@needs_maturin
@pytest.mark.timeout(300)
def test_sdist_contents(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    top = names[0].split("/")[0]
    files = {n.removeprefix(f"{top}/") for n in names}
    for required in (
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "pyproject.toml",
        "src/lib.rs",
        "python/nanomsg_rs/__init__.py",
        "python/nanomsg_rs/_native.pyi",
        "python/nanomsg_rs/py.typed",
        "nanomsg/prepare-source",
        "nanomsg/defines.txt",
        "nanomsg/source.env",
        *(f"nanomsg/patches/{p.name}" for p in (ROOT / "nanomsg" / "patches").glob("*.patch")),
        # what a hardened build from the sdist compiles
        *(
            f"nanomsg/upstream/{p.name}"
            for p in (ROOT / "nanomsg" / "upstream").glob("nanomsg_*.orig.tar.gz")
        ),
    ):
        assert required in files, f"{sdist.name} lacks {required}"
    assert all(n.startswith(f"{top}/") for n in names)
    # Build products of the editable install stay out.
    assert not [f for f in files if f.endswith(".so") or f.startswith("target/")], files


@needs_maturin
@pytest.mark.skipif(
    os.environ.get("NANOMSG_RS_SLOW") != "1",
    reason="a second release build (about a minute): set NANOMSG_RS_SLOW=1",
)
@pytest.mark.timeout(1800)
def test_pip_wheel_from_sdist(sdist: Path, tmp_path: Path) -> None:
    out = tmp_path / "wheels"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(out),
            str(sdist),
        ],
        1500,
        env=clean_env(CARGO_TARGET_DIR=str(tmp_path / "target")),
    )
    (wheel,) = out.glob("nanomsg_rs-*.whl")
    assert "-abi3-" in wheel.name, wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("nanomsg_rs/__init__.py", "nanomsg_rs/_native.abi3.so", "nanomsg_rs/py.typed"):
        assert required in names, f"{wheel.name} lacks {required}"
    if HARDENED_WHEEL:
        # built from the sdist's own copy of libnanomsg's source: linked in, not needed
        needed = needed_libraries(wheel)
        assert needed and not [n for n in needed if "libnanomsg" in n], needed


@needs_maturin
@pytest.mark.skipif(
    os.environ.get("NANOMSG_RS_SLOW") != "1",
    reason="two more release builds (about a minute each): set NANOMSG_RS_SLOW=1",
)
@pytest.mark.skipif(
    not Path("/usr/include/nng/compat/nanomsg/nn.h").exists(), reason="needs libnng-dev"
)
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("route", ["environment", "config-settings"])
def test_pip_chooses_the_nng_backend(sdist: Path, tmp_path: Path, route: str) -> None:
    """The README's two ways of choosing nng at install time both give an nng build."""
    out = tmp_path / "wheels"
    extra_env: dict[str, str] = {"CARGO_TARGET_DIR": str(tmp_path / "target")}
    extra_args: list[str] = []
    if route == "environment":
        extra_env["MATURIN_PEP517_ARGS"] = "--features nng"
    else:
        extra_args = ["--config-settings=build-args=--features nng"]
    run(
        [
            *[sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"],
            *["--no-index", "--disable-pip-version-check", "-q", "-w", str(out)],
            *extra_args,
            str(sdist),
        ],
        1500,
        env=clean_env(**extra_env),
    )
    (wheel,) = out.glob("nanomsg_rs-*.whl")
    target = tmp_path / "site"
    run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "-t", str(target), str(wheel)],
        300,
        env=clean_env(),
    )
    probe = "import nanomsg_rs as nn; print(nn.BACKEND, nn.LIBRARY_VERSION)"
    done = run([sys.executable, "-c", probe], 60, env=clean_env(PYTHONPATH=str(target)))
    assert done.stdout.split()[:2] == ["nng", "nng"], done.stdout
