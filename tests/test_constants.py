"""The exported constants agree with what the linked libnanomsg reports (nn_symbol_info);
on the nng backend, which has no nn_symbol_info, with nng's compatibility headers."""

from __future__ import annotations

import errno
import importlib.util
import re
import subprocess
import sys
from enum import IntEnum
from pathlib import Path

import pytest
from support import NANOMSG, NNG, NO_SYMBOLS, ROOT, only_on

import nanomsg_rs as nn

PATCHES = Path(__file__).resolve().parent.parent / "nanomsg" / "patches"

# nng has no nn_symbol_info: the symbol tests are skipped there, and the constants are
# checked against nng's own headers instead (the nng section at the end).
SYMBOLS = nn.symbols() if NANOMSG else []
BY_NAME = {s.name: s for s in SYMBOLS}
# Stands in for the symbol list in parametrized tests on nng, so that the skip shows why.
NO_SYMBOL_PARAMS = [pytest.param(None, marks=only_on("nanomsg", NO_SYMBOLS), id="no-symbols")]
nanomsg_only = pytest.mark.backend("nanomsg", reason=NO_SYMBOLS)


def exported_name(c_name: str) -> str:
    """The module-level name of a nanomsg symbol: without ``NN_`` (``AF_SP``, ``E*`` keep
    their names)."""
    return c_name[3:] if c_name.startswith("NN_") else c_name


def namespace(ns_name: str) -> list[nn.Symbol]:
    if not SYMBOLS:
        return []
    ns = BY_NAME[f"NN_NS_{ns_name}"].value
    return [s for s in SYMBOLS if s.namespace == ns and not s.name.startswith("NN_NS_")]


def exported_constants() -> dict[str, int]:
    return {
        name: value
        for name, value in vars(nn).items()
        if name.isupper() and isinstance(value, int) and not isinstance(value, bool)
    }


# Constants of nanomsg's headers that nn_symbol_info does not list, with their values.
HEADER_ONLY = {
    "PROTO_SP": 1,
    "SP_HDR": 1,
    "PROTO_PAIR": 1,
    "PROTO_PUBSUB": 2,
    "PROTO_REQREP": 3,
    "PROTO_PIPELINE": 5,
    "PROTO_SURVEY": 6,
    "PROTO_BUS": 7,
    "IPC_SEC_ATTR": 1,
    "IPC_OUTBUFSZ": 2,
    "IPC_INBUFSZ": 3,
    # our ipc.h's (patch 0062): the longest NN_IPC_PEER_UIDS list
    "IPC_PEER_UIDS_MAX": 64,
}


# -- nn.symbols() ---------------------------------------------------------------------------


@nanomsg_only
def test_symbols_are_symbol_tuples() -> None:
    assert isinstance(SYMBOLS, list)
    assert len(SYMBOLS) > 100
    for s in SYMBOLS:
        assert isinstance(s, nn.Symbol)
        assert isinstance(s.name, str)
        for field in (s.value, s.namespace, s.type, s.unit):
            assert isinstance(field, int)
    assert nn.Symbol._fields == ("name", "value", "namespace", "type", "unit")


@nanomsg_only
def test_symbols_are_stable_and_unique() -> None:
    assert nn.symbols() == SYMBOLS
    names = [s.name for s in SYMBOLS]
    assert len(names) == len(set(names))


@nanomsg_only
def test_symbols_start_with_the_namespaces() -> None:
    assert SYMBOLS[0].name == "NN_NS_NAMESPACE"
    ns_names = [s for s in SYMBOLS if s.name.startswith("NN_NS_")]
    assert all(s.namespace == 0 for s in ns_names)
    assert {s.name for s in ns_names} >= {
        "NN_NS_NAMESPACE",
        "NN_NS_VERSION",
        "NN_NS_DOMAIN",
        "NN_NS_TRANSPORT",
        "NN_NS_PROTOCOL",
        "NN_NS_OPTION_LEVEL",
        "NN_NS_SOCKET_OPTION",
        "NN_NS_TRANSPORT_OPTION",
        "NN_NS_OPTION_TYPE",
        "NN_NS_OPTION_UNIT",
        "NN_NS_FLAG",
        "NN_NS_ERROR",
        "NN_NS_LIMIT",
        "NN_NS_EVENT",
        "NN_NS_STATISTIC",
    }


@nanomsg_only
def test_symbol_namespaces_are_known() -> None:
    known = {s.value for s in SYMBOLS if s.name.startswith("NN_NS_")}
    for s in SYMBOLS:
        assert s.namespace in known, s


