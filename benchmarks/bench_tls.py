"""TLS rows: nanomsg_rs's ``tls+tcp://`` (OpenSSL, in our libnanomsg) against pynng's (nng's
mbedTLS), with the same certificates (made by ``openssl``, as the tests make them), and
nanomsg_rs over plain ``tcp://`` for the cost of TLS itself.

This is the ``tls`` workload of ``run.py`` (``make bench``, or ``run.py --only tls``); it runs
on its own too:

    python benchmarks/bench_tls.py [--rounds 3] [--seconds 1.0]

Rows (issue 28's targets: nanomsg_rs ahead of pynng on each, and its TLS 1 MiB throughput at
least 0.7 of its plain tcp):

* throughput 64 B and 1 MiB: PUSH (a second process) -> PULL (this one) over loopback;
* latency 64 B: REQ (this process) <-> REP (a second process), round trips.

Each sample runs one library for about ``--seconds`` after the connection is up and a few
messages went through (the TLS handshake is not timed); every round runs each row's
libraries once, in a new random order. The measuring process's CPU time per message is
recorded beside each rate.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench_stats import median_of
from bench_workloads import SUBJECT

HERE = Path(__file__).resolve().parent
#: The workload's name (``run.py --only tls``).
WORKLOAD = "tls"
RIVAL = "pynng"
#: nanomsg_rs over plain tcp: what TLS costs.
PLAIN = f"{SUBJECT} (tcp)"
#: Why an nng build of nanomsg_rs runs no tls row: it would measure the system's nng 1.5.2, not
#: our libnanomsg, and that nng's ``nng_close`` can hang for ever on a TLS socket that is
#: receiving 1 MiB messages (a close deadlock of nng's, fixed after 1.5.2; pynng's nng closes).
NNG_LEFT_OUT = (
    "tls: left out: this nanomsg_rs is an nng build, and nng 1.5.2's close of a TLS socket that "
    "is receiving 1 MiB messages can hang for ever; the tls rows measure the libnanomsg build"
)
MiB = 1024 * 1024
#: (name, kind, size): the rows.
ROWS = (
    ("tls throughput 64 B", "throughput", 64),
    ("tls throughput 1 MiB", "throughput", MiB),
    ("tls latency 64 B", "latency", 64),
)
#: Messages through before a sample's clock starts (the handshake, the first wake-ups).
WARMUP = 20
#: The target on the 1 MiB row: TLS over plain tcp, nanomsg_rs's own.
TLS_OVER_TCP = 0.7


def make_certs(where: Path) -> Any:
    """A CA, and a server certificate it signed for localhost and 127.0.0.1: the tests'
    (``tests/tlscerts.py``), so both libraries get the very files the interop tests use."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    try:
        import tlscerts
    finally:
        sys.path.pop(0)
    return tlscerts.make_certs(where)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- the two ends -------------------------------------------------------------------------------


def open_end(lib: str, kind: str, server: bool, certs: Any, address: str) -> Any:
    """One end of a row: nanomsg_rs or pynng, bound (``server``) or connected, with TLS
    (plain tcp for :data:`PLAIN`). ``kind``: push, pull, req or rep."""
    if lib == RIVAL:
        import pynng

        cls = {"push": pynng.Push0, "pull": pynng.Pull0, "req": pynng.Req0, "rep": pynng.Rep0}
        if server:
            cfg = pynng.TLSConfig(
                pynng.TLSConfig.MODE_SERVER,
                own_cert_string=Path(certs.server.cert).read_text(),
                own_key_string=Path(certs.server.key).read_text(),
            )
            s = cls[kind](tls_config=cfg, recv_timeout=10_000, send_timeout=10_000)
            s.listen(address)
        else:
            cfg = pynng.TLSConfig(
                pynng.TLSConfig.MODE_CLIENT,
                server_name="localhost",
                ca_string=Path(certs.ca.cert).read_text(),
            )
            s = cls[kind](tls_config=cfg, recv_timeout=10_000, send_timeout=10_000)
            s.dial(address, block=False)
        return s
    import nanomsg_rs as nn

    tls = None
    if lib != PLAIN:
        if server:
            tls = nn.TLSConfig("server", cert_file=certs.server.cert, key_file=certs.server.key)
        else:
            tls = nn.TLSConfig("client", ca_file=certs.ca.cert, server_name="localhost")
    s = nn.Socket(kind, tls=tls)
    s.rcvtimeo = s.sndtimeo = 10_000
    s.rcvmaxsize = -1
    if server:
        s.bind(address)
    else:
        s.connect(address)
    return s


