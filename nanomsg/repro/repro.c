/*  Reproducers of the crashes nanomsg/patches/ fixes, one per case, in plain C against
    libnanomsg's own API: each sets up a socket and attacks it, from the network (a raw
    OS socket speaking the wire protocol) or by a call sequence, then checks that the
    process is alive and the socket still works. On libnanomsg 1.1.5 as released each
    case kills the process; on the hardened build each prints "survived" and exits 0.

        repro CASE      (repro with no argument lists the cases)

    Fit to send upstream: it needs nothing but libnanomsg and a POSIX system. */

#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/survey.h>
#include <nanomsg/ws.h>
#include <nanomsg/ipc.h>

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die (const char *what)
{
    fprintf (stderr, "repro: %s: %s\n", what, nn_strerror (nn_errno ()));
    exit (2);
}

/*  A raw stream connection to a tcp://127.0.0.1:PORT, ws://127.0.0.1:PORT or ipc://PATH
    address of a nanomsg socket. */
static int raw_connect (const char *addr)
{
    int fd;
    if (strncmp (addr, "ipc://", 6) == 0) {
        struct sockaddr_un un;
        memset (&un, 0, sizeof un);
        un.sun_family = AF_UNIX;
        strncpy (un.sun_path, addr + 6, sizeof un.sun_path - 1);
        fd = socket (AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect (fd, (struct sockaddr*) &un, sizeof un) != 0)
            return -1;
    } else {
        struct sockaddr_in in;
        const char *colon = strrchr (addr, ':');
        memset (&in, 0, sizeof in);
        in.sin_family = AF_INET;
        in.sin_port = htons ((uint16_t) atoi (colon + 1));
        in.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        fd = socket (AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect (fd, (struct sockaddr*) &in, sizeof in) != 0)
            return -1;
    }
    return fd;
}

static void send_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;  /*  the server hung up: fine  */
        p += n;
        len -= (size_t) n;
    }
}

/*  Reads until the peer closes (1) or 2 s pass (0); what it sends is dropped. */
static int hung_up (int fd)
{
    char buf [4096];
    struct timeval tv = { 2, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
        ssize_t n = recv (fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return 1;
        if (n < 0)
            return 0;
    }
}

static void sp_greeting (int fd, int protocol)
{
    unsigned char hdr [8] = { 0, 'S', 'P', 0, 0, 0, 0, 0 };
    unsigned char reply [8];
    hdr [4] = (unsigned char) (protocol >> 8);
    hdr [5] = (unsigned char) protocol;
    send_all (fd, hdr, sizeof hdr);
    if (recv (fd, reply, sizeof reply, MSG_WAITALL) != (ssize_t) sizeof reply)
        fprintf (stderr, "repro: no SP greeting from the server\n");
}

static void put64 (unsigned char *p, uint64_t v)
{
    int i;
    for (i = 7; i >= 0; i--, v >>= 8)
        p [i] = (unsigned char) v;
}

/*  The server still answers a legitimate request, on a fresh connection. */
static void check_rep_serves (int rep, const char *addr)
{
    char buf [16];
    int req = nn_socket (AF_SP, NN_REQ);
    int timeout = 5000;
    if (req < 0) die ("nn_socket");
    nn_setsockopt (req, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout);
    nn_setsockopt (rep, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout);
    if (nn_connect (req, addr) < 0) die ("nn_connect");
    if (nn_send (req, "ping", 4, 0) != 4) die ("nn_send");
    if (nn_recv (rep, buf, sizeof buf, 0) != 4) die ("nn_recv (server)");
    if (nn_send (rep, "pong", 4, 0) != 4) die ("nn_send (server)");
    if (nn_recv (req, buf, sizeof buf, 0) != 4) die ("nn_recv (client)");
    nn_close (req);
}

static int server (int protocol, const char *addr, int maxsize)
{
    int s = nn_socket (AF_SP, protocol);
    if (s < 0) die ("nn_socket");
    if (nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof maxsize) < 0)
        die ("NN_RCVMAXSIZE");
    if (nn_bind (s, addr) < 0) die ("nn_bind");
    return s;
}

static char addr_buf [128];

static const char *ipc (const char *name)
{
    snprintf (addr_buf, sizeof addr_buf, "ipc:///tmp/nnrs-repro-%d-%s", (int) getpid (), name);
    return addr_buf;
}

/*  A tcp or ws address on a port of this process's own (from its pid), so that runs in
    parallel do not collide: 10000-19999, below the fuzz harnesses' servers (20000-31999) and
    Linux's ephemeral ports (32768 up), which outgoing connections take. */
static const char *inet (const char *scheme)
{
    snprintf (addr_buf, sizeof addr_buf, "%s://127.0.0.1:%d", scheme,
        10000 + (int) (getpid () % 10000));
    return addr_buf;
}

/*  nn_sendmsg of the one-byte message "x" with this control data, without waiting.  */
static int send_x_with_control (int s, void *control, size_t controllen)
{
    struct nn_msghdr hdr;
    struct nn_iovec iov;
    iov.iov_base = "x";
    iov.iov_len = 1;
    memset (&hdr, 0, sizeof hdr);
    hdr.msg_iov = &iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control;
    hdr.msg_controllen = controllen;
    return nn_sendmsg (s, &hdr, NN_DONTWAIT);
}

