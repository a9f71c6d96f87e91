#!/bin/sh
# etch benchmark: one-key get and put, member list, endpoint status, lease grant and an uncontended
# `lock bench/l true` (grant, queue, run, revoke), side by side against
#   curl     the same JSON gateway request etch makes, from a process that does nothing else: the limit
#   etcdctl  the Go client etch replaces (gRPC)
# all talking to one throwaway etcd on free loopback ports. Reports medians and ratios (machines are shared
# and noisy: compare ratios, not absolute times) plus the peak RSS of one run of each. Then, on the same etcd,
# the bulk section (scripts/bench-bulk.py): 100,000 keys loaded, `get --prefix` over all of them, a watch replay
# of 100,000 revisions and one revision of 100,000 deletes, the watch catch-up of 100,000 keys written in
# transactions of 128 puts (one 24 MB gateway response) in three formats, again etch vs curl vs etcdctl, and
# etch's decode path alone on curl's capture of that response (scripts/bench-decode.py: CPU per MB). Last, the
# snapshot section (scripts/bench-snapshot.py): snapshot save of a database of at least 256 MB, etch vs curl vs
# etcdctl, then snapshot status of the saved file, etch vs etcdctl (scripts/bench-status.py).
# Usage: sh scripts/bench.sh /abs/path/to/etch     (make bench passes the release binary)
# Prints a Markdown table on stdout and writes it to bench-results/latest.md (hyperfine's JSON: bench-results/raw/).
# Tunables (environment): BENCH_RUNS (default 200), BENCH_WARMUP (default 20), BENCH_ROUNDS (default 10);
# BENCH_BULK_KEYS (default 100000; 0 skips the bulk section), BENCH_BULK_ROUNDS (default 3);
# BENCH_SNAPSHOT_MB (default 256; 0 skips the snapshot section), BENCH_SNAPSHOT_ROUNDS (default 3).
set -eu

ETCH=${1:?usage: sh scripts/bench.sh /path/to/etch}
RUNS=${BENCH_RUNS:-200}
WARMUP=${BENCH_WARMUP:-20}
ROUNDS=${BENCH_ROUNDS:-10}
[ -x "$ETCH" ] || { echo "bench: $ETCH is not an executable" >&2; exit 1; }
[ "$ROUNDS" -ge 1 ] && [ "$RUNS" -ge "$ROUNDS" ] || { echo "bench: need BENCH_RUNS >= BENCH_ROUNDS >= 1" >&2; exit 1; }
for tool in etcd etcdctl curl hyperfine python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found (run: sh scripts/install-deps.sh hyperfine)" >&2; exit 1; }
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/bench-results"
mkdir -p "$OUT"

dir=$(mktemp -d "${TMPDIR:-/tmp}/etch-bench.XXXXXX")
ETCD_PID=""

