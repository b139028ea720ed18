"""Mistakes that would pass silently say so: a misspelt option set raises ``AttributeError``
with the nearest names (a misspelt read is Python's own error, which its display completes),
a socket dropped while open warns (``ResourceWarning``), and ``repr`` shows what a socket is
bound and connected to."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import warnings

import pytest
from support import SockFactory, make_address, run_python

import nanomsg_rs as nn

# -- misspelt names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("rcvtimeout", "'rcvtimeo'"),
        ("sendtimeo", "'sndtimeo'"),
        ("reconnect_interval", "'reconnect_ivl'"),
        ("recv_max_size", "'rcvmaxsize'"),
    ],
)
def test_a_misspelt_option_raises_with_the_nearest_names(
    sock: SockFactory, name: str, suggestion: str
) -> None:
    s = sock("pair")
    with pytest.raises(AttributeError, match=f"no option or attribute '{name}'") as info:
        setattr(s, name, 5)
    assert f"did you mean {suggestion}" in str(info.value)
    assert not hasattr(s, name)


def test_reading_an_unknown_attribute_is_pythons_own_error(sock: SockFactory) -> None:
    # Python's own error, with the name and the object, from which the interpreter's
    # display offers the nearest name (see the test below).
    s = sock("pair")
    with pytest.raises(AttributeError, match=r"no attribute 'rcvtimeoo'") as info:
        s.rcvtimeoo  # type: ignore[attr-defined]  # noqa: B018
    assert info.value.name == "rcvtimeoo"
    assert info.value.obj is s


def test_an_unknown_attribute_read_is_shown_with_the_nearest_name() -> None:
    done = run_python("import nanomsg_rs as nn\ns = nn.Socket('pair')\ns.rcvtimeoo\n")
    assert done.returncode == 1
    assert "has no attribute 'rcvtimeoo'. Did you mean: 'rcvtimeo'?" in done.stderr


def test_attribute_reads_and_method_calls_take_pythons_fast_path() -> None:
    # A __getattr__ or __getattribute__ on the class (Python's or the native part's) makes
    # every attribute read go through a slot that also blocks the interpreter's method-call
    # fast path: about 460 more instructions a sock.recv() (callgrind; the closing note of
    # the change that removed it). Nothing on the class but object's own.
    for cls in nn.Socket.__mro__:
        assert "__getattr__" not in vars(cls), cls
        assert vars(cls).get("__getattribute__", object.__getattribute__) is (
            object.__getattribute__
        ), cls


def test_a_name_with_nothing_near_gets_no_suggestion(sock: SockFactory) -> None:
    s = sock("pair")
    with pytest.raises(AttributeError) as info:
        s.zzz = 1  # type: ignore[attr-defined]
    assert str(info.value) == "Socket has no option or attribute 'zzz'"


def test_options_still_set_and_read_only_ones_say_so(sock: SockFactory) -> None:
    s = sock("pair")
    s.rcvtimeo = 123
    assert s.rcvtimeo == 123
    with pytest.raises(AttributeError, match="option 'rcvfd' is read-only"):
        s.rcvfd = 3  # type: ignore[misc]


def test_a_subclass_keeps_its_own_attributes() -> None:
    class Named(nn.Socket):
        pass

    with Named("pair") as s:
        s.label = "mine"
        assert s.label == "mine"
        s.sndtimeo = 7
        assert s.sndtimeo == 7


# -- repr ------------------------------------------------------------------------------------


def test_repr_shows_protocol_domain_number_and_endpoints(sock: SockFactory) -> None:
    s = sock("pub")
    bound, connected = make_address("inproc"), make_address("ipc")
    s.bind(bound)
    endpoint = s.connect(connected)
    assert repr(s) == f"<nanomsg_rs.Socket PUB SP fd={s.fd} bound {bound} connected {connected}>"
    endpoint.shutdown()
    assert repr(s) == f"<nanomsg_rs.Socket PUB SP fd={s.fd} bound {bound}>"
    raw = sock("rep", "sp-raw")
    assert repr(raw) == f"<nanomsg_rs.Socket REP SP_RAW fd={raw.fd}>"
    s.close()
    assert repr(s) == "<nanomsg_rs.Socket closed>"


# -- sockets left open -------------------------------------------------------------------------


def test_a_socket_dropped_open_warns() -> None:
    s = nn.Socket("pair")
    text = repr(s)
    with pytest.warns(ResourceWarning, match="unclosed <nanomsg_rs.Socket PAIR") as record:
        del s
        gc.collect()
    assert str(record[0].message) == f"unclosed {text}"


def test_closed_and_detached_sockets_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        s = nn.Socket("pair")
        s.close()
        del s
        t = nn.Socket("pair")
        number = t.detach()
        del t
        with nn.Socket.adopt(number):
            pass
        with nn.Socket("pair"):
            pass
        gc.collect()


def test_python_dev_mode_shows_the_warning_with_where_the_socket_was_made() -> None:
    """``python -X dev -X tracemalloc`` prints the warning and the line that made the socket;
    without dev mode nothing is printed (ResourceWarning is ignored by default)."""
    code = textwrap.dedent(
        """
        import nanomsg_rs as nn
        def make():
            return nn.Socket("pull")  # the line that made it
        s = make()
        del s
        print("ok")
        """
    )
    shown = subprocess.run(
        [sys.executable, "-X", "dev", "-X", "tracemalloc=5", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "ResourceWarning: unclosed <nanomsg_rs.Socket PULL SP" in shown.stderr
    # where it was made: make()'s line (4 of the program: its source is not on disk to show)
    assert "Object allocated at" in shown.stderr
    assert 'File "<string>", lineno 4' in shown.stderr, shown.stderr
    quiet = run_python(code)
    assert quiet.returncode == 0 and quiet.stdout.strip() == "ok", quiet.stderr
    assert "ResourceWarning" not in quiet.stderr