/*  --- the cases --- */

/*  0001: a peer that says it is SUB sends a message to a PUB (xpub.c:134). */
static int xpub_in (void)
{
    const char *addr = inet ("tcp");
    unsigned char frame [8 + 5];
    char buf [8];
    int pub = server (NN_PUB, addr, 1024), fd, i;
    fd = raw_connect (addr);
    sp_greeting (fd, NN_SUB);
    put64 (frame, 5);
    memcpy (frame + 8, "hello", 5);
    for (i = 0; i < 3; i++)
        send_all (fd, frame, sizeof frame);
    usleep (100000);
    /*  The subscriber still gets what the PUB publishes. */
    if (nn_send (pub, "news", 4, 0) != 4) die ("nn_send");
    if (recv (fd, buf, 8 + 4, MSG_WAITALL) != 12) { fprintf (stderr, "no news\n"); return 1; }
    close (fd);
    nn_close (pub);
    return 0;
}

/*  0002: an ipc frame whose type byte is not 1 (sipc.c:336). */
static int ipc_frame_type (void)
{
    const char *addr = ipc ("type");
    unsigned char frame [1 + 8 + 4] = { 0x02 };
    int rep = server (NN_REP, addr, 1024), fd;
    fd = raw_connect (addr);
    sp_greeting (fd, NN_REQ);
    put64 (frame + 1, 4);
    memcpy (frame + 9, "\x80\0\0\1", 4);
    send_all (fd, frame, sizeof frame);
    if (!hung_up (fd)) { fprintf (stderr, "connection kept\n"); return 1; }
    close (fd);
    check_rep_serves (rep, addr);
    nn_close (rep);
    return 0;
}

/*  0003: a frame of 2^63 bytes to a socket whose NN_RCVMAXSIZE is -1 (chunkref.c:55). */
static int huge_frame (const char *addr, int ipc_type)
{
    unsigned char frame [9];
    int rep = server (NN_REP, addr, -1), fd;
    fd = raw_connect (addr);
    sp_greeting (fd, NN_REQ);
    frame [0] = 1;
    put64 (frame + 1, (uint64_t) 1 << 63);
    send_all (fd, ipc_type ? frame : frame + 1, ipc_type ? 9 : 8);
    if (!hung_up (fd)) { fprintf (stderr, "connection kept\n"); return 1; }
    close (fd);
    check_rep_serves (rep, addr);
    nn_close (rep);
    return 0;
}

static int huge_frame_tcp (void) { return huge_frame (inet ("tcp"), 0); }
static int huge_frame_ipc (void) { return huge_frame (ipc ("huge"), 1); }

/*  0004: bad opening handshakes on ws; each must get a 400 and a hang-up. */
static int ws_request (const char *request, size_t len)
{
    const char *addr = inet ("ws");
    char buf [600];
    ssize_t n;
    int rep = server (NN_REP, addr, 1024), fd;
    fd = raw_connect (addr);
    send_all (fd, request, len);
    n = recv (fd, buf, sizeof buf - 1, 0);
    if (n <= 0 || strncmp (buf, "HTTP/1.1 400 ", 13) != 0) {
        fprintf (stderr, "no 400 answer\n");
        return 1;
    }
    if (!hung_up (fd)) { fprintf (stderr, "connection kept\n"); return 1; }
    close (fd);
    check_rep_serves (rep, addr);
    nn_close (rep);
    return 0;
}

static const char WS_HEAD [] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: rep.sp.nanomsg.org\r\n";

static int ws_long_version (void)
{
    char req [2048];
    char version [1001];
    memset (version, '1', 1000);
    version [1000] = 0;
    snprintf (req, sizeof req, "%sSec-WebSocket-Version: %s\r\n\r\n", WS_HEAD, version);
    return ws_request (req, strlen (req));
}

static int ws_http10 (void)
{
    char req [256];
    snprintf (req, sizeof req, "GET / HTTP/1.0\r\nX-Pad: %0170d\r\n\r\n", 0);
    return ws_request (req, strlen (req));
}

static int ws_nul (void)
{
    char req [512];
    int n = snprintf (req, sizeof req, "GET /_ HTTP/1.1\r\n%sSec-WebSocket-Version: 13\r\n\r\n",
        WS_HEAD + strlen ("GET / HTTP/1.1\r\n"));
    req [5] = '\0';
    return ws_request (req, (size_t) n);
}

/*  0005: unsubscribing a prefix that was never subscribed (trie.c: NULL dereference). */
static int unsubscribe (void)
{
    int sub = nn_socket (AF_SP, NN_SUB);
    if (sub < 0) die ("nn_socket");
    if (nn_setsockopt (sub, NN_SUB, NN_SUB_UNSUBSCRIBE, "never", 5) == 0 || nn_errno () != EINVAL) {
        fprintf (stderr, "not EINVAL\n");
        return 1;
    }
    nn_close (sub);
    return 0;
}