cleanup() {
    if [ -n "$ETCD_PID" ]; then # only the etcd this script started, by PID
        kill "$ETCD_PID" 2>/dev/null || true
        i=0
        while kill -0 "$ETCD_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$ETCD_PID" 2>/dev/null || true
        wait "$ETCD_PID" 2>/dev/null || true
        ETCD_PID=""
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two distinct free loopback ports (client, peer), held open together so they differ.
. "$(dirname "$0")/etcd-lib.sh"
start_etcd bench
E="127.0.0.1:$C"

export ETCDCTL_API=3
unset ETCDCTL_ENDPOINTS 2>/dev/null || true

# Seed and sanity-check: all three must do the same thing, successfully, before anything is timed.
etcdctl --endpoints "$E" put bench/k v >/dev/null
want=$(etcdctl --endpoints "$E" get bench/k)
got=$("$ETCH" --endpoints "$E" get bench/k)
[ "$got" = "$want" ] || { echo "bench: etch get printed '$got', etcdctl '$want'" >&2; exit 1; }
curl -s -XPOST "http://$E/v3/kv/range" -d '{"key":"YmVuY2gvaw=="}' | grep -q '"count":"1"' \
    || { echo "bench: the gateway range request did not find bench/k" >&2; exit 1; }
[ "$("$ETCH" --endpoints "$E" put bench/p v)" = OK ] || { echo "bench: etch put failed" >&2; exit 1; }
curl -s -XPOST "http://$E/v3/kv/put" -d '{"key":"YmVuY2gvcA==","value":"dg=="}' | grep -q '"revision"' \
    || { echo "bench: the gateway put request failed" >&2; exit 1; }
[ "$("$ETCH" --endpoints "$E" member list)" = "$(etcdctl --endpoints "$E" member list)" ] \
    || { echo "bench: etch member list differs from etcdctl's" >&2; exit 1; }
"$ETCH" --endpoints "$E" endpoint status >/dev/null || { echo "bench: etch endpoint status failed" >&2; exit 1; }
"$ETCH" --endpoints "$E" lease grant 60 | grep -q '^lease [0-9a-f]\{16\} granted with TTL(60s)$' \
    || { echo "bench: etch lease grant failed" >&2; exit 1; }
curl -s -XPOST "http://$E/v3/lease/grant" -d '{"TTL":"60"}' | grep -q '"TTL":"60"' \
    || { echo "bench: the gateway lease grant request failed" >&2; exit 1; }
"$ETCH" --endpoints "$E" lock bench/l true || { echo "bench: etch lock bench/l true failed" >&2; exit 1; }
# The lock through curl: the three requests etch makes for `lock bench/l true` (strace shows them: grant, the
# txn that queues the key and reads the holder, revoke), with one fixed lease ID so that the txn can name the
# key without reading the grant's reply; revoking it at the end lets the next run grant it again.
LOCK_ID=1234567890
LOCK_KEY=$(printf 'bench/l/%x' "$LOCK_ID" | base64)
LOCK_RANGE='{"key":"YmVuY2gvbC8=","range_end":"YmVuY2gvbDA=","limit":"1","sort_order":"ASCEND","sort_target":"CREATE"}'
LOCK_TXN="{\"compare\":[{\"result\":\"EQUAL\",\"target\":\"CREATE\",\"key\":\"$LOCK_KEY\",\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"$LOCK_KEY\",\"lease\":\"$LOCK_ID\"}},{\"request_range\":$LOCK_RANGE}],\"failure\":[{\"request_range\":{\"key\":\"$LOCK_KEY\"}},{\"request_range\":$LOCK_RANGE}]}"
lock_curl() {
    curl -s -XPOST "http://$E/v3/lease/grant" -d "{\"TTL\":\"10\",\"ID\":\"$LOCK_ID\"}" \
        --next -s -XPOST "http://$E/v3/kv/txn" -d "$LOCK_TXN" \
        --next -s -XPOST "http://$E/v3/lease/revoke" -d "{\"ID\":\"$LOCK_ID\"}"
}
lock_curl | grep -q '"succeeded":true' || { echo "bench: the gateway lock requests did not take the lock" >&2; exit 1; }
[ -z "$("$ETCH" --endpoints "$E" get --prefix bench/l/)" ] || { echo "bench: a lock key was left behind" >&2; exit 1; }
etcdctl --endpoints "$E" lock bench/l true || { echo "bench: etcdctl lock bench/l true failed" >&2; exit 1; }

# The commands, as hyperfine (--shell=none) splits them: POSIX-shell-style words.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
ETCH_Q=$(q "$ETCH")
GET_ETCH="$ETCH_Q --endpoints $E get bench/k"
GET_CURL="curl -s -XPOST http://$E/v3/kv/range -d '{\"key\":\"YmVuY2gvaw==\"}'"
GET_ETCDCTL="etcdctl --endpoints $E get bench/k"
PUT_ETCH="$ETCH_Q --endpoints $E put bench/p v"
PUT_CURL="curl -s -XPOST http://$E/v3/kv/put -d '{\"key\":\"YmVuY2gvcA==\",\"value\":\"dg==\"}'"
PUT_ETCDCTL="etcdctl --endpoints $E put bench/p v"
MEMBERS_ETCH="$ETCH_Q --endpoints $E member list"
MEMBERS_CURL="curl -s -XPOST http://$E/v3/cluster/member/list -d {}"
MEMBERS_ETCDCTL="etcdctl --endpoints $E member list"
STATUS_ETCH="$ETCH_Q --endpoints $E endpoint status"
STATUS_CURL="curl -s -XPOST http://$E/v3/maintenance/status -d {}"
STATUS_ETCDCTL="etcdctl --endpoints $E endpoint status"
GRANT_ETCH="$ETCH_Q --endpoints $E lease grant 60"
GRANT_CURL="curl -s -XPOST http://$E/v3/lease/grant -d '{\"TTL\":\"60\"}'"
GRANT_ETCDCTL="etcdctl --endpoints $E lease grant 60"
LOCK_ETCH="$ETCH_Q --endpoints $E lock bench/l true"
LOCK_CURL="curl -s -XPOST http://$E/v3/lease/grant -d $(q "{\"TTL\":\"10\",\"ID\":\"$LOCK_ID\"}") --next -s -XPOST http://$E/v3/kv/txn -d $(q "$LOCK_TXN") --next -s -XPOST http://$E/v3/lease/revoke -d $(q "{\"ID\":\"$LOCK_ID\"}")"
LOCK_ETCDCTL="etcdctl --endpoints $E lock bench/l true"

# hyperfine runs all runs of one command before starting the next (it cannot interleave), so a burst of
# noise on a shared machine would land on one command only. So the runs are split into rounds: each round
# is one hyperfine invocation over all three commands, in an order that rotates from round to round, and
# the times of all rounds are merged afterwards. The first round warms up with WARMUP runs, later ones with 3.
PER_ROUND=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
RUNS=$((PER_ROUND * ROUNDS))
rm -rf "$OUT/raw"
mkdir -p "$OUT/raw"
bench_group() { # bench_group NAME ETCH_CMD CURL_CMD ETCDCTL_CMD
    group=$1 e=$2 c=$3 t=$4 r=1
    printf 'bench: %s, %s rounds x %s runs of each command ' "$group" "$ROUNDS" "$PER_ROUND" >&2
    while [ "$r" -le "$ROUNDS" ]; do
        warm=3
        [ "$r" -eq 1 ] && warm=$WARMUP
        case $((r % 3)) in
            1) set -- -n etch "$e" -n curl "$c" -n etcdctl "$t" ;;
            2) set -- -n curl "$c" -n etcdctl "$t" -n etch "$e" ;;
            *) set -- -n etcdctl "$t" -n etch "$e" -n curl "$c" ;;
        esac
        hyperfine -N --style none --warmup "$warm" --runs "$PER_ROUND" \
            --export-json "$OUT/raw/$group-$r.json" "$@" >&2
        printf '.' >&2
        r=$((r + 1))
    done
    echo >&2
}
bench_group get "$GET_ETCH" "$GET_CURL" "$GET_ETCDCTL"
bench_group put "$PUT_ETCH" "$PUT_CURL" "$PUT_ETCDCTL"
bench_group members "$MEMBERS_ETCH" "$MEMBERS_CURL" "$MEMBERS_ETCDCTL"
bench_group status "$STATUS_ETCH" "$STATUS_CURL" "$STATUS_ETCDCTL"
bench_group grant "$GRANT_ETCH" "$GRANT_CURL" "$GRANT_ETCDCTL"
bench_group lock "$LOCK_ETCH" "$LOCK_CURL" "$LOCK_ETCDCTL"

