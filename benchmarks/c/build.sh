# shellcheck shell=bash
# Sourced by syscalls.sh and rates.sh: builds the C floor and finds free ports.

# build_nnbench hardened|system|DIR OUT: nnbench.c compiled (gcc -O2) on that library
build_nnbench() {
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    case $1 in
        # shellcheck disable=SC2046
        hardened) gcc -O2 -o "$2" "$here/nnbench.c" $("$here/../../nanomsg/link-flags") ;;
        # shellcheck disable=SC2046
        system) gcc -O2 -o "$2" "$here/nnbench.c" $(pkg-config --cflags --libs nanomsg) ;;
        *)
            if [ ! -e "$1/libnanomsg.a" ] || [ ! -e "$1/include/nanomsg/nn.h" ]; then
                echo "usage: ${0##*/} [hardened|system|DIR] ...: DIR holds libnanomsg.a and" \
                    "include/nanomsg/nn.h" >&2
                exit 2
            fi
            gcc -O2 -o "$2" "$here/nnbench.c" -I"$1/include" "$1/libnanomsg.a" -lssl -lcrypto -lpthread -lanl
            ;;
    esac
}

# free_port: a tcp port on 127.0.0.1 that nothing listens on now
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