/*  0006: two inproc PAIRs connect to one; closing them all (mutex.c:89, use after free). */
static int pair_refused (void)
{
    int server = nn_socket (AF_SP, NN_PAIR), a = nn_socket (AF_SP, NN_PAIR),
        b = nn_socket (AF_SP, NN_PAIR);
    if (nn_bind (server, "inproc://repro") < 0) die ("nn_bind");
    if (nn_connect (a, "inproc://repro") < 0 || nn_connect (b, "inproc://repro") < 0)
        die ("nn_connect");
    usleep (100000);
    nn_close (server);
    nn_close (a);
    nn_close (b);
    return 0;
}

/*  0006: one inproc PAIR connects to two (sinproc.c:365: already connected). */
static int pair_two_binds (void)
{
    int x = nn_socket (AF_SP, NN_PAIR), y = nn_socket (AF_SP, NN_PAIR),
        c = nn_socket (AF_SP, NN_PAIR);
    if (nn_bind (x, "inproc://repro-x") < 0 || nn_bind (y, "inproc://repro-y") < 0)
        die ("nn_bind");
    if (nn_connect (c, "inproc://repro-x") < 0 || nn_connect (c, "inproc://repro-y") < 0)
        die ("nn_connect");
    usleep (100000);
    nn_close (x);
    nn_close (y);
    nn_close (c);
    return 0;
}

/*  0006: one inproc PAIR connects twice to the same bound PAIR (both sides refuse). */
static int pair_connects_twice (void)
{
    int x = nn_socket (AF_SP, NN_PAIR), c = nn_socket (AF_SP, NN_PAIR);
    if (nn_bind (x, "inproc://repro-twice") < 0) die ("nn_bind");
    if (nn_connect (c, "inproc://repro-twice") < 0 || nn_connect (c, "inproc://repro-twice") < 0)
        die ("nn_connect");
    usleep (100000);
    nn_close (c);
    nn_close (x);
    return 0;
}

/*  0009: nn_sendmsg fails (REP with no request: EFSM) with an nn_allocmsg'd control
    buffer; the caller still owns it and frees it (upstream: double free). */
static int sendmsg_control (void)
{
    void *control;
    int rep = nn_socket (AF_SP, NN_REP);
    if (rep < 0) die ("nn_socket");
    control = nn_allocmsg (NN_CMSG_SPACE (0), 0);
    if (!control) die ("nn_allocmsg");
    memset (control, 0, NN_CMSG_SPACE (0));
    if (send_x_with_control (rep, &control, NN_MSG) >= 0) { fprintf (stderr, "sent?\n"); return 1; }
    if (nn_freemsg (control) != 0) die ("nn_freemsg");
    nn_close (rep);
    return 0;
}

/*  0010: a control header whose cmsg_len is 0 (upstream: nn_sendmsg never returns). */
static int cmsg_len_zero (void)
{
    unsigned char control [64];
    int a = nn_socket (AF_SP, NN_PAIR), b = nn_socket (AF_SP, NN_PAIR);
    if (nn_bind (a, "inproc://repro-cmsg") < 0 || nn_connect (b, "inproc://repro-cmsg") < 0)
        die ("nn_bind/nn_connect");
    memset (control, 0, sizeof control);  /*  a header of cmsg_len 0  */
    alarm (10);  /*  upstream loops forever: let the hang show as a death  */
    if (send_x_with_control (b, control, sizeof control) != 1) die ("nn_sendmsg");
    alarm (0);
    nn_close (a);
    nn_close (b);
    return 0;
}

/*  0013: nn_getsockopt of an NN_IPC option into a 1-byte buffer (upstream writes 8 bytes
    into it, whatever *optvallen says). The guard bytes after the buffer must survive. */
static int ipc_getsockopt (void)
{
    unsigned char buf [16];
    size_t len = 1;
    int s = nn_socket (AF_SP, NN_PAIR);
    if (s < 0) die ("nn_socket");
    memset (buf, 0xa5, sizeof buf);
    if (nn_getsockopt (s, NN_IPC, NN_IPC_OUTBUFSZ, buf, &len) != 0) die ("nn_getsockopt");
    if (buf [1] != 0xa5 || buf [4] != 0xa5) {
        fprintf (stderr, "wrote past the 1-byte buffer\n");
        abort ();
    }
    if (len != sizeof (int)) { fprintf (stderr, "size not reported\n"); return 1; }
    nn_close (s);
    return 0;
}

/*  0015: a socket that allows IPv6 (NN_IPV4ONLY 0) connects to an IPv4 address: upstream
    never connects, and aborts at its first reconnect (usock_posix.inc:195). */
static int ipv4only_0_connect (void)
{
    char buf [8];
    int zero = 0, timeout = 5000;
    int srv = server (NN_PAIR, inet ("tcp"), 1024);
    int cli = nn_socket (AF_SP, NN_PAIR);
    if (cli < 0) die ("nn_socket");
    if (nn_setsockopt (cli, NN_SOL_SOCKET, NN_IPV4ONLY, &zero, sizeof zero) < 0)
        die ("NN_IPV4ONLY");
    nn_setsockopt (cli, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout, sizeof timeout);
    nn_setsockopt (srv, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout);
    if (nn_connect (cli, inet ("tcp")) < 0) die ("nn_connect");
    usleep (300000);  /*  past the first reconnect  */
    if (nn_send (cli, "hi", 2, 0) != 2) die ("nn_send");
    if (nn_recv (srv, buf, sizeof buf, 0) != 2) die ("nn_recv");
    nn_close (cli);
    nn_close (srv);
    return 0;
}