# Peak RSS (KiB) of one run of each, with GNU time; skipped when it cannot be had.
gnu_time() { [ -x /usr/bin/time ] && /usr/bin/time -f %M -o "$dir/rss.probe" true 2>/dev/null; }
if ! gnu_time; then
    sh "$ROOT/scripts/install-deps.sh" time >&2 || true
fi
RSS=""
if gnu_time; then
    rss() { # rss NAME ARGS...: one run, stdout discarded, peak RSS in KiB
        name=$1; shift
        /usr/bin/time -f %M -o "$dir/rss.$name" "$@" >/dev/null
        RSS="$RSS $name=$(tail -n 1 "$dir/rss.$name")"
    }
    rss get_etch "$ETCH" --endpoints "$E" get bench/k
    rss get_curl curl -s -XPOST "http://$E/v3/kv/range" -d '{"key":"YmVuY2gvaw=="}'
    rss get_etcdctl etcdctl --endpoints "$E" get bench/k
    rss put_etch "$ETCH" --endpoints "$E" put bench/p v
    rss put_curl curl -s -XPOST "http://$E/v3/kv/put" -d '{"key":"YmVuY2gvcA==","value":"dg=="}'
    rss put_etcdctl etcdctl --endpoints "$E" put bench/p v
else
    echo "bench: GNU time (/usr/bin/time -f) unavailable; skipping peak RSS" >&2
