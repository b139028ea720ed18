/*
    TLS fuzzer for the tls+tcp transport (patch 0060): a hostile peer against
    nanomsg sockets that listen on tls+tcp ("server targets") and that connect
    to the harness's own listener ("client targets"), in two ways:

    - raw: the input's bytes go out as they are, from the first byte: the
      TLS handshake and record layer of the library (stls: record headers,
      lengths, what it hands OpenSSL and when) meet bytes that are no TLS,
      half a record, a record too long, a ClientHello (or ServerHello) with
      any content;
    - TLS: the harness completes a real TLS handshake first (OpenSSL, as the
      client or the server), then sends the input inside TLS: the SP header
      exchange and the size-prefixed messages (the tcp mapping) as stls
      decrypts them, with records cut where the input says; between them,
      raw bytes outside TLS (a forged or truncated record after the
      handshake), a key update (TLS 1.3) or a renegotiation request (1.2).

    Input format (missing bytes read as 0):
      byte 0   target, modulo NSERVERS + NCLIENTS
      byte 1   flags
                 0x01  TLS: complete a TLS handshake first (else raw)
                 0x02  abortive close (RST) instead of half-close + drain
                 0x04  TLS: send a valid SP header (inside TLS) first
                 0x08  TLS: at most TLS 1.2 (else 1.3)
                 0x10  TLS: each chunk's first byte says where the rest goes:
                       bit 0x80 set: raw, outside TLS; else inside TLS
                 0x20  pump the targets after each of the first 4 chunks
                 0x40  TLS: after the chunks, a key update (1.3) or a
                       renegotiation request (1.2)
                 0x80  TLS, to a server: present the client certificate
      then     chunks: u16 little-endian length + that many bytes, each one
               write (raw) or one SSL_write (one record, at most 16 KiB)

    After the chunks the peer half-closes and reads until EOF (bounded) or
    resets; the targets are pumped, and a REQ/REP round trip over tls+tcp
    (the probe) checks that the library still serves a good peer.
*/

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "nn.h"
#include "pair.h"
#include "pubsub.h"
#include "reqrep.h"
#include "pipeline.h"
#include "survey.h"
#include "bus.h"
#include "tls.h"

#include "common.h"

/*  A self-signed certificate for localhost (P-256, valid 2000 to 2100) and
    its key: the servers' and the harness's, the CA of everyone who checks. */
static const char cert_pem [] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBYTCCAQegAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv\n"
    "c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM\n"
    "CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABIfpdeDMaTqv93ny\n"
    "BJ7mITFf9h743FMCy0QfG6B3w7GaNQih/Pf1GZjl0fU5S+rsWz8cygt/myUhcdWS\n"
    "7+Tp6WWjSDBGMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTADAQH/\n"
    "MB0GA1UdDgQWBBTKm1QcFRoVVoERIlX6Vp3SuFralDAKBggqhkjOPQQDAgNIADBF\n"
    "AiEAkv/1eLZFjhDdJu2/VmbrkAqJh4x5F8RASTsrgg6hMn4CIFZLUAKiMr8N+yR8\n"
    "rq6phXCFJhjzGFwo3xSjCLM2RNsu\n"
    "-----END CERTIFICATE-----\n";
static const char key_pem [] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqxfYCq/4ftTWFqKb\n"
    "/4TOl4zp+jZP50ORwB2ERmBSUxChRANCAASH6XXgzGk6r/d58gSe5iExX/Ye+NxT\n"
    "AstEHxugd8OxmjUIofz39RmY5dH1OUvq7Fs/HMoLf5slIXHVku/k6ell\n"
    "-----END PRIVATE KEY-----\n";

static char dir [64];
static char cert_path [96];
static char key_path [96];

struct server {
    int protocol;
    int peer;
    int mutual;         /*  verify clients: they must present the certificate  */
    int unlimited;      /*  NN_RCVMAXSIZE -1  */
    int s;
    int port;
};

static struct server servers [] = {
    {NN_PAIR, NN_PAIR, 0, 0},
    {NN_REP, NN_REQ, 0, 0},
    {NN_PUB, NN_SUB, 0, 0},
    {NN_SUB, NN_PUB, 0, 0},
    {NN_PULL, NN_PUSH, 0, 0},
    {NN_BUS, NN_BUS, 0, 0},
    {NN_RESPONDENT, NN_SURVEYOR, 0, 0},
    {NN_PAIR, NN_PAIR, 0, 1},
    {NN_REP, NN_REQ, 1, 0},
};
#define NSERVERS ((int) (sizeof (servers) / sizeof (servers [0])))