/*  0019: a REQ client drops a reply it did not ask for (here: one before any request),
    which left the reply terminated but still owned; closing the REQ freed it a second
    time (req.c:108 via nn_req_term: double free). The peer needs no privilege: it is the
    server the client connects to. */
static int req_stray_reply (void)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    unsigned char frame [8 + 256] = { 0 };
    unsigned char hdr [8] = { 0, 'S', 'P', 0, NN_REP >> 8 & 0xff, NN_REP & 0xff, 0, 0 };
    unsigned char peer [8];
    int round, lfd, one = 1;
    lfd = socket (AF_INET, SOCK_STREAM, 0);
    memset (&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind (lfd, (struct sockaddr*) &in, sizeof in) != 0 || listen (lfd, 4) != 0
          || getsockname (lfd, (struct sockaddr*) &in, &len) != 0) {
        perror ("repro: listen");
        return 2;
    }
    snprintf (addr_buf, sizeof addr_buf, "tcp://127.0.0.1:%d", ntohs (in.sin_port));
    /*  A 256-byte reply (its body a heap chunk, not inline) whose id has no top bit: a
        malformed reply, and no request was sent anyway.  */
    put64 (frame, 256);
    memset (frame + 8, 'x', 256);
    frame [8] = 0;
    for (round = 0; round < 3; round++) {  /*  a few times, so a quiet allocator notices  */
        int fd, req = nn_socket (AF_SP, NN_REQ);
        if (req < 0) die ("nn_socket");
        if (nn_connect (req, addr_buf) < 0) die ("nn_connect");
        fd = accept (lfd, NULL, NULL);
        if (fd < 0) { perror ("repro: accept"); return 2; }
        send_all (fd, hdr, sizeof hdr);
        if (recv (fd, peer, sizeof peer, MSG_WAITALL) != (ssize_t) sizeof peer)
            fprintf (stderr, "repro: no SP greeting from the client\n");
        send_all (fd, frame, sizeof frame);
        usleep (100000);  /*  the client receives and drops it  */
        nn_close (req);
        close (fd);
    }
    close (lfd);
    {   /*  REQ still works: a round trip against a real REP  */
        int rep = server (NN_REP, inet ("tcp"), 1024);
        check_rep_serves (rep, addr_buf);
        nn_close (rep);
    }
    return 0;
}

/*  0020: a server hangs up right after the SP greeting. Over ipc the hang-up arrives with
    the header, while the header exchange hands the connection to the transport; upstream
    lost that error, and the client stayed connected to nothing for good (no reconnect,
    requests never answered): not a crash, a wedged client. Fails if the client has not
    noticed within 5 s. */