fi

# The bulk section, on the same etcd (after the one-key timings, so its 100,000 keys do not weigh on them).
# bench-bulk.py kills what it starts by PID; its Markdown is appended to the report below.
BULK_KEYS=${BENCH_BULK_KEYS:-100000}
: > "$dir/bulk.md"
if [ "$BULK_KEYS" -gt 0 ]; then
    if [ -n "$RSS" ]; then
        BENCH_BULK_KEYS=$BULK_KEYS python3 "$ROOT/scripts/bench-bulk.py" "$ETCH" "$E" "$dir" > "$dir/bulk.md"
    else
        printf '\nBulk section: not run (it needs GNU time for peak RSS).\n' > "$dir/bulk.md"
    fi
fi

# The snapshot section, on the same etcd (it grows the database to BENCH_SNAPSHOT_MB megabytes, default 256, with
# 1 MB values; 0 skips it): snapshot save by etch, the same gateway stream by curl, and etcdctl's save.
SNAP_MB=${BENCH_SNAPSHOT_MB:-256}
: > "$dir/snapshot.md"
if [ "$SNAP_MB" -gt 0 ]; then
    if [ -n "$RSS" ]; then
        BENCH_SNAPSHOT_MB=$SNAP_MB python3 "$ROOT/scripts/bench-snapshot.py" "$ETCH" "$E" "$dir" > "$dir/snapshot.md"
    else
        printf '\nSnapshot section: not run (it needs GNU time for peak RSS).\n' > "$dir/snapshot.md"
    fi
fi
# snapshot status of the file the snapshot section saved (etch vs etcdctl; CPU time, the same JSON checked first).
if [ -f "$dir/etch.db" ]; then
    python3 "$ROOT/scripts/bench-status.py" "$ETCH" "$dir/etch.db" >> "$dir/snapshot.md"
fi

# The machine and the versions, for the table's header.
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
BENCH_MACHINE="$(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -srm)"
# The commit checked out, and whether Sources/ or Package.swift differ from it (read-only git commands only).
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)
if [ -n "$rev" ] && ! git -C "$ROOT" diff-index --quiet HEAD -- Sources Package.swift 2>/dev/null; then
    rev="$rev, with uncommitted changes to Sources/ or Package.swift"
fi
BENCH_ETCH="etch $("$ETCH" --endpoints "$E" version | sed -n 's/^etch version: //p')${rev:+ (checkout: commit $rev)}"
BENCH_ETCD="etcd $(etcd --version | sed -n 's/^etcd Version: //p')"
BENCH_ETCDCTL="etcdctl $(etcdctl version | sed -n 's/^etcdctl version: //p')"
BENCH_CURL=$(curl --version | head -n 1 | cut -d' ' -f1-2)
BENCH_HYPERFINE=$(hyperfine --version)
export BENCH_DATE BENCH_MACHINE BENCH_ETCH BENCH_ETCD BENCH_ETCDCTL BENCH_CURL BENCH_HYPERFINE
export BENCH_RUNS="$RUNS" BENCH_WARMUP="$WARMUP" BENCH_RSS="$RSS"

python3 - "$OUT/raw" "$ROUNDS" > "$OUT/latest.md" <<'PY'
import json, os, statistics as st, sys

env = os.environ
raw, rounds = sys.argv[1], int(sys.argv[2])
tools = ("etch", "curl", "etcdctl")
ms = lambda s: f"{s * 1000:.2f} ms"