/*  Client targets: {protocol, its valid peer}.  */
static const int clients [][2] = {
    {NN_PAIR, NN_PAIR},
    {NN_REQ, NN_REP},
    {NN_SUB, NN_PUB},
    {NN_PUSH, NN_PULL},
    {NN_BUS, NN_BUS},
};
#define NCLIENTS ((int) (sizeof (clients) / sizeof (clients [0])))

static int listener = -1;
static int listener_port;
static SSL_CTX *client_ctx;     /*  the harness as a TLS client  */
static SSL_CTX *client_ctx12;
static SSL_CTX *server_ctx;     /*  the harness as a TLS server  */
static SSL_CTX *server_ctx12;

static int probe_rep = -1;
static int probe_req = -1;
static unsigned long probe_failures, inputs_run;

static void cleanup (void)
{
    unlink (cert_path);
    unlink (key_path);
    rmdir (dir);
    if (getenv ("NNFUZZ_STATS"))
        fprintf (stderr, "nnfuzz: inputs %lu, probe failures %lu\n",
            inputs_run, probe_failures);
}

static void write_file (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    if (!f || fputs (text, f) < 0 || fclose (f) != 0) {
        perror (path);
        abort ();
    }
}

static void set_str (int s, int option, const char *value)
{
    if (nn_setsockopt (s, NN_TLS, option, value, strlen (value)) != 0) {
        fprintf (stderr, "nn_setsockopt (NN_TLS, %d): %s\n", option,
            nn_strerror (nn_errno ()));
        abort ();
    }
}

/*  A listening tls+tcp socket on a port of its own; the port.  */
static int bind_tls (int s, int idx)
{
    static int base = 0;
    char addr [64];
    int tries;
    if (!base)
        base = 21000 + (getpid () % 400) * 16;
    for (tries = 0; tries < 50; tries++) {
        snprintf (addr, sizeof addr, "tls+tcp://127.0.0.1:%d", base + idx);
        if (nn_bind (s, addr) >= 0)
            return base + idx;
        if (nn_errno () != EADDRINUSE)
            break;
        base = 21000 + (rand () % 400) * 16;
    }
    fprintf (stderr, "nn_bind %s: %s\n", addr, nn_strerror (nn_errno ()));
    abort ();
}

static SSL_CTX *make_ctx (int server, int tls12)
{
    SSL_CTX *ctx = SSL_CTX_new (server ? TLS_server_method () :
        TLS_client_method ());
    if (!ctx)
        abort ();
    SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
    if (tls12)
        SSL_CTX_set_max_proto_version (ctx, TLS1_2_VERSION);
    /*  The harness presents the certificate as a server (as a client, when
        the input says so: flag 0x80); it checks nothing.  */
    if (server && (SSL_CTX_use_certificate_file (ctx, cert_path,
          SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file (ctx, key_path,
          SSL_FILETYPE_PEM) != 1))
        abort ();
    SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
    int i, v;
    char addr [64];
    (void) argc; (void) argv;

    signal (SIGPIPE, SIG_IGN);
    strcpy (dir, "/tmp/nnfuzz-tls-XXXXXX");
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        abort ();
    }
    snprintf (cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf (key_path, sizeof key_path, "%s/key.pem", dir);
    write_file (cert_path, cert_pem);
    write_file (key_path, key_pem);
    atexit (cleanup);

    for (i = 0; i < NSERVERS; i++) {
        struct server *sv = &servers [i];
        sv->s = nn_socket (AF_SP, sv->protocol);
        if (sv->s < 0)
            abort ();
#if defined NN_WORKER_YIELD
        /*  As nanomsg-rs makes every socket (0087; not in a tree without it,
            as nanomsg/prove builds).  */
        v = 1;
        nn_setsockopt (sv->s, NN_SOL_SOCKET, NN_WORKER_YIELD, &v, sizeof v);
#endif
        if (sv->protocol == NN_SUB)
            nn_setsockopt (sv->s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0);
        if (sv->unlimited) {
            v = -1;
            nn_setsockopt (sv->s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &v, sizeof v);
        }
        set_str (sv->s, NN_TLS_CERT_FILE, cert_path);
        set_str (sv->s, NN_TLS_KEY_FILE, key_path);
        if (sv->mutual) {
            set_str (sv->s, NN_TLS_CA_FILE, cert_path);
            v = 1;
            nn_setsockopt (sv->s, NN_TLS, NN_TLS_VERIFY, &v, sizeof v);
        }
        sv->port = bind_tls (sv->s, i);
    }

    /*  The harness's listener (plain TCP; it speaks TLS itself).  */
    {
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
        listener_port = ntohs (sa.sin_port);
    }

    client_ctx = make_ctx (0, 0);
    client_ctx12 = make_ctx (0, 1);
    server_ctx = make_ctx (1, 0);
    server_ctx12 = make_ctx (1, 1);

    probe_rep = nn_socket (AF_SP, NN_REP);
    probe_req = nn_socket (AF_SP, NN_REQ);
    set_str (probe_rep, NN_TLS_CERT_FILE, cert_path);
    set_str (probe_rep, NN_TLS_KEY_FILE, key_path);
    set_str (probe_req, NN_TLS_CA_FILE, cert_path);
    set_str (probe_req, NN_TLS_SERVER_NAME, "localhost");
    v = bind_tls (probe_rep, NSERVERS);
    snprintf (addr, sizeof addr, "tls+tcp://127.0.0.1:%d", v);
    if (nn_connect (probe_req, addr) < 0)
        abort ();
    v = 2000;
    nn_setsockopt (probe_rep, NN_SOL_SOCKET, NN_RCVTIMEO, &v, sizeof v);
    nn_setsockopt (probe_req, NN_SOL_SOCKET, NN_RCVTIMEO, &v, sizeof v);
    v = 100;
    nn_setsockopt (probe_req, NN_SOL_SOCKET, NN_SNDTIMEO, &v, sizeof v);
    nn_setsockopt (probe_rep, NN_SOL_SOCKET, NN_SNDTIMEO, &v, sizeof v);
    return 0;
}

/*  The probe: as wire.c's, over tls+tcp (see there).  */
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
    }
    return -1;
}

