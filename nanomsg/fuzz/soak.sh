#!/usr/bin/env bash
# The long budget: each wire harness until it has run WIRE_RUNS inputs, the API
# harness until API_RUNS; one libFuzzer process at a time. A crash does not end
# the soak: it is counted (reproducer in $BUILD/artifacts/<harness>/) and the
# harness is restarted for the inputs still to run (at most 20 restarts).
# Prints a table: harness, inputs, seconds, inputs/s, crashes.
#
#   soak.sh BINDIR BUILD FUZZDIR WIRE_RUNS API_RUNS
#
# SOAK_HARNESSES (default "wire-tcp wire-ipc wire-ws api tls") picks the harnesses, e.g. to
# finish a budget an interrupted soak left unfinished.
set -uo pipefail
bin=$1 build=$2 fuzz=$3 wire_runs=$4 api_runs=$5
args=(-timeout=20 -rss_limit_mb=3072 -malloc_limit_mb=1024 -print_final_stats=1)
declare -A R_INPUTS R_SECS R_CRASH
order=()
for h in ${SOAK_HARNESSES:-wire-tcp wire-ipc wire-ws api tls}; do
    [ "$h" = api ] && want=$api_runs || want=$wire_runs
    [ "$want" -gt 0 ] || continue
    order+=("$h")
    mkdir -p "$build/corpus/$h" "$build/artifacts/$h" "$build/soak"
    done_runs=0 crashes=0 secs=0 tries=0
    while [ "$done_runs" -lt "$want" ] && [ "$tries" -lt 20 ]; do
        tries=$((tries + 1))
        log=$build/soak/$h.$tries.log
        t0=$(date +%s.%N)
        "$bin/$h" "${args[@]}" -runs=$((want - done_runs)) \
            -artifact_prefix="$build/artifacts/$h/" \
            "$build/corpus/$h" "$fuzz/corpus/$h" > "$log" 2>&1
        rc=$?
        t1=$(date +%s.%N)
        secs=$(echo "$secs + $t1 - $t0" | bc)
        n=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
        if [ -z "$n" ]; then   # a crash: count the inputs libFuzzer reported last
            n=$(grep -ohE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
        fi
        done_runs=$((done_runs + ${n:-0}))
        if [ "$rc" -ne 0 ]; then
            crashes=$((crashes + 1))
            echo "soak: $h: crash/timeout (exit $rc), see $log" >&2
            grep -h 'Test unit written' "$log" >&2
        fi
    done
    R_INPUTS[$h]=$done_runs R_SECS[$h]=$secs R_CRASH[$h]=$crashes
done
printf '\n%-10s %12s %10s %10s %8s\n' harness inputs seconds inputs/s crashes
total=0 total_crashes=0
for h in "${order[@]}"; do
    rate=$(echo "scale=0; ${R_INPUTS[$h]} / (${R_SECS[$h]} + 0.001)" | bc)
    printf '%-10s %12d %10.0f %10d %8d\n' "$h" "${R_INPUTS[$h]}" "${R_SECS[$h]}" "$rate" "${R_CRASH[$h]}"
    total=$((total + R_INPUTS[$h])) total_crashes=$((total_crashes + R_CRASH[$h]))
done
printf '%-10s %12d %10s %10s %8d\n' total "$total" - - "$total_crashes"
[ "$total_crashes" -eq 0 ]
