/*  Shared by the harnesses: an input reader and the sanitizer defaults.  */
#ifndef NNFUZZ_COMMON_H
#define NNFUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(WIRE_TCP)
#define WIRE_SCHEME "tcp"
#elif defined(WIRE_WS)
#define WIRE_SCHEME "ws"
#endif

struct reader {
    const uint8_t *data;
    size_t size;
};

static inline uint8_t rd_u8 (struct reader *r)
{
    if (!r->size)
        return 0;
    r->size--;
    return *r->data++;
}

static inline uint16_t rd_u16le (struct reader *r)
{
    uint16_t lo = rd_u8 (r);
    return lo | (uint16_t) rd_u8 (r) << 8;
}

static inline uint16_t rd_u16be (struct reader *r)
{
    uint16_t hi = rd_u8 (r);
    return hi << 8 | rd_u8 (r);
}

static inline uint32_t rd_u32le (struct reader *r)
{
    uint32_t lo = rd_u16le (r);
    return lo | (uint32_t) rd_u16le (r) << 16;
}

static inline void put_u64be (uint8_t *p, uint64_t v)
{
    int i;
    for (i = 7; i >= 0; i--) {
        p [i] = v & 0xff;
        v >>= 8;
    }
}

/*  The library's own behaviour on a failed allocation is part of what we
    test (nn_assert on NULL), so malloc returns NULL instead of ASan
    reporting "allocation-size-too-big"; and anything over 256 MiB fails, as
    on a machine with little memory (servers with NN_RCVMAXSIZE -1 allocate
    whatever size a peer announces; the Makefile's -malloc_limit_mb=1024
    keeps libFuzzer from calling such an allocation an OOM first).  Leak checking is off: the servers
    live across inputs on background threads, which makes libFuzzer's
    per-input leak check report their buffers.  */
const char *__asan_default_options (void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=256:detect_leaks=0:"
        "handle_abort=1:abort_on_error=0:symbolize=1";
}

const char *__ubsan_default_options (void)
{
    return "print_stacktrace=1:halt_on_error=1";
}

#endif
