#!/usr/bin/env bash
# System calls per message of libnanomsg itself, counted with `strace -c -f`: the C floor
# (nnbench.c) on our hardened library or on the system's, for
#   - pingpong: PAIR over inproc, one thread, send then recv of 64 B (COUNT round trips);
#   - throughput: PUSH -> PULL over ipc, two processes, COUNT messages of 64 B (each side).
#
#   benchmarks/c/syscalls.sh [hardened|system] [COUNT]     (default: hardened 100000)
#
# "hardened" is the archive of the last `make wheel` (nanomsg/link-flags), "system" the
# system libnanomsg (pkg-config). Counts include each program's set-up (about 100 calls),
# which is nothing per message at this COUNT. strace slows every call down, so the rates it
# prints are not the library's: only the counts are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${1:-hardened}
count=${2:-100000}
command -v strace >/dev/null || { echo "syscalls.sh: no strace" >&2; exit 1; }
work=$(mktemp -d /tmp/nnrs-syscalls.XXXXXX)
trap 'rm -rf "$work"' EXIT

case $lib in
    # shellcheck disable=SC2046
    hardened) gcc -O2 -o "$work/nnbench" "$here/nnbench.c" $("$here/../../nanomsg/link-flags") ;;
    # shellcheck disable=SC2046
    system) gcc -O2 -o "$work/nnbench" "$here/nnbench.c" $(pkg-config --cflags --libs nanomsg) ;;
    *) echo "usage: syscalls.sh [hardened|system] [COUNT]" >&2; exit 2 ;;
esac

# per_message STRACE_FILE -> "total per-message (the three most frequent calls)"
per_message() {
    awk -v n="$count" '
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
echo "$lib, pingpong inproc 64 B:  $(per_message "$work/pingpong.strace")"

addr="ipc://$work/ipc"
mkfifo "$work/pull.in" "$work/push.in"
strace -c -f -o "$work/pull.strace" "$work/nnbench" pull "$addr" <"$work/pull.in" >"$work/pull.out" &
exec 3>"$work/pull.in"
sleep 0.5
echo "run $count 64 recv" >&3
strace -c -f -o "$work/push.strace" "$work/nnbench" push "$addr" <"$work/push.in" >"$work/push.out" &
exec 4>"$work/push.in"
echo "run $count 64 recv" >&4
until grep -q '^ok\|^err' "$work/pull.out" 2>/dev/null; do sleep 0.2; done
until grep -q '^ok\|^err' "$work/push.out" 2>/dev/null; do sleep 0.2; done
echo quit >&3
echo quit >&4
exec 3>&- 4>&-
wait
echo "$lib, ipc PUSH side 64 B:   $(per_message "$work/push.strace")"
echo "$lib, ipc PULL side 64 B:   $(per_message "$work/pull.strace")"
