#!/usr/bin/env bash
# Who writes a fan-out's messages: the C floor's fan-out (nnbench.c: a PUB and N SUBs over ipc
# in one process, 64 B messages in bursts of 8, each burst received by every SUB before the
# next), untraced, with each thread's system calls counted by `perf stat` on the syscall
# tracepoints (which do not slow the calls down the way strace does). For each N: deliveries
# a second, CPU time a delivery (all threads), and each thread's sendmsg and recvmsg calls a
# delivery. The publishing thread is the program's main thread (the lower thread id); the
# other is the library's worker. A publishing thread that makes more sendmsg calls than the
# worker is writing the copies itself, a subscriber at a time: the bursts are not batched
# (patch 0082 found such a case).
#
#   benchmarks/c/fanout_threads.sh [hardened|system|DIR] [DELIVERIES] [N ...]
#       (default: hardened 2560000 64 128 256)
#
# "hardened" is the archive of the last `make wheel`, "system" the system libnanomsg, DIR a
# directory with a libnanomsg.a and its include/ (see build.sh). Needs perf with access to
# the syscall tracepoints (root). Each run is one figure: on a shared machine they move by
# tens of percent, so run it more than once, alternating the builds compared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${1:-hardened}
deliveries=${2:-2560000}
shift $(($# < 2 ? $# : 2))
widths=("$@")
[ ${#widths[@]} -gt 0 ] || widths=(64 128 256)
command -v perf >/dev/null || { echo "fanout_threads.sh: no perf" >&2; exit 1; }
work=$(mktemp -d /tmp/nnrs-fanout.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=benchmarks/c/build.sh
. "$here/build.sh"
build_nnbench "$lib" "$work/nnbench"

events=syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvmsg
for n in "${widths[@]}"; do
    count=$((deliveries / n / 8 * 8))
    rm -f "$work/in" "$work/out" "$work/stat"
    mkfifo "$work/in"
    "$work/nnbench" fanout "ipc://$work/sock" "$n" 8 <"$work/in" >"$work/out" &
    pid=$!
    exec 3>"$work/in"
    until grep -q '^ready' "$work/out" 2>/dev/null; do sleep 0.05; done
    perf stat --per-thread -x, -e "$events" -p "$pid" -o "$work/stat" &
    stat=$!
    sleep 0.2
    echo "run $count 64 recv" >&3
    until grep -q '^ok\|^err' "$work/out" 2>/dev/null; do sleep 0.05; done
    kill -INT "$stat"
    wait "$stat" || true
    echo quit >&3
    exec 3>&-
    wait "$pid"
    read -r status ns cpu < <(grep '^ok\|^err' "$work/out")
    [ "$status" = ok ] || { echo "fanout_threads.sh: N=$n: $status $ns $cpu" >&2; exit 1; }
    total=$((count * n))
    awk -v n="$n" -v d="$total" -v ns="$ns" -v cpu="$cpu" 'BEGIN {
        printf "N=%-4d %6.2fM deliveries/s, CPU %5.0f ns a delivery;", n, d / (ns / 1e9) / 1e6, cpu / d }'
    # perf's per-thread lines are COMM-TID,COUNT,,EVENT,...: a line per thread and event,
    # sorted by thread id (the publishing thread's is the lower)
    awk -F, -v d="$total" '/syscalls:/ && $2 > 0 {
        n = split($1, t, "-"); ev = $4; sub(/.*sys_enter_/, "", ev)
        printf "%s %s %.3f\n", t[n], ev, $2 / d }' "$work/stat" | sort -n -k1,1 -k2,2 |
        awk '$1 != last { printf " %s:", (last == "" ? "publisher" : "worker"); last = $1 }
             { printf " %s %s", $2, $3 } END { print "" }'
done