@nanomsg_only
def test_option_symbols_have_types_and_units() -> None:
    assert BY_NAME["NN_LINGER"].type == nn.TYPE_INT
    assert BY_NAME["NN_LINGER"].unit == nn.UNIT_MILLISECONDS
    assert BY_NAME["NN_SNDBUF"].unit == nn.UNIT_BYTES
    assert BY_NAME["NN_SOCKET_NAME"].type == nn.TYPE_STR
    assert BY_NAME["NN_SNDPRIO"].unit == nn.UNIT_PRIORITY
    assert BY_NAME["NN_IPV4ONLY"].unit == nn.UNIT_BOOLEAN
    assert BY_NAME["NN_SUB_SUBSCRIBE"].type == nn.TYPE_STR
    assert BY_NAME["NN_STAT_MESSAGES_SENT"].unit == nn.UNIT_MESSAGES
    assert BY_NAME["NN_STAT_BYTES_SENT"].unit == nn.UNIT_BYTES


# -- every symbol is exported with its value ------------------------------------------------


@pytest.mark.parametrize(
    "symbol", SYMBOLS or NO_SYMBOL_PARAMS, ids=[s.name for s in SYMBOLS] or None
)
def test_every_symbol_is_exported(symbol: nn.Symbol) -> None:
    name = exported_name(symbol.name)
    assert hasattr(nn, name), f"nn.{name} is missing"
    value = getattr(nn, name)
    assert value == symbol.value
    assert isinstance(value, int)
    assert not isinstance(value, bool)


@nanomsg_only
def test_prefix_rules() -> None:
    assert nn.AF_SP == BY_NAME["AF_SP"].value
    assert nn.AF_SP_RAW == BY_NAME["AF_SP_RAW"].value
    assert nn.EFSM == BY_NAME["EFSM"].value == 156384766
    assert nn.ETERM == BY_NAME["ETERM"].value == 156384765
    assert nn.SOL_SOCKET == BY_NAME["NN_SOL_SOCKET"].value
    assert nn.LINGER == BY_NAME["NN_LINGER"].value
    assert not hasattr(nn, "NN_LINGER")
    assert not hasattr(nn, "SP")  # AF_SP keeps its prefix


@nanomsg_only
def test_every_exported_constant_matches_nanomsg() -> None:
    """Every upper-case int of the module is a nanomsg symbol with that value, a constant of
    nanomsg's headers that nn_symbol_info does not list, or a system errno."""
    symbol_values = {exported_name(s.name): s.value for s in SYMBOLS}
    unexplained = {}
    for name, value in exported_constants().items():
        if name in symbol_values:
            assert value == symbol_values[name], name
        elif name in HEADER_ONLY:
            assert value == HEADER_ONLY[name], name
        elif name.startswith("E") and hasattr(errno, name):
            assert value == getattr(errno, name), name
        elif name == "EFORKED":
            assert value not in errno.errorcode
            assert value > nn.ETERM  # in nanomsg's private range, past its own codes
        else:
            unexplained[name] = value
    assert unexplained == {}


@pytest.mark.parametrize(
    "symbol", namespace("ERROR") or NO_SYMBOL_PARAMS, ids=lambda s: s.name if s else None
)
def test_error_symbols_are_platform_errnos(symbol: nn.Symbol) -> None:
    if symbol.name in ("ETERM", "EFSM"):
        return
    assert symbol.value == getattr(errno, symbol.name)


# -- version --------------------------------------------------------------------------------


@nanomsg_only
def test_nanomsg_version() -> None:
    v = nn.NANOMSG_VERSION
    assert isinstance(v, tuple)
    assert len(v) == 3
    assert all(type(x) is int for x in v)
    assert v == (
        BY_NAME["NN_VERSION_CURRENT"].value,
        BY_NAME["NN_VERSION_REVISION"].value,
        BY_NAME["NN_VERSION_AGE"].value,
    )
    assert v == (nn.VERSION_CURRENT, nn.VERSION_REVISION, nn.VERSION_AGE)
    assert v[0] >= 5  # libnanomsg 1.0 or newer