static void probe (void)
{
    static unsigned seq;
    int failures = 0;
    for (;;) {
        char msg [16];
        int n = snprintf (msg, sizeof msg, "p%u", ++seq);
        if (nn_send (probe_req, msg, n, 0) == n &&
              probe_recv_match (probe_rep, msg, n) == 0 &&
              nn_send (probe_rep, msg, n, 0) == n &&
              probe_recv_match (probe_req, msg, n) == 0)
            return;
        probe_failures++;
        if (getenv ("NNFUZZ_PROBE_LENIENT"))
            return;
        if (++failures == 3) {
            fprintf (stderr, "nnfuzz: the liveness probe failed three times in "
                "a row: REQ/REP over tls+tcp stopped delivering (a wedge)\n");
            abort ();
        }
    }
}

static void pump_one (int s, int protocol)
{
    int k;
    for (k = 0; k < 8; k++) {
        void *buf = NULL;
        if (nn_recv (s, &buf, NN_MSG, NN_DONTWAIT) < 0)
            break;
        if (protocol == NN_REP || protocol == NN_RESPONDENT) {
            if (nn_send (s, &buf, NN_MSG, NN_DONTWAIT) < 0)
                nn_freemsg (buf);
        }
        else
            nn_freemsg (buf);
    }
    switch (protocol) {
    case NN_PUB: case NN_PUSH: case NN_PAIR: case NN_BUS: case NN_REQ:
        nn_send (s, "hello", 5, NN_DONTWAIT);
        break;
    }
}

static int cur_client = -1;
static int cur_client_proto;

static void pump (void)
{
    int i;
    for (i = 0; i < NSERVERS; i++)
        pump_one (servers [i].s, servers [i].protocol);
    if (cur_client >= 0)
        pump_one (cur_client, cur_client_proto);
}

static void set_timeouts (int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int connect_to (int port)
{
    struct sockaddr_in sa;
    int one = 1;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset (&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons (port);
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr*) &sa, sizeof sa) < 0) {
        close (fd);
        return -1;
    }
    set_timeouts (fd, 1000);
    return fd;
}

static int accept_bounded (int ms)
{
    struct pollfd pfd = {listener, POLLIN, 0};
    int fd;
    if (poll (&pfd, 1, ms) <= 0)
        return -1;
    fd = accept (listener, NULL, NULL);
    if (fd >= 0)
        set_timeouts (fd, 1000);
    return fd;
}

/*  Connections a previous input's client left behind.  */
static void drain_listener (void)
{
    struct pollfd pfd = {listener, POLLIN, 0};
    while (poll (&pfd, 1, 0) > 0) {
        int fd = accept (listener, NULL, NULL);
        if (fd < 0)
            break;
        close (fd);
    }
}

static void write_raw (int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send (fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;         /*  closed, or stalled for 1 s (SO_SNDTIMEO)  */
        }
        p += w;
        n -= w;
    }
}

/*  Reads until EOF, an error or the deadline, pumping the targets meanwhile
    (a target that holds a message reads no further).  */