static int ipc_hangup_after_greeting (void)
{
    struct sockaddr_un un;
    unsigned char hdr [8] = { 0, 'S', 'P', 0, NN_REP >> 8 & 0xff, NN_REP & 0xff, 0, 0 };
    unsigned char peer [8];
    int i, fd, lfd, req;
    memset (&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    snprintf (un.sun_path, sizeof un.sun_path, "/tmp/nnrs-repro-%d-hangup", (int) getpid ());
    unlink (un.sun_path);
    lfd = socket (AF_UNIX, SOCK_STREAM, 0);
    if (lfd < 0 || bind (lfd, (struct sockaddr*) &un, sizeof un) != 0 || listen (lfd, 4) != 0) {
        perror ("repro: listen");
        return 2;
    }
    req = nn_socket (AF_SP, NN_REQ);
    if (req < 0) die ("nn_socket");
    snprintf (addr_buf, sizeof addr_buf, "ipc://%s", un.sun_path);
    if (nn_connect (req, addr_buf) < 0) die ("nn_connect");
    fd = accept (lfd, NULL, NULL);
    if (fd < 0) { perror ("repro: accept"); return 2; }
    send_all (fd, hdr, sizeof hdr);
    if (recv (fd, peer, sizeof peer, MSG_WAITALL) != (ssize_t) sizeof peer)
        fprintf (stderr, "repro: no SP greeting from the client\n");
    close (fd);
    for (i = 0; i < 500; i++) {
        if (nn_get_statistic (req, NN_STAT_BROKEN_CONNECTIONS) > 0)
            break;
        usleep (10000);
    }
    close (lfd);
    unlink (un.sun_path);
    nn_close (req);
    if (i == 500) {
        fprintf (stderr, "the client never noticed the hang-up: FAILED\n");
        return 1;
    }
    return 0;
}

/*  0025: a negative survey deadline, then a survey (timer.c:79 nn_assert (timeout >= 0)). The
    hardened library refuses the value; the survey then runs with the default deadline.  */
static int negative_deadline (void)
{
    int neg = -5;
    int s = nn_socket (AF_SP, NN_SURVEYOR);
    if (s < 0) die ("nn_socket");
    if (nn_bind (s, "inproc://repro-deadline") < 0) die ("nn_bind");
    if (nn_setsockopt (s, NN_SURVEYOR, NN_SURVEYOR_DEADLINE, &neg, sizeof neg) == 0)
        fprintf (stderr, "a deadline of -5 ms was accepted\n");
    if (nn_send (s, "?", 1, 0) != 1) die ("nn_send");
    nn_close (s);
    return 0;
}

/*  0026: nn_sendmsg with an NN_SP_HDR control header on a REQ (an sp socket, which makes its
    own header): req.c:243 nn_assert. The hardened library answers EINVAL; the REQ, and a REP
    given a header while it holds a request, still work afterwards.  */
static int send_with_header (int s)
{
    /*  An SP_HDR property: the header's size (a size_t), then the header.  */
    unsigned char control [NN_CMSG_SPACE (sizeof (size_t) + 4)];
    struct nn_cmsghdr *c = (struct nn_cmsghdr*) control;
    size_t spsz = 4;
    memset (control, 0, sizeof control);
    c->cmsg_len = NN_CMSG_LEN (sizeof (size_t) + 4);
    c->cmsg_level = PROTO_SP;
    c->cmsg_type = SP_HDR;
    memcpy (NN_CMSG_DATA (c), &spsz, sizeof spsz);
    memcpy (NN_CMSG_DATA (c) + sizeof spsz, "\x80\0\0\x01", 4);
    return send_x_with_control (s, control, sizeof control);
}

static int sendmsg_header_on_req (void)
{
    char buf [16];
    int rep = nn_socket (AF_SP, NN_REP), req = nn_socket (AF_SP, NN_REQ);
    if (nn_bind (rep, "inproc://repro-sphdr") < 0 || nn_connect (req, "inproc://repro-sphdr") < 0)
        die ("nn_bind/nn_connect");
    if (send_with_header (req) >= 0 || nn_errno () != EINVAL) {
        fprintf (stderr, "REQ: not EINVAL (%s)\n", nn_strerror (nn_errno ()));
        return 1;
    }
    if (nn_send (req, "q", 1, 0) != 1 || nn_recv (rep, buf, sizeof buf, 0) != 1)
        die ("request");
    if (send_with_header (rep) >= 0 || nn_errno () != EINVAL) {
        fprintf (stderr, "REP: not EINVAL\n");
        return 1;
    }
    if (nn_send (rep, "a", 1, 0) != 1 || nn_recv (req, buf, sizeof buf, 0) != 1)
        die ("reply");
    nn_close (req);
    nn_close (rep);
    return 0;
}

/*  0028: nn_reallocmsg of a message received on a raw REP, a little bigger. XREP took the
    request's backtrace off the front of the body's chunk, leaving room there; the realloc
    grows into that room, moves the data, and returns the old pointer, whose chunk tag is now
    message data: the next nn_freemsg (chunk.c:231 nn_assert, the tag) aborts. The hardened
    library returns the moved data, intact.  */
static int realloc_received (void)
{
    char payload [100];
    void *msg = NULL;
    int rep = nn_socket (AF_SP_RAW, NN_REP), req = nn_socket (AF_SP, NN_REQ);
    if (nn_bind (rep, "inproc://repro-realloc") < 0 ||
          nn_connect (req, "inproc://repro-realloc") < 0)
        die ("nn_bind/nn_connect");
    memset (payload, 'x', sizeof payload);
    if (nn_send (req, payload, sizeof payload, 0) != (int) sizeof payload) die ("nn_send");
    if (nn_recv (rep, &msg, NN_MSG, 0) != (int) sizeof payload) die ("nn_recv");
    msg = nn_reallocmsg (msg, sizeof payload + 4);
    if (!msg) die ("nn_reallocmsg");
    if (memcmp (msg, payload, sizeof payload) != 0) {
        fprintf (stderr, "the message changed\n");
        return 1;
    }
    nn_freemsg (msg);
    nn_close (req);
    nn_close (rep);
    return 0;
}

/*  0030: the SUB's subscription trie. Not a crash: a SUB that drops what it subscribed to, or
    takes what it did not. (1) "" then nine prefixes with nine first bytes: the root turns
    dense and forgets "", so "" no longer arrives; (2) "aa" held, unsubscribe "a" succeeds and
    removes "aa"; (3) "ab" and "ac" held, the message "a" arrives (the match reads the byte
    after the message: a 'b' left there by the previous one).  */
static int sub_recv_is (int sub, const char *want)
{
    char buf [64];
    int n = nn_recv (sub, buf, sizeof buf, 0);
    return n == (int) strlen (want) && memcmp (buf, want, n) == 0;
}

static int sub_trie (void)
{
    int i, to = 2000, failed = 0;
    char prefix [2] = "a";
    int pub = nn_socket (AF_SP, NN_PUB), sub = nn_socket (AF_SP, NN_SUB);
    if (nn_bind (pub, "inproc://repro-trie") < 0 || nn_connect (sub, "inproc://repro-trie") < 0)
        die ("nn_bind/nn_connect");
    nn_setsockopt (sub, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof to);
    nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, "END", 3);
    nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, "", 0);
    for (i = 0; i != 9; i++) {
        prefix [0] = (char) ('a' + i);
        nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, prefix, 1);
    }
    nn_send (pub, "zz", 2, 0);
    nn_send (pub, "END", 3, 0);
    if (!sub_recv_is (sub, "zz")) {
        fprintf (stderr, "(1) the empty subscription was lost\n");
        failed = 1;
        sub_recv_is (sub, "END");
    }
    else if (!sub_recv_is (sub, "END")) die ("END");
    nn_close (sub);
    sub = nn_socket (AF_SP, NN_SUB);
    if (nn_connect (sub, "inproc://repro-trie") < 0) die ("nn_connect");
    nn_setsockopt (sub, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof to);
    nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, "END", 3);
    nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, "aa", 2);
    if (nn_setsockopt (sub, NN_SUB, NN_SUB_UNSUBSCRIBE, "a", 1) == 0) {
        fprintf (stderr, "(2) unsubscribe \"a\" succeeded with only \"aa\" held\n");
        failed = 1;
    }
    nn_setsockopt (sub, NN_SUB, NN_SUB_UNSUBSCRIBE, "aa", 2);
    nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, "ab", 2);
    nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, "ac", 2);
    for (i = 0; i != 100; i++) {
        nn_send (pub, "abbbbbbbbbbbbbbbbbbbbbbb", 24, 0);
        nn_send (pub, "a", 1, 0);
        nn_send (pub, "END", 3, 0);
        if (!sub_recv_is (sub, "abbbbbbbbbbbbbbbbbbbbbbb")) die ("ab...");
        if (!sub_recv_is (sub, "END")) {
            fprintf (stderr, "(3) \"a\" arrived with only \"ab\" and \"ac\" held\n");
            failed = 1;
            sub_recv_is (sub, "END");
            break;
        }
    }
    nn_close (sub);
    nn_close (pub);
    return failed;
}

