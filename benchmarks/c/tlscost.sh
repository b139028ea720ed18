#!/usr/bin/env bash
# What a large message costs over tls+tcp:// against tcp://, in C on libnanomsg (tlscost.c):
# PUSH (a child process) -> PULL over loopback, COUNT messages of SIZE bytes each (1 MiB).
#   - rates: ROUNDS runs of each, tcp and tls interleaved: the time a message takes and each
#     side's CPU time a message (min and median; the machine's other work shows in both);
#   - system calls a message of both processes (strace -c -f; traced, so its rates are not
#     the library's);
#   - bytes copied a message in each process (memcpy/memmove of 512 bytes or more, counted by
#     the LD_PRELOAD shim tlscopies.c: the copies of a body into and out of buffers; the
#     kernel's copies are the system calls').
#
#   benchmarks/c/tlscost.sh [hardened|DIR] [COUNT] [ROUNDS] [SIZE]   (hardened 500 6 1048576)
#
# "hardened" is the archive of the last `make wheel` (nanomsg/link-flags); DIR a directory
# with a libnanomsg.a and its include/ (a prepared tree built by hand, to compare two
# versions of a patch).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${1:-hardened}
count=${2:-500}
rounds=${3:-6}
size=${4:-1048576}
work=$(mktemp -d /tmp/nnrs-tlscost.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=benchmarks/c/build.sh
. "$here/build.sh"
case $lib in
    # shellcheck disable=SC2046
    hardened) gcc -O2 -o "$work/tlscost" "$here/tlscost.c" $("$here/../../nanomsg/link-flags") ;;
    *) gcc -O2 -o "$work/tlscost" "$here/tlscost.c" -I"$lib/include" "$lib/libnanomsg.a" \
        -lssl -lcrypto -lpthread -lanl ;;
esac
gcc -O2 -shared -fPIC -o "$work/tlscopies.so" "$here/tlscopies.c" -ldl
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
run() {  # run SCHEME [wrapper...]
    local scheme=$1
    shift
    "$@" "$work/tlscost" "$scheme://127.0.0.1:$(free_port)" "$count" "$size" \
        "$work/cert.pem" "$work/key.pem"
}

echo "rates: $rounds rounds of $count messages of $size B each way, interleaved"
for _ in $(seq "$rounds"); do
    for scheme in tcp tls+tcp; do
        run $scheme | awk -v s=$scheme '/^receiver/ {r = $2; rc = $5} /^sender/ {sc = $5}
            END {print s, r, rc, sc}' >> "$work/rates"
    done
done
python3 - "$work/rates" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for scheme in ("tcp", "tls+tcp"):
    cols = list(zip(*[[float(v) for v in r[1:]] for r in rows if r[0] == scheme]))
    def show(c):
        return f"min {min(c):7.1f} median {statistics.median(c):7.1f}"
    print(f"  {scheme:8} µs a message {show(cols[0])} | receiver CPU µs {show(cols[1])} | "
          f"sender CPU µs {show(cols[2])} | both {statistics.median(a + b for a, b in zip(cols[1], cols[2])):7.1f}")
PY

echo "system calls a message (both processes, strace -c -f), the five most frequent:"
for scheme in tcp tls+tcp; do
    run $scheme strace -f -c -o "$work/strace" > /dev/null
    awk -v n=$((count + 20)) -v s=$scheme '
        $NF == "total" { total = $4 }
        $1 ~ /^[0-9.]+$/ && $NF != "total" { calls[$NF] = ($4 ~ /^[0-9]+$/) ? $4 : $5 }
        END {
            printf "  %-8s %.1f:", s, total / n
            for (k = 0; k < 5; k++) {
                best = ""; for (c in calls) if (best == "" || calls[c] > calls[best]) best = c
                printf " %s %.1f", best, calls[best] / n; delete calls[best]
            }
            print ""
        }' "$work/strace"
done

echo "bytes copied a message (memcpy/memmove >= 512 B), in units of SIZE:"
for scheme in tcp tls+tcp; do
    out=$(run $scheme env LD_PRELOAD="$work/tlscopies.so" 2>&1 >/dev/null | grep '^copies')
    # the receiver (this process) prints last: it waits for the sender to end
    echo "$out" | awk -v n=$((count + 20)) -v size="$size" -v s=$scheme '
        { b[NR] = $6 } END { printf "  %-8s sender %.2f  receiver %.2f\n", s,
            b[1] / n / size, b[2] / n / size }'
done