static void drain (int fd, SSL *ssl, int ms)
{
    uint8_t buf [4096];
    int waited;
    for (waited = 0; waited < ms; waited++) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll (&pfd, 1, 1) > 0) {
            ssize_t n = ssl ? SSL_read (ssl, buf, sizeof buf) :
                recv (fd, buf, sizeof buf, 0);
            if (n <= 0)
                return;
        }
        pump ();
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    uint8_t flags;
    int fd, target, client = -1, tls12;
    SSL *ssl = NULL;

    if (size < 1)
        return 0;
    inputs_run++;
    target = rd_u8 (&r) % (NSERVERS + NCLIENTS);
    flags = rd_u8 (&r);
    tls12 = (flags & 0x08) != 0;

    if (target >= NSERVERS) {
        char addr [64];
        const int *c = clients [target - NSERVERS];
        client = nn_socket (AF_SP, c [0]);
        if (client < 0)
            abort ();
        cur_client = client;
        cur_client_proto = c [0];
        if (c [0] == NN_SUB)
            nn_setsockopt (client, NN_SUB, NN_SUB_SUBSCRIBE, "", 0);
        set_str (client, NN_TLS_CA_FILE, cert_path);
        set_str (client, NN_TLS_SERVER_NAME, "localhost");
        drain_listener ();
        snprintf (addr, sizeof addr, "tls+tcp://127.0.0.1:%d", listener_port);
        if (nn_connect (client, addr) < 0)
            abort ();
        fd = accept_bounded (1000);
        if (fd < 0)
            goto done;
        if (flags & 0x01) {
            ssl = SSL_new (tls12 ? server_ctx12 : server_ctx);
            SSL_set_fd (ssl, fd);
            if (SSL_accept (ssl) != 1)
                goto finish;
        }
    }
    else {
        struct server *sv = &servers [target];
        fd = connect_to (sv->port);
        if (fd < 0)
            goto done;
        if (flags & 0x01) {
            ssl = SSL_new (tls12 ? client_ctx12 : client_ctx);
            SSL_set_fd (ssl, fd);
            SSL_set_tlsext_host_name (ssl, "localhost");
            if ((flags & 0x80) && (SSL_use_certificate_file (ssl, cert_path,
                  SSL_FILETYPE_PEM) != 1 || SSL_use_PrivateKey_file (ssl,
                  key_path, SSL_FILETYPE_PEM) != 1))
                abort ();
            if (SSL_connect (ssl) != 1)
                goto finish;
        }
    }

    if (ssl && (flags & 0x04)) {
        int peer = target >= NSERVERS ? clients [target - NSERVERS][1] :
            servers [target].peer;
        uint8_t hdr [8] = {0, 'S', 'P', 0, peer >> 8 & 0xff, peer & 0xff, 0, 0};
        if (SSL_write (ssl, hdr, sizeof hdr) <= 0)
            goto finish;
    }

    {
        int pumps = 0;
        while (r.size > 0) {
            size_t len = rd_u16le (&r);
            const uint8_t *chunk;
            int raw = !ssl;
            if (len > r.size)
                len = r.size;
            chunk = r.data;
            r.data += len;
            r.size -= len;
            if (ssl && (flags & 0x10)) {
                if (len == 0)
                    continue;
                raw = (chunk [0] & 0x80) != 0;
                chunk++;
                len--;
            }
            if (raw)
                write_raw (fd, chunk, len);
            else if (len > 0 && SSL_write (ssl, chunk, (int) len) <= 0)
                break;
            if ((flags & 0x20) && pumps++ < 4) {
                usleep (100);
                pump ();
            }
        }
    }

    if (ssl && (flags & 0x40)) {
        /*  TLS 1.3: ask for a key update; 1.2: ask to renegotiate (refused,
            SSL_OP_NO_RENEGOTIATION, with an alert). Then a record to carry
            it.  */
        if (SSL_version (ssl) >= TLS1_3_VERSION)
            SSL_key_update (ssl, SSL_KEY_UPDATE_REQUESTED);
        else
            SSL_renegotiate (ssl);
        SSL_write (ssl, "", 0);
        SSL_do_handshake (ssl);
    }

finish:
    if (flags & 0x02) {
        struct linger lg = {1, 0};
        setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    else {
        shutdown (fd, SHUT_WR);
        drain (fd, ssl, 10);
        {
            struct linger lg = {1, 0};
            setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
    }
    if (ssl)
        SSL_free (ssl);
    ERR_clear_error ();
    close (fd);
done:
    pump ();
    if (client >= 0) {
        nn_close (client);
        cur_client = -1;
    }
    probe ();
    return 0;
}
