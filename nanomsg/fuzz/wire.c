/*
    Wire fuzzer for libnanomsg's stream transports: a plain OS socket plays a
    hostile peer against nanomsg sockets of every protocol, both listening
    ones (the hostile peer connects: "server targets") and connecting ones
    (the hostile peer is the server they connect to: "client targets").

    Build with exactly one of -DWIRE_TCP, -DWIRE_IPC, -DWIRE_WS.

    Input format (all fields optional, missing bytes read as 0):
      byte 0   target, modulo NSERVERS + NCLIENTS: below NSERVERS a server
               (servers[]), else a client (clients[]): a fresh nanomsg
               socket of that kind connects to the harness's own listener
               and is closed at the end of the input
      byte 1   flags
                 0x01  send a valid greeting first (SP header / ws upgrade)
                 0x02  abortive close (RST) instead of half-close + wait for EOF
                 0x04  do not wait for the server's greeting/101 before the chunks
                 0x08  frame each chunk (tcp: u64 length; ipc: 0x01 + u64 length;
                       ws: chunk[0] is the opcode byte, masked frame header added)
                 0x10  greeting uses the next 2 input bytes as protocol id
                       (otherwise the target's valid peer protocol)
                 0x20  pump the servers (recv/reply/send) after each of the
                       first 4 chunks, so that the servers also send to the
                       hostile peer
                 0x40  ws: use mask key from the next 4 input bytes (else 0);
                       to a client: mask the frames (servers must not)
                 0x80  ws: upgrade request (to a client: the 101 response)
                       names the target's own protocol rather than its
                       peer's; tcp/ipc clients: send a message right after
                       connecting, before the greeting
      then     chunks: u16 little-endian length + that many bytes, until the
               input ends; each chunk is one write() (framed if 0x08)

    To a client, the greeting is the harness's SP header (tcp, ipc) after
    reading the client's, or, on ws, the client's upgrade request read and
    answered with a 101 that is valid but for the fuzzed parts.

    After the chunks the peer half-closes and reads until EOF/RST (bounded),
    or resets the connection; then every server is pumped and a REQ/REP
    round trip over the same transport makes sure the library's worker
    thread has processed everything before the next input.
*/

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nn.h"
#include "pair.h"
#include "pubsub.h"
#include "reqrep.h"
#include "pipeline.h"
#include "survey.h"
#include "bus.h"
#include "ws.h"

#if defined(WIRE_TCP) + defined(WIRE_IPC) + defined(WIRE_WS) != 1
#error "define exactly one of WIRE_TCP, WIRE_IPC, WIRE_WS"
#endif

#include "common.h"

#if defined(WIRE_WS)
/*  The library's own SHA-1 and base64 (internal, linked statically): only to
    compute the Sec-WebSocket-Accept of a valid 101 to a client target.  */
#include "transports/ws/sha1.h"
#include "transports/utils/base64.h"
#endif

struct server {
    int domain;
    int protocol;
    int peer;           /*  valid peer protocol id  */
    int maxsize_unlimited;
    int ws_text;
    int s;
    char addr [128];
#if defined(WIRE_IPC)
    char path [108];
#else
    int port;
#endif
};

/*  The server SUB's subscriptions: no "" (which matches every message at the
    root), but a trie of every shape, so that each message a peer sends is
    matched through it: a node of more than 8 children (dense), prefixes longer
    than a node holds (10 bytes), shared stems, and a stem of 40 bytes whose
    node has children but no subscription of its own, so that a message of
    exactly that stem (40 bytes, in a chunk of its own size) ends there (0030:
    the match read past such a message). "h" lets the seeds' "hello" through.
    The client SUB keeps "": its filter is the same code.  */
static void subscribe_trie (int s)
{
    static const char *const prefixes [] = {
        "h", "a", "ab", "ac", "abcdefghijklmnopqrstuvwxyz",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxa",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxb",
        "\x01", "\x02", "\x03", "\x04", "\x05", "\x06", "\x07", "\x08", "\x09"
    };
    size_t i;
    for (i = 0; i < sizeof prefixes / sizeof prefixes [0]; i++)
        nn_setsockopt (s, NN_SUB, NN_SUB_SUBSCRIBE, prefixes [i],
            strlen (prefixes [i]));
}

