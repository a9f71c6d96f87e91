#!/bin/sh
# A short narrated etch session against a throwaway etcd on free loopback ports.
# Usage: sh scripts/demo.sh /abs/path/to/etch      (make demo passes the release binary)
# Everything it starts (etcd, the background watch) is stopped by PID on exit, and its temp dir removed.
set -eu

ETCH=${1:?usage: sh scripts/demo.sh /path/to/etch}
[ -x "$ETCH" ] || { echo "demo: $ETCH is not an executable" >&2; exit 1; }
command -v etcd >/dev/null 2>&1 || { echo "demo: etcd not found (run: sh scripts/install-deps.sh)" >&2; exit 1; }
command -v curl >/dev/null 2>&1 || { echo "demo: curl not found (run: sh scripts/install-deps.sh)" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/etch-demo.XXXXXX")
ETCD_PID=""
WATCH_PID=""

stop_pid() { # stop_pid PID: TERM, wait up to ~5s, then KILL; only ever a PID this script started
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    stop_pid "$WATCH_PID"; WATCH_PID=""
    stop_pid "$ETCD_PID"; ETCD_PID=""
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two distinct free loopback ports (client, peer), held open together so they differ.
. "$(dirname "$0")/etcd-lib.sh"
start_etcd demo

say() { printf '\n# %s\n' "$*"; }
run() { # run ARGS...: show "$ etch ARGS" then run it
    printf '$ etch %s\n' "$*"
    "$ETCH" "$@"
}

say "A throwaway etcd $(etcd --version | sed -n 's/^etcd Version: //p') is listening on 127.0.0.1:$C."
say "etch reads the same ETCDCTL_* variables as etcdctl, so point it there once:"
echo "\$ export ETCDCTL_ENDPOINTS=127.0.0.1:$C"
export ETCDCTL_ENDPOINTS="127.0.0.1:$C"
sleep 1

say "Write a key and read it back."
run put greeting hello
run get greeting
sleep 1

say "The same read as etcd's JSON response (revisions, raft term, base64 key and value):"
# jq only when it prints 64-bit integers exactly (jq 1.6 rounds cluster_id/member_id through doubles).
if command -v jq >/dev/null 2>&1 && [ "$(echo 3378344134229820417 | jq . 2>/dev/null)" = 3378344134229820417 ]; then
    printf '$ etch get greeting -w json | jq .\n'
    "$ETCH" get greeting -w json | jq .
else
    run get greeting -w json
fi
sleep 1

say "Watch everything under demo/ in the background; events appear as they happen."
printf '$ etch watch --prefix demo/ &\n'
"$ETCH" watch --prefix demo/ &
WATCH_PID=$!
sleep 1

run put demo/a apple
sleep 1
run put demo/b banana
sleep 1
run del demo/a
sleep 1

say "Stop the watch."
printf '$ kill %%1\n'
stop_pid "$WATCH_PID"; WATCH_PID=""

say "Delete everything left under demo/ (prints how many keys went)."
run del --prefix demo/
run get --prefix demo/
sleep 1

say "Versions:"
run version

say "Done; stopping etcd and removing $dir."
exit 0