def peer(lib: str, kind: str, address: str, size: int, ca: str, cert: str, key: str) -> None:
    """The second process: a PUSH that sends ``size`` bytes for ever, or a REP that echoes;
    ``ca``, ``cert``, ``key``: the files of :func:`make_certs`'s CA and server."""
    certs = SimpleNamespace(ca=SimpleNamespace(cert=ca), server=SimpleNamespace(cert=cert, key=key))
    if kind == "push":
        s = open_end(lib, "push", False, certs, address)
        payload = os.urandom(size)
        while True:
            s.send(payload)
    s = open_end(lib, "rep", True, certs, address)
    while True:
        s.send(s.recv())


def start_peer(lib: str, kind: str, certs: Any, address: str, size: int) -> subprocess.Popen:
    files = [certs.ca.cert, certs.server.cert, certs.server.key]
    return subprocess.Popen(
        [sys.executable, __file__, "--peer", lib, kind, address, str(size), *files],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
    )


def sample(lib: str, kind: str, size: int, certs: Any, seconds: float) -> tuple[float, float]:
    """One timed run: (messages a second, or µs per round trip; process CPU µs per message)."""
    scheme = "tcp" if lib == PLAIN else "tls+tcp"
    address = f"{scheme}://127.0.0.1:{free_port()}"
    if kind == "throughput":
        ours = open_end(lib, "pull", True, certs, address)
        proc = start_peer(lib, "push", certs, address, size)
    else:
        proc = start_peer(lib, "rep", certs, address, size)
        ours = open_end(lib, "req", False, certs, address)
    try:
        payload = os.urandom(size)
        for _ in range(WARMUP):
            if kind == "latency":
                ours.send(payload)
            ours.recv()
        count = 0
        cpu0, start = time.process_time(), time.perf_counter()
        end = start + seconds
        while True:
            if kind == "latency":
                ours.send(payload)
            ours.recv()
            count += 1
            if count % 16 == 0 and time.perf_counter() >= end:
                break
        elapsed = time.perf_counter() - start
        cpu_us = (time.process_time() - cpu0) * 1e6 / count
    finally:
        proc.kill()
        proc.wait()
        ours.close()
    if kind == "latency":
        return elapsed * 1e6 / count, cpu_us
    return count / elapsed, cpu_us


# -- the rounds and the records ----------------------------------------------------------------


def libs_of(kind: str, size: int, available: list[str]) -> list[str]:
    """Who runs a row: nanomsg_rs and pynng over TLS, nanomsg_rs over tcp on the 1 MiB row."""
    libs = [SUBJECT] + ([RIVAL] if RIVAL in available else [])
    if kind == "throughput" and size == MiB:
        libs.append(PLAIN)
    return libs


