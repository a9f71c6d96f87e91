# Sourced by demo.sh and bench.sh: starts a throwaway etcd on two free loopback ports in "$dir" (which the
# caller created and cleans up) and waits until it is healthy. Sets C (client port), P (peer port), ETCD_PID.
# $1 names the caller in messages.
start_etcd() {
    set -- "$1" $(python3 -c 'import socket
a = socket.socket(); b = socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
    C=$2 P=$3
    etcd --name demo --data-dir "$dir/data" \
        --listen-client-urls "http://127.0.0.1:$C" --advertise-client-urls "http://127.0.0.1:$C" \
        --listen-peer-urls "http://127.0.0.1:$P" --initial-advertise-peer-urls "http://127.0.0.1:$P" \
        --initial-cluster "demo=http://127.0.0.1:$P" > "$dir/etcd.log" 2>&1 &
    ETCD_PID=$!
    i=0
    until curl -sf "http://127.0.0.1:$C/health" >/dev/null 2>&1; do
        if ! kill -0 "$ETCD_PID" 2>/dev/null || [ $i -ge 100 ]; then
            echo "$1: etcd did not become healthy on 127.0.0.1:$C; its log:" >&2
            tail -n 20 "$dir/etcd.log" >&2
            exit 1
        fi
        sleep 0.1; i=$((i + 1))
    done
}