/*  0029: not a crash, a cost. 1 MiB messages over ipc, two in flight at a time: on 1.1.5
    each is a new malloc that glibc hands back to the system when it is freed, so the next one
    pays its page faults again (about 240 a message in this loop); with the cache of freed
    large blocks the faults stop after the first messages. Fails with more than one minor
    fault a message. (Not for sanitizer builds: under ASan the cache never hands out
    the same block twice, on purpose.)  */
static long minor_faults (void)
{
    struct rusage u;
    getrusage (RUSAGE_SELF, &u);
    return u.ru_minflt;
}

static int chunk_cache (void)
{
    static char payload [1 << 20];
    void *msg;
    int i, j, timeout = 10000;
    long faults = 0;
    int a = nn_socket (AF_SP, NN_PAIR), b = nn_socket (AF_SP, NN_PAIR);
    if (nn_bind (a, ipc ("cache")) < 0 || nn_connect (b, addr_buf) < 0)
        die ("nn_bind/nn_connect");
    nn_setsockopt (a, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof timeout);
    nn_setsockopt (b, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout, sizeof timeout);
    memset (payload, 'c', sizeof payload);
    for (i = 0; i != 52; i++) {
        if (i == 2)
            faults = minor_faults ();
        for (j = 0; j != 2; j++)
            if (nn_send (b, payload, sizeof payload, 0) != (int) sizeof payload) die ("nn_send");
        for (j = 0; j != 2; j++) {
            if (nn_recv (a, &msg, NN_MSG, 0) != (int) sizeof payload) die ("nn_recv");
            nn_freemsg (msg);
        }
    }
    faults = minor_faults () - faults;
    nn_close (b);
    nn_close (a);
    if (faults > 100) {
        fprintf (stderr, "%ld page faults for 100 messages of 1 MiB\n", faults);
        return 1;
    }
    return 0;
}

/*  read(2)- and write(2)-like system calls this process has made so far (all threads), from
    /proc/self/io.  */
static long io_syscalls (void)
{
    char line [128];
    long n = 0, v;
    FILE *f = fopen ("/proc/self/io", "r");
    if (!f) {
        perror ("repro: /proc/self/io");
        exit (2);
    }
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "syscr: %ld", &v) == 1 || sscanf (line, "syscw: %ld", &v) == 1)
            n += v;
    fclose (f);
    return n;
}

/*  0040: not a crash, a cost. 10,000 messages over an inproc PAIR, sent and received in one
    thread, so nobody ever waits: on 1.1.5 the receiver's NN_RCVFD eventfd is written when each
    message arrives and read when it is taken, and the sender's NN_SNDFD the same way as its
    pipe fills and drains (about 4 system calls a message, 40,000 here). With the fds
    signalled only while somebody waits, none. Fails with more than one system call for ten
    messages.  */
static int eventfd_per_message (void)
{
    char buf [64];
    long calls;
    int i;
    int a = nn_socket (AF_SP, NN_PAIR), b = nn_socket (AF_SP, NN_PAIR);
    if (nn_bind (a, "inproc://eventfd-per-message") < 0 ||
          nn_connect (b, "inproc://eventfd-per-message") < 0)
        die ("nn_bind/nn_connect");
    memset (buf, 'e', sizeof buf);
    if (nn_send (b, buf, sizeof buf, 0) != (int) sizeof buf ||
          nn_recv (a, buf, sizeof buf, 0) != (int) sizeof buf)
        die ("nn_send/nn_recv");
    calls = io_syscalls ();
    for (i = 0; i != 10000; i++) {
        if (nn_send (b, buf, sizeof buf, 0) != (int) sizeof buf) die ("nn_send");
        if (nn_recv (a, buf, sizeof buf, 0) != (int) sizeof buf) die ("nn_recv");
    }
    calls = io_syscalls () - calls;
    nn_close (b);
    nn_close (a);
    if (calls > 1000) {
        fprintf (stderr, "%ld read/write system calls for 10000 inproc messages: FAILED\n",
            calls);
        return 1;
    }
    return 0;
}

