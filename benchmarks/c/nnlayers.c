/* The C floor of profile_layers.py: the operations the Python binding's send, recv,
 * recv_into and recv_msg perform, done the plainest way in C, one pair per loop iteration.
 *
 *   nnlayers OP COUNT
 *
 * Two PAIR sockets over inproc; COUNT times: nn_send 64 bytes on one, then receive on the
 * other as OP says:
 *
 *   recv       nn_recv with NN_MSG, a copy into fresh memory (malloc + memcpy), nn_freemsg,
 *              free: what a binding that returns a new bytes object must do at least
 *   recv_into  nn_recv into a caller's 64-byte buffer
 *   recv_msg   nn_recv with NN_MSG, then nn_freemsg (zero copy)
 *
 * The calls block (no NN_DONTWAIT): a message is always there, so they never wait. Each step
 * is a function of its own (noinline) so that callgrind can count it.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nanomsg/nn.h>
#include <nanomsg/pair.h>

#define SIZE 64

static void die(const char *what)
{
    fprintf(stderr, "nnlayers: %s: %s\n", what, nn_strerror(nn_errno()));
    exit(1);
}

static int make_pair(void)
{
    int s = nn_socket(AF_SP, NN_PAIR);
    if (s < 0)
        die("nn_socket");
    return s;
}

__attribute__((noinline)) static void *copy_out(const void *msg, size_t len)
{
    void *copy = malloc(len);
    if (copy == NULL)
        die("malloc");
    memcpy(copy, msg, len);
    return copy;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: nnlayers recv|recv_into|recv_msg COUNT\n");
        return 2;
    }
    const char *op = argv[1];
    long count = atol(argv[2]);
    int a = make_pair(), b = make_pair();
    if (nn_bind(b, "inproc://layers") < 0)
        die("nn_bind");
    if (nn_connect(a, "inproc://layers") < 0)
        die("nn_connect");
    char payload[SIZE];
    memset(payload, 'x', sizeof payload);
    char into[SIZE];
    int mode = strcmp(op, "recv") == 0 ? 0 : strcmp(op, "recv_into") == 0 ? 1
             : strcmp(op, "recv_msg") == 0 ? 2 : -1;
    if (mode < 0) {
        fprintf(stderr, "nnlayers: unknown operation %s\n", op);
        return 2;
    }
    for (long i = 0; i < count; i++) {
        if (nn_send(a, payload, SIZE, 0) != SIZE)
            die("nn_send");
        if (mode == 1) {
            if (nn_recv(b, into, sizeof into, 0) != SIZE)
                die("nn_recv");
            continue;
        }
        void *msg = NULL;
        int n = nn_recv(b, &msg, NN_MSG, 0);
        if (n != SIZE)
            die("nn_recv");
        if (mode == 0) {
            void *copy = copy_out(msg, (size_t)n);
            nn_freemsg(msg);
            free(copy);
        } else {
            nn_freemsg(msg);
        }
    }
    nn_close(a);
    nn_close(b);
    return 0;
}
