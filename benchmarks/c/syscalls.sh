#!/usr/bin/env bash
# System calls per message of libnanomsg itself, counted with `strace -c -f`: the C floor
# (nnbench.c) on our hardened library, on the system's, or on another build, for
#   - pingpong: PAIR over inproc, one thread, send then recv of 64 B (COUNT round trips);
#   - throughput: PUSH -> PULL over ipc, then over tcp, two processes, COUNT messages of
#     64 B (each side);
#   - fan-out: a PUB and 16 SUBs over tcp in one process, COUNT/5 messages of 64 B published
#     in bursts of 100, each received by every SUB (calls per published message, all
#     sockets together).
#
#   benchmarks/c/syscalls.sh [hardened|system|DIR] [COUNT]     (default: hardened 100000)
#
# "hardened" is the archive of the last `make wheel` (nanomsg/link-flags), "system" the
# system libnanomsg (pkg-config), DIR a directory with a libnanomsg.a and its include/ (e.g.
# a prepared tree built by hand, to compare a series with and without a patch). Counts include
# each program's set-up (about 100 calls), which is nothing per message at this COUNT. strace
# slows every call down, so the rates it prints are not the library's: only the counts are
# (benchmarks/c/rates.sh measures rates, untraced).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${1:-hardened}
count=${2:-100000}
command -v strace >/dev/null || { echo "syscalls.sh: no strace" >&2; exit 1; }
work=$(mktemp -d /tmp/nnrs-syscalls.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=benchmarks/c/build.sh
. "$here/build.sh"
build_nnbench "$lib" "$work/nnbench"

# per_message STRACE_FILE N -> "total per-message (the three most frequent calls)"
per_message() {
    awk -v n="$2" '
        $NF == "total" { total = $4 }
        $1 ~ /^[0-9.]+$/ && $NF != "total" { calls[$NF] = ($4 ~ /^[0-9]+$/) ? $4 : $5 }
        END {
            printf "%.3f a message (%d calls:", total / n, total
            k = 0
            while (k < 3) {
                best = ""; for (c in calls) if (best == "" || calls[c] > calls[best]) best = c
                if (best == "") break
                printf " %s %d", best, calls[best]; delete calls[best]; k++
            }
            printf ")\n"
        }' "$1"
}

printf 'run %s 64 recv\nquit\n' "$count" \
    | strace -c -f -o "$work/pingpong.strace" "$work/nnbench" pingpong inproc://syscalls >/dev/null
echo "$lib, pingpong inproc 64 B:  $(per_message "$work/pingpong.strace" "$count")"

# push_pull ADDRESS NAME: PUSH -> PULL in two traced processes
push_pull() {
    rm -f "$work"/pull.* "$work"/push.*
    mkfifo "$work/pull.in" "$work/push.in"
    strace -c -f -o "$work/pull.strace" "$work/nnbench" pull "$1" <"$work/pull.in" >"$work/pull.out" &
    exec 3>"$work/pull.in"
    sleep 0.5
    echo "run $count 64 recv" >&3
    strace -c -f -o "$work/push.strace" "$work/nnbench" push "$1" <"$work/push.in" >"$work/push.out" &
    exec 4>"$work/push.in"
    echo "run $count 64 recv" >&4
    until grep -q '^ok\|^err' "$work/pull.out" 2>/dev/null; do sleep 0.2; done
    until grep -q '^ok\|^err' "$work/push.out" 2>/dev/null; do sleep 0.2; done
    echo quit >&3
    echo quit >&4
    exec 3>&- 4>&-
    wait
    echo "$lib, $2 PUSH side 64 B:   $(per_message "$work/push.strace" "$count")"
    echo "$lib, $2 PULL side 64 B:   $(per_message "$work/pull.strace" "$count")"
}
push_pull "ipc://$work/ipc" ipc
push_pull "tcp://127.0.0.1:$(free_port)" tcp

published=$((count / 5))
printf 'run %s 64 recv\nquit\n' "$published" \
    | strace -c -f -o "$work/fanout.strace" "$work/nnbench" fanout "tcp://127.0.0.1:$(free_port)" 16 100 >/dev/null
echo "$lib, fan-out to 16 SUBs tcp 64 B: $(per_message "$work/fanout.strace" "$published") per published message"