/*  A tcp listener of our own on the port inet () gives, for a raw server.  */
static int raw_listen (void)
{
    int one = 1, fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in;
    const char *colon = strrchr (inet ("tcp"), ':');
    memset (&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons ((uint16_t) atoi (colon + 1));
    in.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind (fd, (struct sockaddr*) &in, sizeof in) != 0 || listen (fd, 4) != 0) {
        perror ("repro: listen");
        exit (2);
    }
    return fd;
}

/*  A ws PAIR server on inet ("ws") that sends "fresh" and waits up to 5 s for the client's
    "ack": 0 if it came.  */
static int ws_server_sees_ack (const char *addr)
{
    char buf [16];
    int n, to = 5000, srv = nn_socket (AF_SP, NN_PAIR);
    nn_setsockopt (srv, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof to);
    nn_setsockopt (srv, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof to);
    if (nn_bind (srv, addr) < 0) die ("nn_bind");
    if (nn_send (srv, "fresh", 5, 0) != 5) {
        nn_close (srv);
        return 1;
    }
    n = nn_recv (srv, buf, sizeof buf, 0);
    nn_close (srv);
    return n == 3 && memcmp (buf, "ack", 3) == 0 ? 0 : 1;
}

/*  The client side of ws_server_sees_ack, on another thread: takes "fresh" (within 5 s) and
    answers "ack".  */
static void *ws_client_acks (void *arg)
{
    char buf [16];
    int cli = *(int*) arg;
    int n = nn_recv (cli, buf, sizeof buf, 0);
    if (n == 5 && memcmp (buf, "fresh", 5) == 0)
        nn_send (cli, "ack", 3, 0);
    return NULL;
}

static int ws_client_talks (int cli, const char *addr)
{
    pthread_t t;
    int rc;
    pthread_create (&t, NULL, ws_client_acks, &cli);
    rc = ws_server_sees_ack (addr);
    pthread_join (t, NULL);
    return rc;
}

/*  0021: a ws server that hangs up during the opening handshake (it read the client's
    upgrade request, then closed): upstream's client takes that for the server's closing
    handshake and never connects again, so when a real server comes up on the address the
    client never reaches it. Fails if the client has not talked to it within 5 s.  */
static int ws_reconnect_after_bad_handshake (void)
{
    char buf [4096], addr [64];
    int fd, lfd, to = 5000, ivl = 10, cli;
    lfd = raw_listen ();
    snprintf (addr, sizeof addr, "%s", inet ("ws"));
    cli = nn_socket (AF_SP, NN_PAIR);
    nn_setsockopt (cli, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof to);
    nn_setsockopt (cli, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof to);
    nn_setsockopt (cli, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl, sizeof ivl);
    if (nn_connect (cli, addr) < 0) die ("nn_connect");
    fd = accept (lfd, NULL, NULL);
    if (fd < 0) { perror ("repro: accept"); return 2; }
    if (recv (fd, buf, sizeof buf, 0) <= 0)
        fprintf (stderr, "repro: no upgrade request from the client\n");
    close (fd);
    close (lfd);
    if (ws_client_talks (cli, addr) != 0) {
        fprintf (stderr, "the client never reconnected: FAILED\n");
        nn_close (cli);
        return 1;
    }
    nn_close (cli);
    return 0;
}

/*  A tcp proxy on its own thread, between a client and the server at port `to`: it accepts
    one connection at a time on `lfd`, forwards both ways, and cuts the connection (a reset,
    no closing handshake of any protocol) when `cut` is set; then accepts the next one, until
    `stop`.  */
struct proxy { int lfd; int to; volatile int cut; volatile int stop; };

static void reset_close (int fd)
{
    struct linger lg = { 1, 0 };
    setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close (fd);
}