static struct server servers [] = {
    {AF_SP, NN_PAIR, NN_PAIR, 0, 0},
    {AF_SP, NN_PUB, NN_SUB, 0, 0},
    {AF_SP, NN_SUB, NN_PUB, 0, 0},
    {AF_SP, NN_REQ, NN_REP, 0, 0},
    {AF_SP, NN_REP, NN_REQ, 0, 0},
    {AF_SP, NN_PUSH, NN_PULL, 0, 0},
    {AF_SP, NN_PULL, NN_PUSH, 0, 0},
    {AF_SP, NN_SURVEYOR, NN_RESPONDENT, 0, 0},
    {AF_SP, NN_RESPONDENT, NN_SURVEYOR, 0, 0},
    {AF_SP, NN_BUS, NN_BUS, 0, 0},
    {AF_SP_RAW, NN_REP, NN_REQ, 0, 0},
    {AF_SP_RAW, NN_RESPONDENT, NN_SURVEYOR, 0, 0},
    {AF_SP, NN_PAIR, NN_PAIR, 1, 0},     /*  NN_RCVMAXSIZE -1  */
    {AF_SP_RAW, NN_BUS, NN_BUS, 0, 1},   /*  ws: text messages  */
    {AF_SP, NN_PULL, NN_PUSH, 1, 1},     /*  NN_RCVMAXSIZE -1, ws text  */
};
#define NSERVERS ((int) (sizeof (servers) / sizeof (servers [0])))

/*  Client targets: {domain, protocol, valid peer protocol}.  */
static const int clients [][3] = {
    {AF_SP, NN_PAIR, NN_PAIR},
    {AF_SP, NN_PUB, NN_SUB},
    {AF_SP, NN_SUB, NN_PUB},
    {AF_SP, NN_REQ, NN_REP},
    {AF_SP, NN_REP, NN_REQ},
    {AF_SP, NN_PUSH, NN_PULL},
    {AF_SP, NN_PULL, NN_PUSH},
    {AF_SP, NN_SURVEYOR, NN_RESPONDENT},
    {AF_SP, NN_RESPONDENT, NN_SURVEYOR},
    {AF_SP, NN_BUS, NN_BUS},
    {AF_SP_RAW, NN_REQ, NN_REP},
    {AF_SP_RAW, NN_SURVEYOR, NN_RESPONDENT},
};
#define NCLIENTS ((int) (sizeof (clients) / sizeof (clients [0])))

/*  The listener client targets connect to.  */
static int listener = -1;
static char listener_addr [128];

/*  The probe: a legitimate REQ client talking to a REP server.  */
static int probe_rep = -1;
static int probe_req = -1;
static char probe_addr [128];
static unsigned long probe_failures, probe_stale;
static unsigned long drain_timeouts, inputs_run;

static void print_stats (void)
{
    if (getenv ("NNFUZZ_STATS"))
        fprintf (stderr, "nnfuzz: inputs %lu, drain timeouts %lu, probe "
            "failures %lu (stale %lu)\n", inputs_run, drain_timeouts, probe_failures,
            probe_stale);
}

#if defined(WIRE_IPC)
static char tmpdir [64];
static void cleanup_tmpdir (void)
{
    int i;
    for (i = 0; i < NSERVERS; i++)
        unlink (servers [i].path);
    char p [128];
    snprintf (p, sizeof p, "%s/probe", tmpdir);
    unlink (p);
    snprintf (p, sizeof p, "%s/listener", tmpdir);
    unlink (p);
    rmdir (tmpdir);
}
#endif

static const char *proto_name (int p)
{
    switch (p) {
    case NN_PAIR: return "pair";
    case NN_PUB: return "pub";
    case NN_SUB: return "sub";
    case NN_REQ: return "req";
    case NN_REP: return "rep";
    case NN_PUSH: return "push";
    case NN_PULL: return "pull";
    case NN_SURVEYOR: return "surveyor";
    case NN_RESPONDENT: return "respondent";
    case NN_BUS: return "bus";
    }
    return "x";
}