def test_backend_and_library_version() -> None:
    assert nn.BACKEND in ("nanomsg", "nng")
    assert isinstance(nn.LIBRARY_VERSION, str)
    if NANOMSG and nn.HARDENED:
        # Our hardened build: upstream 1.1.5 (ABI 5.1.0) and one "+nanomsg-rs" step a patch.
        assert nn.NANOMSG_VERSION == (5, 1, 0)
        patches = sorted(PATCHES.glob("*.patch"))
        assert patches
        assert nn.LIBRARY_VERSION == f"1.1.5+nanomsg-rs.{len(patches)}"
    elif NANOMSG:
        # The system libnanomsg tells only its ABI version.
        assert not nn.HARDENED
        current, revision, age = nn.NANOMSG_VERSION
        assert nn.LIBRARY_VERSION == f"nanomsg ABI {current}.{revision}.{age}"
    else:
        # nng is not libnanomsg: no nanomsg ABI version, its own version string instead.
        assert nn.NANOMSG_VERSION is None
        assert not nn.HARDENED
        assert re.fullmatch(r"nng \d+\.\d+\.\d+.*", nn.LIBRARY_VERSION), nn.LIBRARY_VERSION


# -- enums ----------------------------------------------------------------------------------


@nanomsg_only
@pytest.mark.parametrize(
    ("enum", "symbols", "prefix", "count"),
    [
        (nn.Statistic, "STATISTIC", "NN_STAT_", 17),
        (nn.Protocol, "PROTOCOL", "NN_", 10),
        (nn.Domain, "DOMAIN", "AF_", 2),
    ],
    ids=["Statistic", "Protocol", "Domain"],
)
def test_enum_members_match_symbols(
    enum: type[IntEnum], symbols: str, prefix: str, count: int
) -> None:
    """An enum's members are the symbols of its namespace, named without their prefix."""
    expected = {s.name[len(prefix) :]: s.value for s in namespace(symbols)}
    members = {m.name: m.value for m in enum}
    if enum is nn.Statistic and not nn.HARDENED:
        # our libnanomsg's own (patches 0060, 0062): no symbol on another library
        del members["TLS_HANDSHAKE_ERRORS"]
        del members["REFUSED_CONNECTIONS"]
    assert members == expected
    assert len(enum) == count


def test_statistic_members_are_the_contract() -> None:
    assert [m.name for m in nn.Statistic] == [
        "ESTABLISHED_CONNECTIONS",
        "ACCEPTED_CONNECTIONS",
        "DROPPED_CONNECTIONS",
        "BROKEN_CONNECTIONS",
        "CONNECT_ERRORS",
        "BIND_ERRORS",
        "ACCEPT_ERRORS",
        "CURRENT_CONNECTIONS",
        "INPROGRESS_CONNECTIONS",
        "CURRENT_EP_ERRORS",
        "MESSAGES_SENT",
        "MESSAGES_RECEIVED",
        "BYTES_SENT",
        "BYTES_RECEIVED",
        "CURRENT_SND_PRIORITY",
        "TLS_HANDSHAKE_ERRORS",
        "REFUSED_CONNECTIONS",
    ]


def test_protocol_numbers_encode_their_family() -> None:
    families = {
        "PAIR": nn.PROTO_PAIR,
        "PUB": nn.PROTO_PUBSUB,
        "SUB": nn.PROTO_PUBSUB,
        "REQ": nn.PROTO_REQREP,
        "REP": nn.PROTO_REQREP,
        "PUSH": nn.PROTO_PIPELINE,
        "PULL": nn.PROTO_PIPELINE,
        "SURVEYOR": nn.PROTO_SURVEY,
        "RESPONDENT": nn.PROTO_SURVEY,
        "BUS": nn.PROTO_BUS,
    }
    for m in nn.Protocol:
        assert m.value // 16 == families[m.name], m
        assert m == getattr(nn, m.name)


def test_enum_members_are_ints() -> None:
    for enum in (nn.Statistic, nn.Protocol, nn.Domain):
        for m in enum:
            assert isinstance(m, int)
            assert int(m) == m.value


@nanomsg_only
def test_transport_and_option_symbols() -> None:
    transports = {s.name: s.value for s in namespace("TRANSPORT")}
    assert transports == {
        "NN_INPROC": nn.INPROC,
        "NN_IPC": nn.IPC,
        "NN_TCP": nn.TCP,
        "NN_WS": nn.WS,
        # our libnanomsg's own (patch 0060)
        **({"NN_TLS": nn.TLS, "NN_WSS": nn.WSS} if nn.HARDENED else {}),
    }
    for s in namespace("SOCKET_OPTION"):
        assert getattr(nn, exported_name(s.name)) == s.value
    assert nn.POLLIN == 1
    assert nn.POLLOUT == 2
    assert nn.DONTWAIT == 1


# -- nng: the constants against nng's compatibility headers ---------------------------------

NNG_HEADERS = Path("/usr/include/nng/compat/nanomsg")
no_nng_headers = pytest.mark.skipif(
    not NNG_HEADERS.is_dir(), reason=f"nng's compatibility headers are not in {NNG_HEADERS}"
)
nng_only = pytest.mark.backend("nng", reason="checks nng's own constants and behaviour")


