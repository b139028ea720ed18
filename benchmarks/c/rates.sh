#!/usr/bin/env bash
# Rates of libnanomsg itself, untraced, with the C floor (nnbench.c): quick runs, for a before
# and after of a change to the library (the full comparison with the bindings is run.py's).
#   - throughput: PUSH -> PULL over ipc, then tcp, two processes, COUNT messages of 64 B,
#     RUNS times each: msg/s at the PULL side (first message to last) and CPU us a message
#     of each process;
#   - latency: REQ -> REP over tcp, 64 B, COUNT/5 round trips, RUNS times: us a round trip;
#   - fan-out: a PUB and 16 SUBs over tcp in one process, COUNT/5 messages in bursts of 100:
#     messages delivered a second.
#
#   benchmarks/c/rates.sh [hardened|system|DIR] [COUNT] [RUNS]   (default: hardened 100000 3)
#
# Each run is one figure: on a shared machine they move by tens of percent, so give them all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${1:-hardened}
count=${2:-100000}
runs=${3:-3}
work=$(mktemp -d /tmp/nnrs-rates.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=benchmarks/c/build.sh
. "$here/build.sh"
build_nnbench "$lib" "$work/nnbench"

# push_pull ADDRESS -> "RATE msg/s (cpu PULL/PUSH us)"
push_pull() {
    rm -f "$work"/pull.* "$work"/push.*
    mkfifo "$work/pull.in" "$work/push.in"
    "$work/nnbench" pull "$1" <"$work/pull.in" >"$work/pull.out" &
    exec 3>"$work/pull.in"
    sleep 0.3
    echo "run $count 64 recv" >&3
    "$work/nnbench" push "$1" <"$work/push.in" >"$work/push.out" &
    exec 4>"$work/push.in"
    echo "run $count 64 recv" >&4
    until grep -q '^ok\|^err' "$work/pull.out" 2>/dev/null; do sleep 0.1; done
    until grep -q '^ok\|^err' "$work/push.out" 2>/dev/null; do sleep 0.1; done
    echo quit >&3
    echo quit >&4
    exec 3>&- 4>&-
    wait
    read -r _ pull_ns pull_cpu < <(grep '^ok' "$work/pull.out")
    read -r _ _ push_cpu < <(grep '^ok' "$work/push.out")
    awk -v n="$count" -v ns="$pull_ns" -v pc="$pull_cpu" -v sc="$push_cpu" \
        'BEGIN { printf "%.0f msg/s (cpu %.2f/%.2f us)", n / (ns / 1e9), pc / 1e3 / n, sc / 1e3 / n }'
}

for transport in ipc tcp; do
    line=""
    for _ in $(seq "$runs"); do
        if [ "$transport" = ipc ]; then address="ipc://$work/ipc"; else address="tcp://127.0.0.1:$(free_port)"; fi
        line="$line  $(push_pull "$address")"
    done
    echo "$lib, $transport PUSH->PULL 64 B, msg/s (cpu us a message, PULL/PUSH):$line"
done

trips=$((count / 5))
address="tcp://127.0.0.1:$(free_port)"
"$work/nnbench" rep "$address" </dev/null >/dev/null &
rep=$!
sleep 0.3
line=$( (for _ in $(seq "$runs"); do echo "run $trips 64 recv"; done; echo quit) \
    | "$work/nnbench" req "$address" | awk -v n="$trips" '/^ok/ { printf "  %.1f", $2 / 1e3 / n }')
kill "$rep"
wait "$rep" 2>/dev/null || true
echo "$lib, REQ/REP tcp 64 B, us a round trip:$line"

line=""
for _ in $(seq "$runs"); do
    line="$line  $(printf 'run %s 64 recv\nquit\n' "$trips" \
        | "$work/nnbench" fanout "tcp://127.0.0.1:$(free_port)" 16 100 \
        | awk -v n="$trips" '/^ok/ { printf "%.0f", n * 16 / ($2 / 1e9) }')"
done
echo "$lib, fan-out to 16 SUBs tcp 64 B, delivered/s:$line"
