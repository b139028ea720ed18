"""Options are properties (ms, bytes); statistics count what a socket did."""

import nanomsg_rs as nn

with nn.Socket("pair") as a, nn.Socket("pair") as b:
    assert a.rcvtimeo == -1  # the default: wait forever
    a.rcvtimeo = 100  # ms
    try:
        a.recv()
    except nn.Timeout:  # nothing arrived within 100 ms
        pass
    else:
        raise AssertionError("a message out of nowhere")

    a.rcvmaxsize = 64 * 1024  # bytes; a larger message drops its connection
    a.socket_name = "left"
    assert (a.rcvmaxsize, a.socket_name) == (65536, "left")
    assert a.protocol is nn.Protocol.PAIR and a.domain is nn.Domain.SP

    try:
        a.rcvtimeo = "1 s"  # type: ignore[assignment]
    except TypeError:
        pass
    try:
        a.req_resend_ivl = 1000  # a REQ option, on a PAIR
    except nn.NanomsgError as e:
        assert e.errno == nn.ENOPROTOOPT

    # Any option by its level and number, as in C:
    assert a.getsockopt(nn.SOL_SOCKET, nn.RCVTIMEO) == 100

    a.bind("inproc://stats")
    b.connect("inproc://stats")
    b.send(b"12345")
    assert a.recv() == b"12345"
    if nn.BACKEND == "nanomsg":  # the nng backend keeps no statistics
        assert a.statistic("messages-received") == 1
        assert a.statistic(nn.Statistic.BYTES_RECEIVED) == 5
        assert b.statistics()[nn.Statistic.MESSAGES_SENT] == 1
    print("options: ok")