def load(group):
    """All rounds' wall times per command, and each round's median per command."""
    times = {t: [] for t in tools}
    cpu = {t: [] for t in tools}  # (user, system) mean seconds of each round
    per_round = []
    for r in range(1, rounds + 1):
        with open(os.path.join(raw, f"{group}-{r}.json")) as f:
            res = {x["command"]: x for x in json.load(f)["results"]}
        for t in tools:
            times[t] += res[t]["times"]
            cpu[t].append((res[t]["user"], res[t]["system"]))
        per_round.append({t: st.median(res[t]["times"]) for t in tools})
    return times, per_round, cpu

groups = [("get one key",) + load("get"), ("put one key",) + load("put"),
          ("member list",) + load("members"), ("endpoint status",) + load("status"),
          ("lease grant",) + load("grant"), ("lock, run true, release",) + load("lock")]

def ratio(times, per_round, cpu, other):
    whole = st.median(times["etch"]) / st.median(times[other])
    each = [p["etch"] / p[other] for p in per_round]
    return f"{whole:.2f}x ({min(each):.2f}–{max(each):.2f})" if len(each) > 1 else f"{whole:.2f}x"

n = len(groups[0][1]["etch"])
print(f"## etch benchmark, {env['BENCH_DATE']}")
print()
print(f"- machine: {env['BENCH_MACHINE']}")
print(f"- {env['BENCH_ETCH']}; {env['BENCH_ETCD']}; {env['BENCH_ETCDCTL']}; {env['BENCH_CURL']}; {env['BENCH_HYPERFINE']}")
print(f"- one throwaway etcd on loopback; hyperfine --shell=none; {n} timed runs of each command in {rounds} rounds "
      f"(each round one hyperfine invocation of all three, order rotating; {env['BENCH_WARMUP']} warmup runs "
      "of each in the first round, 3 in later ones)")
print()
print("Median wall time per command, over all runs (lower is better). Ratios are etch's median over the other's; "
      "in brackets the lowest and highest ratio of the per-round medians, a gauge of the noise.")
print()
print("| operation | etch | curl (limit) | etcdctl | etch / curl | etch / etcdctl |")
print("|---|---:|---:|---:|---:|---:|")
for name, times, per_round, cpu in groups:
    m = {t: st.median(times[t]) for t in tools}
    print(f"| {name} | {ms(m['etch'])} | {ms(m['curl'])} | {ms(m['etcdctl'])} "
          f"| {ratio(times, per_round, cpu, 'curl')} | {ratio(times, per_round, cpu, 'etcdctl')} |")
print()
print("Spread over all runs, and the CPU time the client process itself used (mean user and system, from hyperfine):")
print()
print("| operation | command | mean ± σ | min | max | user | system |")
print("|---|---|---:|---:|---:|---:|---:|")
for name, times, _, cpu in groups:
    for t in tools:
        x = times[t]
        sd = st.stdev(x) if len(x) > 1 else 0.0
        user = st.mean(u for u, _ in cpu[t])
        system = st.mean(s for _, s in cpu[t])
        print(f"| {name} | {t} | {ms(st.mean(x))} ± {sd * 1000:.2f} | {ms(min(x))} | {ms(max(x))} "
              f"| {ms(user)} | {ms(system)} |")

rss = dict(kv.split("=", 1) for kv in env.get("BENCH_RSS", "").split())
print()
if rss:
    mib = lambda k: f"{int(rss[k]) / 1024:.1f} MiB"
    print("Peak RSS of one run (GNU time %M):")
    print()
    print("| operation | etch | curl | etcdctl |")
    print("|---|---:|---:|---:|")
    for op in ("get", "put"):
        print(f"| {op} one key | {mib(op + '_etch')} | {mib(op + '_curl')} | {mib(op + '_etcdctl')} |")
else:
    print("Peak RSS: not measured (GNU time unavailable).")
PY
cat "$dir/bulk.md" >> "$OUT/latest.md"
cat "$dir/snapshot.md" >> "$OUT/latest.md"

cat "$OUT/latest.md"