def nng_header_defines() -> dict[str, int]:
    """Every integer ``#define`` of nng's compatibility headers (``nn.h``, the protocols and
    transports), evaluated."""
    defines: dict[str, int] = {}
    pattern = re.compile(r"^#define\s+(\w+)\s+(.+?)\s*(?://.*)?$")
    for header in sorted(NNG_HEADERS.glob("*.h")):
        for line in header.read_text().splitlines():
            m = pattern.match(line.strip())
            if not m or not re.fullmatch(r"[\w\s()+*-]+", m.group(2)):
                continue
            try:
                value = eval(m.group(2), {"__builtins__": {}}, dict(defines))
            except (NameError, SyntaxError):
                continue  # not an integer constant (NN_DECL, include guards ...)
            if isinstance(value, int):
                defines[m.group(1)] = value
    return defines


# Read only on nng: on nanomsg the test below is one skipped item, not one per constant.
NNG_DEFINES = nng_header_defines() if NNG and NNG_HEADERS.is_dir() else {}


def nng_expected_constants() -> dict[str, int]:
    """Exported name -> value in nng's headers, for every constant nng's headers define.
    POSIX errnos are left out: the headers define them only where the platform lacks them
    (``#ifndef``), and Linux has them all; ``ETERM`` and ``EFSM`` are nng's own."""
    expected = {}
    for name, value in vars(nn).items():
        if not (name.isupper() and isinstance(value, int)) or isinstance(value, bool):
            continue
        if name.startswith("E") and hasattr(errno, name):
            continue
        for c_name in (f"NN_{name}", name):
            if c_name in NNG_DEFINES:
                expected[name] = NNG_DEFINES[c_name]
                break
    return expected


NNG_EXPECTED = nng_expected_constants()


@nng_only
@no_nng_headers
def test_nng_headers_were_read() -> None:
    assert NNG_DEFINES["NN_SOL_SOCKET"] == 0
    assert NNG_DEFINES["NN_SUB"] == 33
    # Most of what the module exports is in nng's headers too (not the nn_symbol_info
    # namespaces, option types and units, statistics and version numbers).
    assert len(NNG_EXPECTED) >= 40, sorted(NNG_EXPECTED)


@nng_only
@no_nng_headers
@pytest.mark.parametrize("name", sorted(NNG_EXPECTED) or ["(not read)"])
def test_constant_matches_nng_header(name: str) -> None:
    """What the binding exports is what nng's compatibility layer expects: a constant with
    another value there (the protocol-level options are numbered differently in nng's
    headers) makes the calls that use it fail."""
    assert getattr(nn, name) == NNG_EXPECTED[name], (
        f"nn.{name} = {getattr(nn, name)}, nng's header says {NNG_EXPECTED[name]}"
    )


@nng_only
def test_nng_error_codes() -> None:
    # nng's own numbers for the two codes POSIX lacks (NN_ERRBASE = 0x10000000).
    assert nn.ETERM == 0x10000000 + 29
    assert nn.EFSM == 0x10000000 + 30
    assert nn.EFORKED not in errno.errorcode
    # Every other exported errno is the platform's.
    for name, value in vars(nn).items():
        if name.startswith("E") and name.isupper() and hasattr(errno, name):
            assert value == getattr(errno, name), name


@nng_only
def test_symbols_not_supported_on_nng() -> None:
    with pytest.raises(nn.NotSupported) as info:
        nn.symbols()
    assert info.value.errno == errno.ENOTSUP
    assert "nng" in str(info.value)


# -- one source: the Rust table ---------------------------------------------------------------


def test_generated_python_is_up_to_date() -> None:
    """The Python side of the Rust tables (``nanomsg_rs.constants``, the stub's lines, the
    package's ``__all__``; the option properties of ``Socket``) is what
    ``tools/gen_python.py`` writes from them."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_python.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_exported_constant_comes_from_the_table() -> None:
    assert set(nn.constants.__all__) <= set(nn.__all__)
    for name in nn.constants.__all__:
        assert isinstance(getattr(nn, name), int), name


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_type_checkers_see_every_constant_through_star_import(tmp_path: Path) -> None:
    """``from nanomsg_rs import *`` gives mypy every constant (a list built at run time, such
    as ``__all__ += constants.__all__``, it does not follow)."""
    program = tmp_path / "star.py"
    names = nn.constants.__all__
    program.write_text(
        "from nanomsg_rs import *\n\n" + "".join(f"x_{n}: int = {n}\n" for n in names)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(program)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
