/*
    API-sequence fuzzer: each input is a program of nn_* calls over up to
    NSLOTS sockets. Only non-blocking calls (NN_DONTWAIT, nn_poll timeout 0);
    never nn_term or nn_device. Everything opened is closed at the end of the
    input, so the 512-socket limit is never reached.

    Each operation is one opcode byte followed by its operands (missing
    bytes read as 0); see the switch in LLVMFuzzerTestOneInput.
*/

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn.h"
#include "pair.h"
#include "pubsub.h"
#include "reqrep.h"
#include "pipeline.h"
#include "survey.h"
#include "bus.h"
#include "inproc.h"
#include "ipc.h"
#include "tcp.h"
#include "ws.h"

#include "common.h"

/*  Our own option (patch 0033). Defined here too, so that the harness builds on a tree
    without that patch (nanomsg/prove's), where the library refuses it.  */
#ifndef NN_RCVMAXPARTIAL
#define NN_RCVMAXPARTIAL 1001
#endif
/*  The liveness options (0050: NN_TCP_KEEPALIVE 1002 to NN_TCP_KEEPALIVE_CNT 1005; 0051:
    NN_CONNECT_TIMEOUT 1006), likewise.  */
#ifndef NN_TCP_KEEPALIVE
#define NN_TCP_KEEPALIVE 1002
#endif
/*  The worker's and the listeners' options (0063, 0085, 0087): 1020 to 1022.  */
#ifndef NN_MAXCONN
#define NN_MAXCONN 1020
#endif
#ifndef NN_WORKER_YIELD
#define NN_WORKER_YIELD 1022
#endif

#define NSLOTS 8
#define MAXOPS 64
#define NMSGS 8

static const int protocols [] = {
    NN_PAIR, NN_PUB, NN_SUB, NN_REQ, NN_REP, NN_PUSH, NN_PULL,
    NN_SURVEYOR, NN_RESPONDENT, NN_BUS
};
#define NPROTOCOLS ((int) (sizeof (protocols) / sizeof (protocols [0])))

static char addrs [16][128];
#define NADDRS 16

static const int levels [] = {
    NN_SOL_SOCKET, NN_PAIR, NN_SUB, NN_REQ, NN_SURVEYOR, NN_PUB, NN_REP,
    NN_RESPONDENT, NN_BUS, NN_TCP, NN_WS, NN_IPC, NN_INPROC, 12345, -5
};
#define NLEVELS ((int) (sizeof (levels) / sizeof (levels [0])))

static char tmpdir [64];

/*  What an ipc path may hold besides a socket (0031): addresses whose path is
    the directory itself (with and without a trailing '/'), a regular file,
    and paths of 108-121 bytes, which pass the address check but not
    sun_path. Chosen by the endpoint byte of nn_bind/nn_connect (see there).  */
static char ipc_special [4][160];
static char ipc_file [96];

/*  Anything a previous input's mischief (op 19) left at the ipc socket paths
    a0, a1, a2 goes, once every socket is closed: the next input starts from
    empty paths. The regular file is put back if it went (1.1.5 deleted it).  */
static void reset_ipc_paths (void)
{
    char p [128];
    int i;
    for (i = 0; i < 3; i++) {
        snprintf (p, sizeof p, "%s/a%d", tmpdir, i);
        if (unlink (p) != 0)
            rmdir (p);
    }
    if (access (ipc_file, F_OK) != 0) {
        FILE *f = fopen (ipc_file, "w");
        if (f) {
            fputs ("not a socket\n", f);
            fclose (f);
        }
    }
}