def measure_tls(
    available: list[str],
    rounds: int,
    seconds: float,
    rng: random.Random,
    notes: list[str],
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """The tls workload for ``run.py``: its records (the rows, then their targets)."""
    import nanomsg_rs as nn

    if nn.BACKEND == "nng":
        notes.append(NNG_LEFT_OUT)
        return []
    if RIVAL not in available:
        notes.append("tls: pynng is missing, so the TLS rows have no rival (no targets judged)")
    samples: dict[tuple[str, str], list[tuple[float, float] | None]] = {}
    with tempfile.TemporaryDirectory(prefix="nnbench-tls-") as tmp:
        certs = make_certs(Path(tmp))
        for r in range(rounds):
            for name, kind, size in ROWS:
                libs = libs_of(kind, size, available)
                rng.shuffle(libs)
                for lib in libs:
                    if progress:
                        progress(f"tls round {r + 1}/{rounds}: {name}, {lib}")
                    try:
                        got: tuple[float, float] | None = sample(lib, kind, size, certs, seconds)
                    except Exception as e:  # a failed sample is recorded as missing
                        notes.append(f"tls: {name}, {lib}: {type(e).__name__}: {e}")
                        got = None
                    samples.setdefault((name, lib), []).append(got)
    return records(samples)


def records(samples: dict[tuple[str, str], list[tuple[float, float] | None]]) -> list[dict]:
    """A record per row, shaped as every workload's (the "vs C" column is the ratio to pynng's
    TLS), each with its target: nanomsg_rs ahead of pynng; then one for nanomsg_rs's TLS 1 MiB
    throughput over its plain tcp, at least :data:`TLS_OVER_TCP`."""
    out = []
    for name, kind, _size in ROWS:
        metric = "latency" if kind == "latency" else "rate"
        results: dict[str, Any] = {}
        for (row, lib), got in samples.items():
            if row != name:
                continue
            values = [g[0] if g else None for g in got]
            present = [v for v in values if v is not None]
            if not present:
                continue
            cpu = [g[1] if g else None for g in got]
            results[lib] = {
                "samples": values,
                "median": median_of(values),
                "min": min(present),
                "max": max(present),
                "cpu_us_samples": cpu,
                "cpu_us": median_of(cpu),
            }
        rival = results.get(RIVAL, {}).get("median")
        for result in results.values():
            result["ratio"] = result["median"] / rival if rival else None
        ratio = results.get(SUBJECT, {}).get("ratio")
        latency = metric == "latency"
        out.append(
            record(
                name,
                f"{name}: over loopback, two processes (vs C: the ratio to pynng's TLS)",
                metric,
                results,
                ("<=" if latency else ">=", 1.0),
                None if ratio is None else (ratio <= 1.0 if latency else ratio >= 1.0),
            )
        )
        if PLAIN in results and SUBJECT in results:
            ours = dict(results[SUBJECT])
            ours["ratio"] = ours["median"] / results[PLAIN]["median"]
            plain = dict(results[PLAIN], ratio=1.0)
            out.append(
                record(
                    f"{name} TLS / tcp",
                    f"{name}: nanomsg_rs over TLS and over plain tcp (vs C: the ratio to tcp)",
                    metric,
                    {SUBJECT: ours, PLAIN: plain},
                    (">=", TLS_OVER_TCP),
                    ours["ratio"] >= TLS_OVER_TCP,
                )
            )
    return out


def record(
    name: str,
    title: str,
    metric: str,
    results: dict[str, Any],
    target: tuple[str, float],
    met: bool | None,
) -> dict[str, Any]:
    """A row of the table, with nanomsg_rs's target on it (judged by rate only)."""
    return {
        "workload": WORKLOAD,
        "name": name,
        "title": title,
        "metric": metric,
        "unit": "µs" if metric == "latency" else "msg/s",
        "results": results,
        "target": {"op": target[0], "value": target[1]},
        "target_met": met,
        "only_libs": [SUBJECT, RIVAL, PLAIN],
    }


def main(rounds: int, seconds: float) -> None:
    notes: list[str] = []
    found = measure_tls([SUBJECT, RIVAL], rounds, seconds, random.Random(), notes)
    for found_record in found:
        print(f"{found_record['title']} [{found_record['unit']}]")
        for lib, r in found_record["results"].items():
            ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
            print(
                f"  {lib:<18} {r['median']:>12.1f}  ({r['min']:.1f} - {r['max']:.1f})  "
                f"cpu {r['cpu_us']:.2f} µs  {ratio}"
            )
        t = found_record["target"]
        verdict = {True: "met", False: "MISSED", None: "not measured"}[found_record["target_met"]]
        print(f"  target: nanomsg_rs {t['op']} {t['value']}: {verdict}")
    for note in notes:
        print(f"  - {note}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        lib, kind, address, size, ca, cert, key = sys.argv[2:9]
        peer(lib, kind, address, int(size), ca, cert, key)
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    main(args.rounds, args.seconds)