static int bind_addr (int s, char *addr, size_t addrsz, int idx, int *port)
{
#if defined(WIRE_IPC)
    (void) port;
    snprintf (addr, addrsz, "ipc://%s/s%d", tmpdir, idx);
    return nn_bind (s, addr);
#else
    /*  Ports derived from the pid, so that libFuzzer's fork mode (parent and
        child both run LLVMFuzzerInitialize) and parallel runs do not clash; below
        32768, where Linux's ephemeral ports begin, so that no outgoing connection
        (thousands a second, here and in the other harnesses) holds one. */
    static int base = 0;
    int tries, rc;
    if (!base)
        base = 20000 + (getpid () % 500) * 24;
    for (tries = 0; tries < 50; tries++) {
        *port = base + idx;
        snprintf (addr, addrsz, WIRE_SCHEME "://127.0.0.1:%d", *port);
        rc = nn_bind (s, addr);
        if (rc >= 0)
            return rc;
        if (nn_errno () != EADDRINUSE)
            return rc;
        base = 20000 + (rand () % 500) * 24;
    }
    return -1;
#endif
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
    int i, rc, v;
    (void) argc; (void) argv;

    signal (SIGPIPE, SIG_IGN);
    atexit (print_stats);
#if defined(WIRE_IPC)
    strcpy (tmpdir, "/tmp/nnfuzz-ipc-XXXXXX");
    if (!mkdtemp (tmpdir)) {
        perror ("mkdtemp");
        abort ();
    }
    atexit (cleanup_tmpdir);
#endif
    for (i = 0; i < NSERVERS; i++) {
        struct server *sv = &servers [i];
        sv->s = nn_socket (sv->domain, sv->protocol);
        if (sv->s < 0) {
            fprintf (stderr, "nn_socket: %s\n", nn_strerror (nn_errno ()));
            abort ();
        }
#if defined NN_WORKER_YIELD
        /*  As nanomsg-rs makes every socket (0087; not in a tree without it,
            as nanomsg/prove builds).  */
        v = 1;
        nn_setsockopt (sv->s, NN_SOL_SOCKET, NN_WORKER_YIELD, &v, sizeof v);
#endif
        if (sv->protocol == NN_SUB)
            subscribe_trie (sv->s);
        if (sv->maxsize_unlimited) {
            v = -1;
            nn_setsockopt (sv->s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &v, sizeof v);
        }
#if defined(WIRE_WS)
        if (sv->ws_text) {
            v = NN_WS_MSG_TYPE_TEXT;
            nn_setsockopt (sv->s, NN_WS, NN_WS_MSG_TYPE, &v, sizeof v);
        }
#endif
#if defined(WIRE_IPC)
        snprintf (sv->path, sizeof sv->path, "%s/s%d", tmpdir, i);
        rc = bind_addr (sv->s, sv->addr, sizeof sv->addr, i, NULL);
#else
        rc = bind_addr (sv->s, sv->addr, sizeof sv->addr, i, &sv->port);
#endif
        if (rc < 0) {
            fprintf (stderr, "nn_bind %s: %s\n", sv->addr,
                nn_strerror (nn_errno ()));
            abort ();
        }
    }

    /*  The listener client targets connect to: a plain OS socket.  */
    {
#if defined(WIRE_IPC)
        struct sockaddr_un sa;
        memset (&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        snprintf (sa.sun_path, sizeof sa.sun_path, "%s/listener", tmpdir);
        listener = socket (AF_UNIX, SOCK_STREAM, 0);
        if (listener < 0 || bind (listener, (struct sockaddr*) &sa, sizeof sa) < 0 ||
              listen (listener, 16) < 0) {
            perror ("listener");
            abort ();
        }
        snprintf (listener_addr, sizeof listener_addr, "ipc://%s", sa.sun_path);
#else
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int one = 1;
        memset (&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        listener = socket (AF_INET, SOCK_STREAM, 0);
        setsockopt (listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (listener < 0 || bind (listener, (struct sockaddr*) &sa, sizeof sa) < 0 ||
              listen (listener, 16) < 0 ||
              getsockname (listener, (struct sockaddr*) &sa, &sl) < 0) {
            perror ("listener");
            abort ();
        }
        snprintf (listener_addr, sizeof listener_addr, WIRE_SCHEME
            "://127.0.0.1:%d", ntohs (sa.sin_port));
#endif
    }

    probe_rep = nn_socket (AF_SP, NN_REP);
    probe_req = nn_socket (AF_SP, NN_REQ);
    {
        int port = 0;
        rc = bind_addr (probe_rep, probe_addr, sizeof probe_addr, NSERVERS,
            &port);
        (void) port;
    }
    if (rc < 0 || nn_connect (probe_req, probe_addr) < 0) {
        fprintf (stderr, "probe setup: %s\n", nn_strerror (nn_errno ()));
        abort ();
    }
    v = 2000;
    nn_setsockopt (probe_rep, NN_SOL_SOCKET, NN_RCVTIMEO, &v, sizeof v);
    nn_setsockopt (probe_req, NN_SOL_SOCKET, NN_RCVTIMEO, &v, sizeof v);
    v = 100;
    nn_setsockopt (probe_req, NN_SOL_SOCKET, NN_SNDTIMEO, &v, sizeof v);
    nn_setsockopt (probe_rep, NN_SOL_SOCKET, NN_SNDTIMEO, &v, sizeof v);
    return 0;
}

/*  Receive whatever the socket has, answer requests/surveys, and have the
    sending protocols send something.  */
static void pump_one (int s, int domain, int protocol)
{
    int k, rc;
    for (k = 0; k < 8; k++) {
        if (domain == AF_SP_RAW) {
            /*  Raw REP/RESPONDENT/BUS: echo the message with the
                (peer-supplied) backtrace header, exercising routing. Raw
                REQ/SURVEYOR clients echo too: a request back to the server.  */
            void *body = NULL, *ctrl = NULL;
            struct nn_iovec iov = {&body, NN_MSG};
            struct nn_msghdr hdr;
            memset (&hdr, 0, sizeof hdr);
            hdr.msg_iov = &iov;
            hdr.msg_iovlen = 1;
            hdr.msg_control = &ctrl;
            hdr.msg_controllen = NN_MSG;
            rc = nn_recvmsg (s, &hdr, NN_DONTWAIT);
            if (rc < 0)
                break;
            if (nn_sendmsg (s, &hdr, NN_DONTWAIT) < 0) {
                nn_freemsg (body);
                if (ctrl)
                    nn_freemsg (ctrl);
            }
            continue;
        }
        void *buf = NULL;
        rc = nn_recv (s, &buf, NN_MSG, NN_DONTWAIT);
        if (rc < 0)
            break;
        if (protocol == NN_REP || protocol == NN_RESPONDENT) {
            if (nn_send (s, &buf, NN_MSG, NN_DONTWAIT) < 0)
                nn_freemsg (buf);
        }
        else
            nn_freemsg (buf);
    }
    switch (protocol) {
    case NN_PUB: case NN_PUSH: case NN_PAIR: case NN_BUS:
    case NN_SURVEYOR: case NN_REQ:
        if (domain == AF_SP)
            nn_send (s, "hello", 5, NN_DONTWAIT);
        break;
    }
}

/*  The client target of the current input, if any (-1).  */
static int cur_client = -1;
static int cur_client_idx;

static void pump (void)
{
    int i;
    for (i = 0; i < NSERVERS; i++)
        pump_one (servers [i].s, servers [i].domain, servers [i].protocol);
    if (cur_client >= 0)
        pump_one (cur_client, clients [cur_client_idx][0],
            clients [cur_client_idx][1]);
}

/*  One REQ/REP round trip between the harness's own two sockets, over the transport under
    test, on a connection no input touches. It must always work. A round trip that timed out
    (a loaded machine) leaves its request behind, and the next round trip would take that one
    and answer it, and so on, one behind for ever: so the REP side skips requests and the REQ
    side replies that are not this round trip's. If it fails three times in a row (2 s
    each), the library has stopped delivering on a healthy connection (a wedge, which an
    input caused), and the harness aborts so that libFuzzer keeps that input as a finding.
    NNFUZZ_PROBE_LENIENT=1 only counts the failures.  */
static int probe_recv_match (int s, const char *want, int n)
{
    char buf [16];
    int tries, rc;
    for (tries = 0; tries < 16; tries++) {
        rc = nn_recv (s, buf, sizeof buf, 0);
        if (rc < 0)
            return -1;
        if (rc == n && memcmp (buf, want, n) == 0)
            return 0;
        probe_stale++;
    }
    return -1;
}

static int probe_once (void)
{
    static unsigned seq;
    char msg [16];
    int n = snprintf (msg, sizeof msg, "p%u", ++seq);

    if (nn_send (probe_req, msg, n, 0) < 0)
        return -1;
    if (probe_recv_match (probe_rep, msg, n) < 0)
        return -1;
    if (nn_send (probe_rep, msg, n, 0) < 0)
        return -1;
    return probe_recv_match (probe_req, msg, n);
}

static void probe (void)
{
    int failures = 0;
    while (probe_once () != 0) {
        probe_failures++;
        if (getenv ("NNFUZZ_PROBE_LENIENT"))
            return;
        if (++failures == 3) {
            fprintf (stderr, "nnfuzz: the liveness probe failed three times in a row: "
                "REQ/REP over %s stopped delivering after this input (a wedge)\n",
                probe_addr);
            abort ();
        }
    }
}

static int raw_connect (struct server *sv)
{
    int fd;
#if defined(WIRE_IPC)
    struct sockaddr_un sa;
    fd = socket (AF_UNIX, SOCK_STREAM, 0);
    memset (&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strncpy (sa.sun_path, sv->path, sizeof sa.sun_path - 1);
#else
    struct sockaddr_in sa;
    int one = 1;
    fd = socket (AF_INET, SOCK_STREAM, 0);
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset (&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons (sv->port);
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
#endif
    if (fd < 0)
        return -1;
    if (connect (fd, (struct sockaddr*) &sa, sizeof sa) < 0) {
        close (fd);
        return -1;
    }
    return fd;
}

/*  Set once the peer stops taking what the harness writes (back-pressure: a socket that
    holds a message it has not handed over reads no further); the rest of the input is
    then not sent. A blocking send() would wait for ever (a harness hang, found as libFuzzer
    timeouts on ipc).  */
static int stalled;

static void write_all (int fd, const uint8_t *p, size_t n)
{
    while (n > 0 && !stalled) {
        ssize_t w = send (fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN) {
                struct pollfd pfd = {fd, POLLOUT, 0};
                if (poll (&pfd, 1, 100) <= 0) {
                    stalled = 1;
                    return;
                }
                continue;
            }
            return;
        }
        p += w;
        n -= w;
    }
}

/*  How long the peer waits, after its half-close, for the library to close
    the connection (it usually does within a millisecond; one that does not,
    e.g. a SURVEYOR that stopped reading, is reset when the wait is over).  */
#define DRAIN_MS 10

/*  Read (and discard) until EOF, error, or the deadline. With do_pump, the
    servers are pumped every 1 ms meanwhile: a server that holds an unread
    message stops reading from the connection, and so never sees the EOF.  */
static void drain (int fd, int ms, int until_crlfcrlf, int do_pump)
{
    char buf [4096];
    int matched = 0;
    struct timespec t0, t;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime (CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 +
            (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= ms) {
            if (!until_crlfcrlf)
                drain_timeouts++;
            return;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int prc = poll (&pfd, 1, do_pump ? (ms - el < 1 ? ms - el : 1) : ms - el);
        if (prc < 0)
            return;
        if (prc == 0) {
            if (!do_pump)
                return;
            pump ();
            continue;
        }
        ssize_t r = recv (fd, buf, until_crlfcrlf ? 1 : sizeof buf, 0);
        if (r <= 0)
            return;
        if (until_crlfcrlf) {
            /*  Read the HTTP response byte by byte up to the blank line.  */
            if (buf [0] == "\r\n\r\n" [matched])
                matched++;
            else
                matched = buf [0] == '\r' ? 1 : 0;
            if (matched == 4)
                return;
        }
    }
}

#if !defined(WIRE_WS)
/*  Sends the SP header claiming protocol `proto`; with `wait`, reads the peer's (bounded).
    Either side of the connection says the same.  */
static void sp_greet (int fd, int proto, int wait)
{
    uint8_t g [8] = {0x00, 'S', 'P', 0x00, proto >> 8, proto & 0xff, 0, 0};
    write_all (fd, g, 8);
    if (wait) {
        uint8_t rg [8];
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll (&pfd, 1, 200) > 0)
            recv (fd, rg, sizeof rg, MSG_WAITALL);
    }
}
#endif

/*  Closes every connection waiting on the listener: what a client target of an earlier
    input left behind (it reconnects until it is closed). Without this, the next input
    would accept a stale connection and talk to nobody while its own client waits.  */
static void drain_listener (void)
{
    struct pollfd pfd = {listener, POLLIN, 0};
    while (poll (&pfd, 1, 0) > 0) {
        int fd = accept (listener, NULL, NULL);
        if (fd < 0)
            return;
        close (fd);
    }
}

/*  Waits (bounded) for a connection on the listener.  */
static int accept_bounded (int ms)
{
    struct pollfd pfd = {listener, POLLIN, 0};
    if (poll (&pfd, 1, ms) <= 0)
        return -1;
    return accept (listener, NULL, NULL);
}

#if defined(WIRE_WS)
/*  Reads a ws client's upgrade request (up to the blank line, bounded) and
    writes the 101 that accepts it, naming protocol `name`.  */
static void ws_answer_upgrade (int fd, const char *name)
{
    char req [2048], resp [512], accept_key [64];
    size_t n = 0;
    const char *k, *e;
    struct nn_sha1 sha;
    static const char guid [] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    while (n < sizeof req - 1) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll (&pfd, 1, 200) <= 0 || recv (fd, req + n, 1, 0) != 1)
            return;
        n++;
        if (n >= 4 && memcmp (req + n - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    req [n] = 0;
    k = strstr (req, "Sec-WebSocket-Key: ");
    if (!k)
        return;
    k += strlen ("Sec-WebSocket-Key: ");
    e = strstr (k, "\r\n");
    if (!e)
        return;
    nn_sha1_init (&sha);
    for (; k < e; k++)
        nn_sha1_hashbyte (&sha, (uint8_t) *k);
    for (k = guid; *k; k++)
        nn_sha1_hashbyte (&sha, (uint8_t) *k);
    if (nn_base64_encode (nn_sha1_result (&sha), 20, accept_key,
          sizeof accept_key) < 0)
        return;
    n = (size_t) snprintf (resp, sizeof resp,
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n"
        "Sec-WebSocket-Protocol: %s.sp.nanomsg.org\r\n\r\n", accept_key, name);
    write_all (fd, (const uint8_t*) resp, n);
}
#endif

/*  A client target: a fresh nanomsg socket connects to the listener; returns
    the accepted connection (-1 if none came) and the socket in *sock.  */
static int client_setup (struct reader *r, uint8_t flags, int idx, int *sock)
{
    const int *c = clients [idx];
    int fd, proto = c [2];
    int s = nn_socket (c [0], c [1]);
    if (s < 0) {
        fprintf (stderr, "nn_socket: %s\n", nn_strerror (nn_errno ()));
        abort ();
    }
    *sock = s;
    if (c [1] == NN_SUB)
        nn_setsockopt (s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0);
    if (flags & 0x10)
        proto = rd_u16be (r);
    drain_listener ();
    if (nn_connect (s, listener_addr) < 0)
        return -1;
#if !defined(WIRE_WS)
    if (flags & 0x80)
        pump_one (s, c [0], c [1]);   /*  sends before the greeting  */
#endif
    fd = accept_bounded (1000);
    if (fd < 0)
        return -1;
    if (flags & 0x01) {
#if defined(WIRE_WS)
        ws_answer_upgrade (fd, proto_name ((flags & 0x80) ? c [1] : proto));
#else
        sp_greet (fd, proto, !(flags & 0x04));
#endif
    }
    return fd;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    struct server *sv = NULL;
    uint8_t flags;
    int fd, proto, target, client = -1;
    uint8_t hdr [16];

    if (size < 1)
        return 0;
    inputs_run++;
    stalled = 0;
    struct timespec tstart;
    clock_gettime (CLOCK_MONOTONIC, &tstart);
    target = rd_u8 (&r) % (NSERVERS + NCLIENTS);
    flags = rd_u8 (&r);

    if (target >= NSERVERS) {
        cur_client_idx = target - NSERVERS;
        fd = client_setup (&r, flags, cur_client_idx, &client);
        cur_client = client;
        if (fd < 0) {
            nn_close (client);
            cur_client = -1;
            return 0;
        }
    }
    else {
        sv = &servers [target];
        proto = sv->peer;
        if (flags & 0x10)
            proto = rd_u16be (&r);

        fd = raw_connect (sv);
        if (fd < 0)
            return 0;

        if (flags & 0x01) {
#if defined(WIRE_WS)
            char req [512];
            int n = snprintf (req, sizeof req,
                "GET / HTTP/1.1\r\n"
                "Host: 127.0.0.1:%d\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: %s.sp.nanomsg.org\r\n\r\n",
                sv->port, proto_name ((flags & 0x80) ? sv->protocol : proto));
            write_all (fd, (const uint8_t*) req, n);
            if (!(flags & 0x04))
                drain (fd, 200, 1, 0);
#else
            sp_greet (fd, proto, !(flags & 0x04));
#endif
        }
    }

#if defined(WIRE_WS)
    uint8_t mask [4] = {0, 0, 0, 0};
    if (flags & 0x40) {
        mask [0] = rd_u8 (&r); mask [1] = rd_u8 (&r);
        mask [2] = rd_u8 (&r); mask [3] = rd_u8 (&r);
    }
    /*  A client must get unmasked frames; masking them is the hostile part.  */
    uint8_t mask_bit = (client < 0 || (flags & 0x40)) ? 0x80 : 0;
#endif

    int pumps = 0;
    while (r.size > 0 && !stalled) {
        size_t len = rd_u16le (&r);
        if (len > r.size)
            len = r.size;
        const uint8_t *chunk = r.data;
        r.data += len;
        r.size -= len;
        if (flags & 0x08) {
#if defined(WIRE_TCP)
            put_u64be (hdr, len);
            write_all (fd, hdr, 8);
            write_all (fd, chunk, len);
#elif defined(WIRE_IPC)
            hdr [0] = 1;
            put_u64be (hdr + 1, len);
            write_all (fd, hdr, 9);
            write_all (fd, chunk, len);
#else
            /*  chunk [0] = FIN/RSV/opcode byte, the rest is the payload.  */
            uint8_t op = len > 0 ? chunk [0] : 0x82;
            const uint8_t *pl = len > 0 ? chunk + 1 : chunk;
            size_t pll = len > 0 ? len - 1 : 0;
            size_t h = 0;
            hdr [h++] = op;
            if (pll < 126)
                hdr [h++] = mask_bit | pll;
            else {
                hdr [h++] = mask_bit | 126;
                hdr [h++] = pll >> 8;
                hdr [h++] = pll & 0xff;
            }
            if (mask_bit) {
                memcpy (hdr + h, mask, 4);
                h += 4;
            }
            write_all (fd, hdr, h);
            uint8_t *m = malloc (pll + 1);
            size_t i;
            for (i = 0; i < pll; i++)
                m [i] = mask_bit ? pl [i] ^ mask [i & 3] : pl [i];
            write_all (fd, m, pll);
            free (m);
#endif
        }
        else
            write_all (fd, chunk, len);
        if ((flags & 0x20) && pumps++ < 4) {
            /*  Give the worker a moment to take the data in, then let the
                targets talk to (and reply to) the peer.  */
            usleep (100);
            pump ();
        }
    }

    if (flags & 0x02) {
        struct linger lg = {1, 0};
        setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close (fd);
    }
    else {
        shutdown (fd, SHUT_WR);
        /*  The library closes the connection on EOF (or earlier, on a
            protocol error); wait for that, bounded.  A valid connection to
            a server that never reads ... does not exist: every protocol
            keeps a receive pending.  */
        unsigned long before = drain_timeouts;
        /*  PUSH never takes a message off a pipe, so a connection to it
            that got past the handshake stalls and never sees our EOF.  */
        int push = client < 0 ? sv->protocol == NN_PUSH :
            clients [cur_client_idx][1] == NN_PUSH;
        drain (fd, push ? 5 : DRAIN_MS, 0, 1);
        if (drain_timeouts != before && getenv ("NNFUZZ_STATS") &&
              atoi (getenv ("NNFUZZ_STATS")) > 1)
            fprintf (stderr, "nnfuzz: drain timeout: target %d flags %02x\n",
                target, flags);
        struct linger lg = {1, 0};
        setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close (fd);
    }
    pump ();
    if (client >= 0) {
        /*  Closing the client is part of the attack (a reply it dropped was
            freed again here: patch 0019).  */
        nn_close (client);
        cur_client = -1;
    }
    probe ();
    if (getenv ("NNFUZZ_STATS") && atoi (getenv ("NNFUZZ_STATS")) > 2) {
        struct timespec tend;
        clock_gettime (CLOCK_MONOTONIC, &tend);
        long us = (tend.tv_sec - tstart.tv_sec) * 1000000 +
            (tend.tv_nsec - tstart.tv_nsec) / 1000;
        if (us > 3000)
            fprintf (stderr, "nnfuzz: slow input: %ld us target %d flags %02x "
                "size %zu\n", us, target, flags, size);
    }
    return 0;
}