static void cleanup (void)
{
    reset_ipc_paths ();
    unlink (ipc_file);
    rmdir (tmpdir);
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
    int base;
    (void) argc; (void) argv;
    signal (SIGPIPE, SIG_IGN);
    strcpy (tmpdir, "/tmp/nnfuzz-api-XXXXXX");
    if (!mkdtemp (tmpdir))
        abort ();
    atexit (cleanup);
    /*  Ports derived from the pid so that parallel/fork runs do not clash.  */
    base = 40000 + (getpid () % 1000) * 8;
    snprintf (addrs [0], 128, "inproc://a");
    snprintf (addrs [1], 128, "inproc://b");
    snprintf (addrs [2], 128, "ipc://%s/a0", tmpdir);
    snprintf (addrs [3], 128, "ipc://%s/a1", tmpdir);
    snprintf (addrs [4], 128, "tcp://127.0.0.1:%d", base);
    snprintf (addrs [5], 128, "tcp://127.0.0.1:%d", base + 1);
    snprintf (addrs [6], 128, "ws://127.0.0.1:%d", base + 2);
    snprintf (addrs [7], 128, "ws://127.0.0.1:%d/path", base + 3);
    snprintf (addrs [8], 128, "tcp://lo;127.0.0.1:%d", base + 4);
    snprintf (addrs [9], 128, "tcp://*:%d", base + 5);
    snprintf (addrs [10], 128, "tcp://localhost:%d", base + 5);
    snprintf (addrs [11], 128, "ws://[::1]:%d", base + 6);
    snprintf (addrs [12], 128, "tcp://127.0.0.1:0");
    snprintf (addrs [13], 128, "ipc://%s/a2", tmpdir);
    snprintf (addrs [14], 128, "inproc://");
    snprintf (addrs [15], 128, "tcp://127.0.0.1:%d", base + 1);
    snprintf (ipc_file, sizeof ipc_file, "%s/file", tmpdir);
    snprintf (ipc_special [0], 160, "ipc://%s", tmpdir);
    snprintf (ipc_special [1], 160, "ipc://%s/", tmpdir);
    snprintf (ipc_special [2], 160, "ipc://%s", ipc_file);
    /*  ipc_special [3]: a long path, its length from the input (rd_addr_ipc)  */
    reset_ipc_paths ();
    return 0;
}

/*  One of ipc_special (the selector's low 2 bits); the long one gets a path of
    108 + (next byte % 14) bytes: 108-121, too long for sun_path, short enough
    for NN_SOCKADDR_MAX.  */
static void rd_addr_ipc (struct reader *r, uint8_t sel, char *out, size_t outsz)
{
    if ((sel & 3) == 3) {
        size_t len = 108 + rd_u8 (r) % 14, pos;
        pos = (size_t) snprintf (out, outsz, "ipc://%s/", tmpdir);
        while (pos < 6 + len && pos + 1 < outsz)
            out [pos++] = 'x';
        out [pos] = 0;
        return;
    }
    snprintf (out, outsz, "%s", ipc_special [sel & 3]);
}

/*  A string operand: either one of the known addresses or raw input bytes.  */
static void rd_addr (struct reader *r, char *out, size_t outsz)
{
    uint8_t sel = rd_u8 (r);
    if (sel < 0xf0) {
        snprintf (out, outsz, "%s", addrs [sel % NADDRS]);
        return;
    }
    /*  Fuzzed address: a prefix of a known scheme, then raw bytes.  */
    static const char *schemes [] = {"inproc://", "ipc://", "tcp://", "ws://"};
    size_t n = rd_u8 (r) % 100, i;
    size_t pos = snprintf (out, outsz, "%s", schemes [sel & 3]);
    for (i = 0; i < n && pos + 1 < outsz; i++)
        out [pos++] = (char) rd_u8 (r);
    out [pos] = 0;
}