static void *proxy_run (void *arg)
{
    struct proxy *px = arg;
    char buf [4096], addr [64];
    while (!px->stop) {
        struct pollfd pl = { px->lfd, POLLIN, 0 };
        if (poll (&pl, 1, 50) <= 0)
            continue;
        int c = accept (px->lfd, NULL, NULL);
        snprintf (addr, sizeof addr, "tcp://127.0.0.1:%d", px->to);
        int s = raw_connect (addr);
        if (c < 0 || s < 0) {
            if (c >= 0) close (c);
            if (s >= 0) close (s);
            continue;
        }
        px->cut = 0;
        while (!px->cut && !px->stop) {
            struct pollfd p [2] = { { c, POLLIN, 0 }, { s, POLLIN, 0 } };
            int i;
            if (poll (p, 2, 50) <= 0)
                continue;
            for (i = 0; i != 2; i++) {
                if (!(p [i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                ssize_t n = recv (p [i].fd, buf, sizeof buf, 0);
                if (n <= 0) {
                    px->cut = 1;
                    break;
                }
                send_all (p [1 - i].fd, buf, (size_t) n);
            }
        }
        reset_close (c);
        reset_close (s);
    }
    return NULL;
}

/*  0022: a ws client holds a message the socket has not taken yet when its connection is
    cut (a reset, no closing handshake); it reconnects, and when the new connection finishes
    its handshake, upstream aborts (sws.c:355 nn_assert, the last connection's message still
    there). Here the client drops it and takes the server's next message.  */
static int ws_reconnect_with_unread_message (void)
{
    char addr [64], buf [16];
    int srv, cli, to = 5000, ivl = 10, n, port;
    struct proxy px;
    pthread_t t;
    px.lfd = raw_listen ();
    px.cut = px.stop = 0;
    port = 10000 + (int) ((getpid () + 5000) % 10000);
    px.to = port;
    snprintf (addr, sizeof addr, "ws://127.0.0.1:%d", port);
    srv = nn_socket (AF_SP, NN_PAIR);
    cli = nn_socket (AF_SP, NN_PAIR);
    nn_setsockopt (srv, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof to);
    nn_setsockopt (cli, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof to);
    nn_setsockopt (cli, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl, sizeof ivl);
    if (nn_bind (srv, addr) < 0) die ("nn_bind");
    pthread_create (&t, NULL, proxy_run, &px);
    if (nn_connect (cli, inet ("ws")) < 0) die ("nn_connect");
    if (nn_send (srv, "stale", 5, 0) != 5) die ("nn_send");
    usleep (200000);
    px.cut = 1;
    usleep (200000);
    n = nn_send (srv, "fresh", 5, 0);
    if (n == 5)
        n = nn_recv (cli, buf, sizeof buf, 0);
    px.stop = 1;
    pthread_join (t, NULL);
    close (px.lfd);
    nn_close (cli);
    nn_close (srv);
    if (n != 5 || memcmp (buf, "fresh", 5) != 0) {
        fprintf (stderr, "the client did not take the server's next message: FAILED\n");
        return 1;
    }
    return 0;
}

static const struct { const char *name; int (*run) (void); const char *upstream; } CASES [] = {
    { "xpub-in", xpub_in, "xpub.c:134 nn_assert (0)" },
    { "ipc-frame-type", ipc_frame_type, "sipc.c:336 nn_assert (type == NORMAL)" },
    { "huge-frame-tcp", huge_frame_tcp, "chunkref.c:55 errno_assert (ENOMEM)" },
    { "huge-frame-ipc", huge_frame_ipc, "chunkref.c:55 errno_assert (ENOMEM)" },
    { "ws-long-version", ws_long_version, "ws_handshake.c:1350 sprintf overflow" },
    { "ws-http10", ws_http10, "ws_handshake.c:1340 nn_assert (0)" },
    { "ws-nul", ws_nul, "ws_handshake.c:500 nn_assert (i < TERMSEQ_LEN)" },
    { "unsubscribe", unsubscribe, "trie.c:492 NULL dereference" },
    { "pair-refused", pair_refused, "sinproc.c use after free, mutex.c:89" },
    { "pair-two-binds", pair_two_binds, "sinproc.c:365 errnum_assert (EISCONN)" },
    { "pair-connects-twice", pair_connects_twice, "sinproc.c:365 errnum_assert (EISCONN)" },
    { "sendmsg-control", sendmsg_control, "global.c:842 frees the caller's control" },
    { "cmsg-len-zero", cmsg_len_zero, "global.c:397 nn_cmsg_nxthdr_ loops forever" },
    { "ipc-getsockopt", ipc_getsockopt, "ipc.c:149 writes past *optvallen" },
    { "ipv4only-0-connect", ipv4only_0_connect, "usock_posix.inc:195 nn_assert (IDLE)" },
    { "req-stray-reply", req_stray_reply, "req.c:108 double free of a dropped reply" },
    { "ipc-hangup-after-greeting", ipc_hangup_after_greeting, "streamhdr.c ignores the usock error: wedged" },
    { "negative-deadline", negative_deadline, "timer.c:79 nn_assert (timeout >= 0)" },
    { "sendmsg-header-on-req", sendmsg_header_on_req, "req.c:243 nn_assert (no SP header)" },
    { "realloc-received", realloc_received, "chunk.c:231 nn_assert (tag): realloc lost the data" },
    { "sub-trie", sub_trie, "trie.c loses, removes and matches the wrong subscriptions" },
    { "chunk-cache", chunk_cache, "chunk.c: a page fault per 4 KiB of every large message" },
    { "ws-reconnect-after-bad-handshake", ws_reconnect_after_bad_handshake, "cws.c: never reconnects (peer_gone)" },
    { "ws-reconnect-with-unread-message", ws_reconnect_with_unread_message, "sws.c:355 nn_assert (inmsg_array empty)" },
    { "eventfd-per-message", eventfd_per_message, "sock.c: 4 eventfd system calls a message, nobody waiting" },
};

int main (int argc, char **argv)
{
    size_t i;
    if (argc == 2)
        for (i = 0; i < sizeof CASES / sizeof CASES [0]; i++)
            if (strcmp (argv [1], CASES [i].name) == 0) {
                setvbuf (stdout, NULL, _IONBF, 0);
                int rc = CASES [i].run ();
                printf ("%s: %s\n", CASES [i].name, rc == 0 ? "survived" : "FAILED");
                return rc;
            }
    for (i = 0; i < sizeof CASES / sizeof CASES [0]; i++)
        printf ("%-26s %s\n", CASES [i].name, CASES [i].upstream);
    return argc == 1 ? 0 : 2;
}
