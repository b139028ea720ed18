#!/usr/bin/env bash
# Runs nanomsg-rs under valgrind's memcheck and fails on invalid memory use by our extension.
#
#   tools/memcheck.sh                      # the workload (tools/memcheck_workload.py), 50 rounds
#   tools/memcheck.sh --fast               # the same, 10 rounds (what the test suite runs)
#   tools/memcheck.sh --rounds 500         # longer
#   tools/memcheck.sh --pytest tests/test_message.py -k recv   # a pytest selection instead
#   tools/memcheck.sh --track-origins ...  # slower, says where uninitialised values come from
#
# Environment: PY (the interpreter; default: the real one behind `python3`, not a pyenv shim,
# which valgrind would trace instead of Python), KEEP=1 keeps the XML report.
#
# CPython runs with PYTHONMALLOC=malloc (so valgrind sees every allocation) and
# PYTHONHASHSEED=0; tools/valgrind.supp silences CPython's own noise and nothing else.
# Exit status: 0 clean; 1 an error (invalid read/write/free, uninitialised value, bad syscall
# parameter...) with a frame in our extension (_native*.so); 2 unsuppressed errors elsewhere
# only (listed: a libnanomsg or CPython problem, or noise for valgrind.supp); 3 the workload
# failed; 4 valgrind is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
rounds=50
track=()
mode=workload
pytest_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --fast) rounds=10; shift ;;
        --rounds) rounds="$2"; shift 2 ;;
        --track-origins) track=(--track-origins=yes); shift ;;
        --pytest) mode=pytest; shift; pytest_args=("$@"); break ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "memcheck.sh: unknown option $1" >&2; exit 3 ;;
    esac
done

if ! command -v valgrind >/dev/null 2>&1; then
    echo "memcheck.sh: valgrind is not installed" >&2
    exit 4
fi
PY="${PY:-$(python3 -c 'import sys; print(sys.executable)')}"

xml="$(mktemp "${TMPDIR:-/tmp}/memcheck-XXXXXX.xml")"
cleanup() { [[ "${KEEP:-0}" == 1 ]] && echo "report kept: $xml" >&2 || rm -f "$xml"; }
trap cleanup EXIT

if [[ "$mode" == pytest ]]; then
    cmd=("$PY" -m pytest -q -p no:cacheprovider -p no:randomly "${pytest_args[@]}")
else
    cmd=("$PY" "$here/memcheck_workload.py" --rounds "$rounds")
fi

set +e
(
    cd "$root"
    PYTHONMALLOC=malloc PYTHONHASHSEED=0 valgrind \
        --tool=memcheck \
        --error-exitcode=99 \
        --leak-check=no --errors-for-leak-kinds=none --show-leak-kinds=none \
        --suppressions="$here/valgrind.supp" \
        --num-callers=40 \
        "${track[@]}" \
        --xml=yes --xml-file="$xml" \
        "${cmd[@]}"
)
status=$?
"$PY" "$here/memcheck_report.py" "$xml"
verdict=$?
set -e
if [[ $verdict -ne 0 ]]; then
    exit $verdict
fi
if [[ $status -ne 0 && $status -ne 99 ]]; then
    echo "memcheck.sh: the program under valgrind failed (status $status)" >&2
    exit 3
fi
echo "memcheck.sh: clean"