static int rd_int (struct reader *r)
{
    uint8_t k = rd_u8 (r);
    switch (k & 7) {
    case 0: return 0;
    case 1: return 1;
    case 2: return -1;
    case 3: return k >> 3;
    case 4: return (int) rd_u32le (r);
    case 5: return 0x7fffffff;
    case 6: return (int) 0x80000000u;
    default: return rd_u8 (r) * 100;
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    int socks [NSLOTS];
    int eids [NSLOTS][4];
    /*  nn_allocmsg'd messages we own: op 17 picks one by bits 2-4 of its
        operand, so an input can hold more large buffers than the chunk
        cache has slots (4) and free them in a row; a received message is
        kept in msgs [0].  */
    void *msgs [NMSGS] = {NULL};
    int i, ops;
    char addr [160];
    uint8_t buf [256];

    for (i = 0; i < NSLOTS; i++) {
        socks [i] = -1;
        memset (eids [i], 0xff, sizeof eids [i]);
    }

    for (ops = 0; ops < MAXOPS && r.size > 0; ops++) {
        uint8_t op = rd_u8 (&r);
        int slot = rd_u8 (&r);
        int s;
        int rc;
        slot %= NSLOTS;
        s = socks [slot];

        switch (op % 20) {

        case 0: case 1:   /*  nn_socket  */
        {
            uint8_t p = rd_u8 (&r);
            int domain = (p & 0x80) ? AF_SP_RAW : AF_SP;
            int proto = protocols [p % NPROTOCOLS];
            if ((p & 0x70) == 0x70)
                proto = rd_u16le (&r);      /*  invalid protocol ids too  */
            if ((p & 0x70) == 0x60)
                domain = rd_u8 (&r);
            if (s >= 0)
                nn_close (s);
            socks [slot] = nn_socket (domain, proto);
            memset (eids [slot], 0xff, sizeof eids [slot]);
            /*  As nanomsg-rs makes every socket (0087); op 9's raw option
                byte 0xef sets it to what the input says.  */
            if (socks [slot] >= 0) {
                int on = 1;
                nn_setsockopt (socks [slot], NN_SOL_SOCKET, NN_WORKER_YIELD,
                    &on, sizeof on);
            }
            break;
        }

        case 2: case 3:   /*  nn_bind / nn_connect  */
        {
            /*  The endpoint byte: the slot's endpoint in its low 2 bits;
                0xa0-0xaf in all (a pattern no older seed has) is an ipc path
                of ipc_special, bits 2-3 choosing which.  */
            uint8_t eb = rd_u8 (&r);
            int e = eb & 3;
            if ((eb & 0xf0) == 0xa0)
                rd_addr_ipc (&r, eb >> 2, addr, sizeof addr);
            else
                rd_addr (&r, addr, sizeof addr);
            if (op % 20 == 2)
                rc = nn_bind (s, addr);
            else
                rc = nn_connect (s, addr);
            if (rc >= 0)
                eids [slot][e] = rc;
            break;
        }

        case 4:           /*  nn_shutdown  */
        {
            uint8_t e = rd_u8 (&r);
            int eid = (e & 0x80) ? (int) (e & 0x7f) - 1 : eids [slot][e & 3];
            nn_shutdown (s, eid);
            break;
        }

        case 5: case 6:   /*  nn_send  */
        {
            /*  With the opcode's high bit, a large message: 16 KiB and up to
                80 KiB more of one byte, enough to fill a pipe in a few sends
                (nn_sendmsg asks a socket that may not take it before it
                copies such a message, 0086). Otherwise the next bytes.  */
            static uint8_t large [16384 + 255 * 320];
            if (op & 0x80) {
                size_t n = 16384 + (size_t) rd_u8 (&r) * 320;
                memset (large, rd_u8 (&r), n);
                rc = nn_send (s, large, n, NN_DONTWAIT);
                break;
            }
            size_t n = rd_u8 (&r);
            if (n > r.size)
                n = r.size;
            rc = nn_send (s, r.data, n, NN_DONTWAIT);
            r.data += n;
            r.size -= n;
            break;
        }

        case 7: case 8:   /*  nn_recv  */
        {
            uint8_t k = rd_u8 (&r);
            if (k & 1) {
                void *m = NULL;
                rc = nn_recv (s, &m, NN_MSG, NN_DONTWAIT);
                if (rc >= 0 && (k & 2)) {
                    /*  kept as msgs [0] (op 17 reallocs, sends, frees it)  */
                    if (msgs [0])
                        nn_freemsg (msgs [0]);
                    msgs [0] = m;
                }
                else if (rc >= 0)
                    nn_freemsg (m);
            }
            else {
                size_t n = k % sizeof buf;
                uint8_t *b = malloc (n ? n : 1);
                rc = nn_recv (s, b, n, NN_DONTWAIT);
                free (b);
            }
            break;
        }

        case 9: case 10:  /*  nn_setsockopt  */
        {
            uint8_t l = rd_u8 (&r);
            int level = (l & 0x80) ? (int) (int8_t) rd_u8 (&r) * 16 + (l & 15)
                : levels [l % NLEVELS];
            int opt = rd_u8 (&r);
            uint8_t kind = rd_u8 (&r);
            if (!(kind & 0x80))
                opt %= 20;
            /*  Raw option bytes 0xe8 to 0xec: the liveness options (0050,
                0051), 1002 to 1006.  */
            else if (opt >= 0xe8 && opt <= 0xec)
                opt = NN_TCP_KEEPALIVE + (opt - 0xe8);
            /*  0xed to 0xef: NN_MAXCONN, NN_WORKER_POLL, NN_WORKER_YIELD.  */
            else if (opt >= 0xed && opt <= 0xef)
                opt = NN_MAXCONN + (opt - 0xed);
#if defined NN_POLL_ENTER
            /*  Raw option bytes 0xf0 to 0xf3: the lazy readiness fds' options
                (0035), counting waiters in and out at random.  */
            else if (opt >= 0xf0 && opt <= 0xf3) {
                static const int lazy [] = { NN_SNDFD_LAZY, NN_RCVFD_LAZY,
                    NN_POLL_ENTER, NN_POLL_LEAVE };
                opt = lazy [opt - 0xf0];
            }
#endif
            /*  Our own option (0033), out of reach of the numbers above.  */
            if ((kind & 0xc0) == 0x40)
                opt = NN_RCVMAXPARTIAL;
            if ((kind & 3) != 3) {
                int v = rd_int (&r);
                size_t sz = (kind & 3) == 0 ? sizeof v : (kind & 3) == 1 ? 0 : 2;
                int *p = malloc (sizeof v);
                memcpy (p, &v, sizeof v);
                nn_setsockopt (s, level, opt, p, sz ? sz : (kind & 4) ? 0 : sizeof v);
                free (p);
            }
            else {
                /*  Byte-string value of exact size: subscriptions, socket
                    names, ipc security attributes...  */
                size_t n = rd_u8 (&r);
                if (n > r.size)
                    n = r.size;
                uint8_t *p = malloc (n ? n : 1);
                memcpy (p, r.data, n);
                r.data += n;
                r.size -= n;
                nn_setsockopt (s, level, opt, n ? p : ((kind & 4) ? NULL : p), n);
                free (p);
            }
            break;
        }

        case 11:          /*  nn_setsockopt subscribe/unsubscribe (common)  */
        {
            uint8_t k = rd_u8 (&r);
            size_t n = k & 7;
            if (n > r.size)
                n = r.size;
            uint8_t *p = malloc (n ? n : 1);
            memcpy (p, r.data, n);
            r.data += n;
            r.size -= n;
            nn_setsockopt (s, NN_SUB,
                (k & 8) ? NN_SUB_UNSUBSCRIBE : NN_SUB_SUBSCRIBE, p, n);
            free (p);
            break;
        }

        case 12:          /*  nn_getsockopt  */
        {
            uint8_t l = rd_u8 (&r);
            int level = levels [l % NLEVELS];
            int opt = rd_u8 (&r) % 20;
            size_t sz = rd_u8 (&r) % 80;
            if (l & 0x40 && level == NN_SOL_SOCKET)
                opt = NN_RCVMAXPARTIAL;
            uint8_t *p = malloc (sz ? sz : 1);
            size_t got = sz;
            rc = nn_getsockopt (s, level, opt, p, &got);
            free (p);
            break;
        }

        case 13:          /*  nn_close  */
            if (s >= 0 || (rd_u8 (&r) & 1)) {
                nn_close (s);
                socks [slot] = -1;
            }
            break;

        case 14:          /*  nn_poll, timeout 0  */
        {
            struct nn_pollfd pfd [NSLOTS];
            int n = 0;
            uint8_t ev = rd_u8 (&r);
            for (i = 0; i < NSLOTS; i++) {
                if (socks [i] < 0 && !(ev & 0x80))
                    continue;
                pfd [n].fd = socks [i];
                pfd [n].events = (ev >> (i & 3)) & 3;
                pfd [n].revents = 0;
                n++;
            }
            nn_poll (pfd, n, 0);
            break;
        }

        case 15:          /*  nn_sendmsg with iovecs and control  */
        {
            uint8_t k = rd_u8 (&r);
            struct nn_iovec iov [3];
            struct nn_msghdr hdr;
            void *body = NULL, *ctrlmsg = NULL;
            uint8_t *bufs [3] = {NULL, NULL, NULL};
            uint8_t *ctrl = NULL;
            int niov = k % 4, j;
            memset (&hdr, 0, sizeof hdr);
            if (k & 0x04) {
                /*  zero-copy body  */
                size_t n = rd_u8 (&r);
                body = nn_allocmsg (n, 0);
                if (!body)
                    break;
                if (n)
                    memset (body, 'b', n);
                iov [0].iov_base = &body;
                iov [0].iov_len = NN_MSG;
                niov = 1;
            }
            else {
                for (j = 0; j < niov; j++) {
                    size_t n = rd_u8 (&r) % 32;
                    if (n > r.size)
                        n = r.size;
                    bufs [j] = malloc (n ? n : 1);
                    memcpy (bufs [j], r.data, n);
                    r.data += n;
                    r.size -= n;
                    iov [j].iov_base = bufs [j];
                    iov [j].iov_len = n;
                }
            }
            hdr.msg_iov = niov ? iov : NULL;
            hdr.msg_iovlen = (k & 0x40) ? (int) rd_u8 (&r) % 4 == 3 ? -1 : niov : niov;
            if (hdr.msg_iovlen > niov)
                hdr.msg_iovlen = niov;
            if (k & 0x08) {
                /*  Control data: a cmsg buffer from the input, sometimes
                    with a well-formed SP header cmsg at its start.  */
                size_t n = rd_u8 (&r) % 64;
                if (n > r.size)
                    n = r.size;
                if (k & 0x20) {
                    ctrlmsg = nn_allocmsg (n, 0);
                    if (ctrlmsg) {
                        memcpy (ctrlmsg, r.data, n);
                        hdr.msg_control = &ctrlmsg;
                        hdr.msg_controllen = NN_MSG;
                    }
                }
                else {
                    ctrl = malloc (n ? n : 1);
                    memcpy (ctrl, r.data, n);
                    if ((k & 0x10) && n >= sizeof (struct nn_cmsghdr)) {
                        struct nn_cmsghdr *c = (struct nn_cmsghdr*) ctrl;
                        c->cmsg_level = PROTO_SP;
                        c->cmsg_type = SP_HDR;
                        if (c->cmsg_len > n)
                            c->cmsg_len = n;
                    }
                    hdr.msg_control = ctrl;
                    hdr.msg_controllen = n;
                }
                r.data += n;
                r.size -= n;
            }
            rc = nn_sendmsg (s, &hdr, NN_DONTWAIT);
            if (rc < 0) {
                if (body)
                    nn_freemsg (body);
                if (ctrlmsg)
                    nn_freemsg (ctrlmsg);
            }
            for (j = 0; j < 3; j++)
                free (bufs [j]);
            free (ctrl);
            break;
        }

        case 16:          /*  nn_recvmsg with iovecs and control  */
        {
            uint8_t k = rd_u8 (&r);
            struct nn_iovec iov [3];
            struct nn_msghdr hdr;
            void *body = NULL, *ctrlmsg = NULL;
            uint8_t *bufs [3] = {NULL, NULL, NULL};
            uint8_t *ctrl = NULL;
            int niov = k % 4, j;
            memset (&hdr, 0, sizeof hdr);
            if (k & 0x04) {
                iov [0].iov_base = &body;
                iov [0].iov_len = NN_MSG;
                niov = 1;
            }
            else {
                for (j = 0; j < niov; j++) {
                    size_t n = rd_u8 (&r) % 32;
                    bufs [j] = malloc (n ? n : 1);
                    iov [j].iov_base = bufs [j];
                    iov [j].iov_len = n;
                }
            }
            hdr.msg_iov = niov ? iov : NULL;
            hdr.msg_iovlen = niov;
            if (k & 0x08) {
                if (k & 0x20) {
                    hdr.msg_control = &ctrlmsg;
                    hdr.msg_controllen = NN_MSG;
                }
                else {
                    size_t n = rd_u8 (&r) % 64;
                    ctrl = malloc (n ? n : 1);
                    hdr.msg_control = ctrl;
                    hdr.msg_controllen = n;
                }
            }
            rc = nn_recvmsg (s, &hdr, NN_DONTWAIT);
            if (rc >= 0) {
                if (body)
                    nn_freemsg (body);
                if (ctrlmsg)
                    nn_freemsg (ctrlmsg);
            }
            for (j = 0; j < 3; j++)
                free (bufs [j]);
            free (ctrl);
            break;
        }

        case 17:          /*  a message we own: alloc / realloc / send / free  */
        {
            uint8_t k = rd_u8 (&r);
            size_t n = rd_u16le (&r) % 70000;
            void **msg = &msgs [(k >> 2) % NMSGS];
            switch (k % 4) {
            case 0:
                if (*msg)
                    nn_freemsg (*msg);
                *msg = nn_allocmsg (n, (k & 0x80) ? rd_u8 (&r) : 0);
                if (*msg && n)
                    memset (*msg, 'm', n);
                break;
            case 1:
                if (*msg) {
                    void *m2 = nn_reallocmsg (*msg, n);
                    if (m2)
                        *msg = m2;
                }
                break;
            case 2:
                if (*msg && nn_send (s, msg, NN_MSG, NN_DONTWAIT) >= 0)
                    *msg = NULL;
                break;
            default:
                if (*msg) {
                    nn_freemsg (*msg);
                    *msg = NULL;
                }
                break;
            }
            break;
        }

        case 18:          /*  introspection: symbols, errors, statistics  */
        {
            uint8_t k = rd_u8 (&r);
            int idx = rd_int (&r);
            int v;
            switch (k % 4) {
            case 0:
                nn_symbol (idx, &v);
                break;
            case 1: {
                struct nn_symbol_properties sp;
                nn_symbol_info (idx, &sp, (k >> 2) % (sizeof sp + 1));
                break;
            }
            case 2:
                (void) strlen (nn_strerror (idx));
                break;
            default:
                nn_get_statistic (s, idx & 0xff ? idx % 2000 : idx);
                break;
            }
            break;
        }

        default:          /*  19: let the worker thread run a little  */
        {
            uint8_t k = rd_u8 (&r);
            /*  0xc0-0xdf: then replace what is at the ipc path a0, a1 or a2
                (bits 0-1; 3 is a0 too), a bound socket's file maybe, with
                a directory (bit 3) or a regular file: what anyone who can
                write in that directory can do. Closing or shutting down
                the endpoint must leave it alone (0031: 1.1.5 aborted on
                the directory at bipc.c:177).  */
            usleep (k & 0x3f);
            if ((k & 0xe0) == 0xc0) {
                char p [128];
                snprintf (p, sizeof p, "%s/a%d", tmpdir, (k & 3) % 3);
                if (unlink (p) != 0)
                    rmdir (p);
                if (k & 8)
                    mkdir (p, 0700);
                else {
                    FILE *f = fopen (p, "w");
                    if (f)
                        fclose (f);
                }
            }
            break;
        }
        }
    }

    for (i = 0; i < NMSGS; i++)
        if (msgs [i])
            nn_freemsg (msgs [i]);
    for (i = 0; i < NSLOTS; i++)
        if (socks [i] >= 0)
            while (nn_close (socks [i]) < 0 && nn_errno () == EINTR)
                ;
    reset_ipc_paths ();
    return 0;
}
