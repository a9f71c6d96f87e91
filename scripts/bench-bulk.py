#!/usr/bin/env python3
"""The bulk part of `make bench` (called by scripts/bench.sh on its throwaway etcd).

Usage: python3 scripts/bench-bulk.py ETCH ENDPOINT WORKDIR
  ETCH      absolute path of the etch binary
  ENDPOINT  host:port of the throwaway etcd (127.0.0.1 only)
  WORKDIR   a scratch directory the caller removes afterwards

Loads N keys bulk/%06d with 100-byte values (one put each, so one revision each), then times
  1. `get bulk/ --prefix` (simple and -w json): etch vs curl of the same gateway range in one POST vs etcdctl;
  2. watch replay of the N events from the first key's revision: etch (--max-events N, until it exits) vs curl
     of the same gateway watch (until the line with the N-th event has arrived) vs etcdctl (likewise, then killed);
  3. one revision with N DELETE events (`etch del bulk/ --prefix`), watched the same three ways;
  4. live latency: 1,000 puts, each timed from the put until its event line is read from the watcher's stdout
     pipe (etch, curl's gateway watch, etcdctl), p50/p99;
  5. the memory runs: M keys (default 1,000,000) loaded in transactions of 128 puts, then one `get --prefix` of
     all of them (simple and json) and one watch replay of all M events, each once, with peak RSS;
  6. make-mirror's initial copy of the N keys into a fresh second etcd: etch (transactions of 128 puts) vs
     etcdctl (one put per key), timed from the start until the destination counts N keys under bulk/ (a
     count_only range polled every 50 ms), then the mirror and the destination are killed.
Rounds alternate the commands in a rotating order; the report gives medians, etch's ratios and peak RSS
(GNU time -f %M). Prints a Markdown section on stdout, progress on stderr.
Environment: BENCH_BULK_KEYS (default 100000), BENCH_BULK_ROUNDS (3, for the watch replays),
BENCH_BULK_GET_ROUNDS (9, for the gets: about a second each, and the noisiest), BENCH_BULK_CONNS (8 parallel loaders),
BENCH_LATENCY_PUTS (1000; 0 skips 4), BENCH_HUGE_KEYS (1000000; 0 skips 5), BENCH_MIRROR_ROUNDS (1: etcdctl's copy
of 100,000 keys takes minutes; 0 skips 6), BENCH_TXN_KEYS (100000; 0 skips the transaction catch-up), BENCH_TXN_ROUNDS (5).
"""
import base64, http.client, json, os, select, shutil, signal, statistics as st, subprocess, sys, threading, time

ETCH, E, WORK = sys.argv[1:4]
N = int(os.environ.get("BENCH_BULK_KEYS", "100000"))
ROUNDS = int(os.environ.get("BENCH_BULK_ROUNDS", "3"))
GET_ROUNDS = int(os.environ.get("BENCH_BULK_GET_ROUNDS", "9"))
CONNS = int(os.environ.get("BENCH_BULK_CONNS", "8"))
LAT_PUTS = int(os.environ.get("BENCH_LATENCY_PUTS", "1000"))
HUGE = int(os.environ.get("BENCH_HUGE_KEYS", "1000000"))
MIRROR_ROUNDS = int(os.environ.get("BENCH_MIRROR_ROUNDS", "1"))
MIRROR_LIMIT = 900.0  # seconds before a mirror's copy is given up
TXN = int(os.environ.get("BENCH_TXN_KEYS", "100000"))
TXN_ROUNDS = int(os.environ.get("BENCH_TXN_ROUNDS", "5"))
TXN_FORMATS = ("simple", "json", "jsonl")
WATCH_LIMIT = 180.0  # seconds before a watch run is given up
HOST, PORT = E.rsplit(":", 1)
assert HOST == "127.0.0.1", "bench-bulk: loopback only"
GNU_TIME = "/usr/bin/time"
b64 = lambda s: base64.b64encode(s.encode()).decode()
children = []  # every Popen we start, killed by PID at exit


def log(*a):
    print("bench-bulk:", *a, file=sys.stderr, flush=True)


def kill_children():
    for p in children:  # each started in its own process group: kill that group, by this PID, if still running
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()


def post(conn, path, body):
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"bench-bulk: {path} answered {r.status}: {data[:200]!r}")
    return json.loads(data)


def value(i):
    return (f"value-{i:06d}-" + "x" * 100)[:100]


def load():
    """bulk/000000 first (its revision is R, the lowest), then the rest over CONNS keep-alive connections."""
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    r0 = int(post(c, "/v3/kv/put", {"key": b64("bulk/000000"), "value": b64(value(0))})["header"]["revision"])
    c.close()

    def worker(k, conn):
        for i in range(1 + k, N, CONNS):
            post(conn, "/v3/kv/put", {"key": b64(f"bulk/{i:06d}"), "value": b64(value(i))})

    in_parallel(worker, "bulk/")
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    got = post(c, "/v3/kv/range", {"key": b64("bulk/"), "range_end": b64("bulk0"), "count_only": True})
    c.close()
    if int(got.get("count", 0)) != N:
        raise SystemExit(f"bench-bulk: loaded {got.get('count')} keys, not {N}")
    return r0


def load_txn(prefix, n):
    """n keys prefix%07d with 100-byte values, 128 puts per transaction (etcd's default limit), over CONNS
    connections: fast enough to load a million keys in a benchmark. Returns the first revision."""
    revs = []
    batches = [(i, min(n, i + 128)) for i in range(0, n, 128)]

    def worker(k, conn):
        for lo, hi in batches[k::CONNS]:
            ops = [{"request_put": {"key": b64(f"{prefix}{i:07d}"), "value": b64(value(i))}} for i in range(lo, hi)]
            revs.append(int(post(conn, "/v3/kv/txn", {"success": ops})["header"]["revision"]))

    in_parallel(worker, prefix)
    return min(revs)


def load_txn_timed(prefix, n):
    """load_txn with a log line: (first revision, seconds taken)."""
    log(f"loading {n} keys {prefix}... in transactions of 128 puts")
    t0 = time.monotonic()
    first = load_txn(prefix, n)
    return first, time.monotonic() - t0


def in_parallel(worker, what):
    """Runs worker(k, connection) for k in 0..<CONNS, each on a thread with a keep-alive connection of its own;
    the first failure ends the benchmark."""
    errors = []

    def run(k):
        try:
            conn = http.client.HTTPConnection(HOST, int(PORT), timeout=60)
            worker(k, conn)
            conn.close()
        except BaseException as e:  # reported below
            errors.append(e)

    t = [threading.Thread(target=run, args=(k,)) for k in range(CONNS)]
    for x in t:
        x.start()
    for x in t:
        x.join()
    if errors:
        raise SystemExit(f"bench-bulk: loading {what} failed: {errors[0]!r}")


def latency(name, argv, marker, puts):
    """Starts a watcher (argv) on lat/ with stdout on a pipe; for each put of lat/<i>, the time from just before
    the put request until marker(i) has been read from the pipe. Returns the sorted latencies in seconds."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    children.append(p)
    fd = p.stdout.fileno()
    conn = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    seen = bytearray()

    def wait_for(m, limit):
        nonlocal seen
        end = time.monotonic() + limit
        while m not in seen:
            left = end - time.monotonic()
            if left <= 0 or p.poll() is not None:
                raise SystemExit(f"bench-bulk: {name} watch did not show {m!r}")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise SystemExit(f"bench-bulk: {name} watch ended")
                seen += chunk
        seen = seen[seen.index(m) + len(m):]

    try:
        # Ready once a first put shows up (the watch may need a moment to be created).
        deadline = time.monotonic() + 10
        while True:
            post(conn, "/v3/kv/put", {"key": b64("lat/ready"), "value": b64("r")})
            try:
                wait_for(marker("ready"), 0.5)
                break
            except SystemExit:
                if time.monotonic() > deadline:
                    raise
        out = []
        for i in range(puts):
            t0 = time.monotonic()
            post(conn, "/v3/kv/put", {"key": b64(f"lat/{i:04d}"), "value": b64(f"v{i}")})
            wait_for(marker(f"{i:04d}"), 10)
            out.append(time.monotonic() - t0)
        return sorted(out)
    finally:
        conn.close()
        p.kill()
        p.wait()


def count_in_file(path, needle):
    """Occurrences of needle in a file read in 1 MiB chunks (an occurrence across two chunks counts once)."""
    n, tail = 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            data = tail + chunk
            n += data.count(needle)
            tail = data[-(len(needle) - 1):]
    return n


def pct(xs, q):
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def current_revision():
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    rev = int(post(c, "/v3/kv/range", {"key": b64("bulk/"), "count_only": True})["header"]["revision"])
    c.close()
    return rev


def timed(name, argv, out=os.devnull):
    """One run under GNU time, stdout to `out`: (wall seconds, peak RSS KiB)."""
    rss = os.path.join(WORK, f"bulk-rss.{name}")
    with open(out, "wb") as f:
        t0 = time.monotonic()
        # its own process group (GNU time and the command), so kill_children can end both by the group's PID
        p = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", rss] + argv, stdout=f, start_new_session=True)
        children.append(p)
        try:
            rc = p.wait(timeout=WATCH_LIMIT)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"bench-bulk: {name} ran over {WATCH_LIMIT:.0f} s")
        wall = time.monotonic() - t0
    if rc != 0:
        raise SystemExit(f"bench-bulk: {name} exited with {rc}: {argv}")
    with open(rss) as f:
        return wall, int(f.read().split()[-1])


def poll_until(name, p, t0, limit, pause, step):
    """Calls step() -> (result or None, progress) every `pause` seconds until it has a result; fails when the
    process p exits first or `limit` seconds have passed since t0."""
    while True:
        result, progress = step()
        if result is not None:
            return result
        if p.poll() is not None:
            raise SystemExit(f"bench-bulk: {name} exited ({p.returncode}) {progress}")
        if time.monotonic() - t0 > limit:
            raise SystemExit(f"bench-bulk: {name} ran {limit:.0f} s {progress}")
        time.sleep(pause)


def until_events(name, argv, out, n=None, needle=b'"kv":'):
    """Start argv with stdout to `out`, poll the file, stop when the line holding the n-th event (default N) has
    arrived (events counted as `needle`: `"kv":` members, one per event in both the gateway's and etcdctl's JSON;
    b"PUT" for the simple format, a line of its own per event); then kill it. Returns (seconds, lines, events)."""
    n = N if n is None else n
    with open(out, "wb") as f:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.DEVNULL, start_new_session=True)
        children.append(p)
    lines = complete = 0
    partial = bytearray()  # the line being received; its events count once its newline is in
    try:
        with open(out, "rb") as r:
            def step():
                nonlocal lines, complete
                while chunk := r.read(1 << 20):
                    pos = 0
                    while (nl := chunk.find(b"\n", pos)) >= 0:
                        partial.extend(chunk[pos:nl])
                        complete += partial.count(needle)
                        lines += 1
                        partial.clear()
                        pos = nl + 1
                    partial.extend(chunk[pos:])
                    if complete >= n:
                        return (time.monotonic() - t0, lines, complete), ""
                return None, f"with {complete} of {n} events"
            return poll_until(name, p, t0, WATCH_LIMIT, 0.002, step)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)  # `timeout` passes it on to etcdctl
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_destination(tag):
    """A throwaway etcd on two free loopback ports, its data in WORK; returns (Popen, client port)."""
    import socket
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0)), b.bind(("127.0.0.1", 0))
    c, p = a.getsockname()[1], b.getsockname()[1]
    a.close(), b.close()
    data = os.path.join(WORK, f"mirror-{tag}")
    peer, client = f"http://127.0.0.1:{p}", f"http://127.0.0.1:{c}"
    with open(data + ".log", "wb") as log_file:
        proc = subprocess.Popen(["etcd", "--name", "dest", "--data-dir", data, "--listen-client-urls", client,
                                 "--advertise-client-urls", client, "--listen-peer-urls", peer,
                                 "--initial-advertise-peer-urls", peer, "--initial-cluster", f"dest={peer}"],
                                stdout=log_file, stderr=log_file, start_new_session=True)
    children.append(proc)
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", c, timeout=2)
            conn.request("GET", "/health")
            if b'"true"' in conn.getresponse().read():
                return proc, c
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"bench-bulk: the destination etcd did not become healthy (log: {data}.log)")


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def mirror_copy(name, argv):
    """argv(port) mirrors bulk/ into a fresh etcd: seconds from its start until the destination counts N keys."""
    dest, port = start_destination(name)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    query = {"key": b64("bulk/"), "range_end": b64("bulk0"), "count_only": True}
    t0 = time.monotonic()
    p = subprocess.Popen(argv(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    children.append(p)
    def step():
        n = int(post(conn, "/v3/kv/range", query).get("count", 0))
        return (time.monotonic() - t0 if n >= N else None), f"with {n} of {N} keys copied"
    try:
        return poll_until(f"{name} make-mirror", p, t0, MIRROR_LIMIT, 0.05, step)
    finally:
        conn.close()
        stop(p)
        stop(dest)


def rounds_of(cmds, run, rounds=None):
    """cmds: [(name, ...)]; run(cmd, round) -> dict of figures. Rotating order; returns {name: [figures]}."""
    res = {c[0]: [] for c in cmds}
    for r in range(rounds or ROUNDS):
        order = cmds[r % len(cmds):] + cmds[:r % len(cmds)]
        for c in order:
            res[c[0]].append(run(c, r))
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return res


def same(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        while True:
            p, q = x.read(1 << 20), y.read(1 << 20)
            if p != q:
                return False
            if not p:
                return True


def cmp_word(ok):
    return "identical" if ok else "**differ**"


def main():
    etch = [ETCH, "--endpoints", E]
    etcdctl = ["etcdctl", "--endpoints", E]
    url = f"http://{E}"
    os.environ["ETCDCTL_API"] = "3"

    lat = {}
    if LAT_PUTS > 0:
        key_val = lambda i: (f"lat/{i}", "r" if i == "ready" else f"v{int(i)}")
        simple = lambda i: ("%s\n%s\n" % key_val(i)).encode()
        gateway = lambda i: f'"value":"{b64(key_val(i)[1])}"'.encode()
        body = json.dumps({"create_request": {"key": b64("lat/"), "range_end": b64("lat0")}})
        for name, argv, marker in (
                ("etch", etch + ["watch", "--prefix", "lat/"], simple),
                ("curl", ["curl", "-sN", "-XPOST", f"{url}/v3/watch", "-d", body], gateway),
                ("etcdctl", etcdctl + ["watch", "--prefix", "lat/"], simple)):
            log(f"live latency: {LAT_PUTS} puts watched by {name}")
            lat[name] = latency(name, argv, marker, LAT_PUTS)

    log(f"loading {N} keys of 100 bytes over {CONNS} connections")
    t0 = time.monotonic()
    R = load()
    load_s = time.monotonic() - t0
    log(f"loaded in {load_s:.1f} s; first revision {R}")

    # 1. get --prefix
    rng = json.dumps({"key": b64("bulk/"), "range_end": b64("bulk0")})
    gets = [
        ("etch simple", etch + ["get", "bulk/", "--prefix"]),
        ("etch json", etch + ["get", "bulk/", "--prefix", "-w", "json"]),
        ("curl", ["curl", "-s", "-XPOST", f"{url}/v3/kv/range", "-d", rng, "-o", os.devnull]),
        ("etcdctl simple", etcdctl + ["get", "bulk/", "--prefix"]),
        ("etcdctl json", etcdctl + ["get", "bulk/", "--prefix", "-w", "json"]),
    ]
    g = dict(gets)
    cmp_get = {}
    for fmt in ("simple", "json"):  # once, before timing (it doubles as a warm-up)
        a, b = os.path.join(WORK, f"get-etch.{fmt}"), os.path.join(WORK, f"get-etcdctl.{fmt}")
        timed("cmp", g[f"etch {fmt}"], a)
        timed("cmp", g[f"etcdctl {fmt}"], b)
        cmp_get[fmt] = same(a, b)
        os.remove(a), os.remove(b)
    timed("warm", g["curl"])
    log(f"get --prefix over {N} keys, {GET_ROUNDS} rounds of 5 commands ", )
    get_res = rounds_of(gets, lambda c, r: timed(c[0].replace(" ", "_"), c[1]), GET_ROUNDS)

    # 6. make-mirror's initial copy of the N keys (while they exist, before the deletes of 3)
    mirror = {}
    if MIRROR_ROUNDS > 0:
        mirrors = [("etch", lambda port: etch + ["make-mirror", "--prefix", "bulk/", f"127.0.0.1:{port}"]),
                   ("etcdctl", lambda port: etcdctl + ["make-mirror", "--prefix", "bulk/", f"127.0.0.1:{port}"])]
        log(f"make-mirror's initial copy of {N} keys into a fresh etcd, {MIRROR_ROUNDS} rounds of 2 ")
        mirror = rounds_of(mirrors, lambda c, r: mirror_copy(c[0], c[1]), MIRROR_ROUNDS)

    # 2. watch replay from R: N events, one per revision
    def watch_cmds(rev, tag):
        body = json.dumps({"create_request": {"key": b64("bulk/"), "range_end": b64("bulk0"), "start_revision": rev}})
        return [
            ("etch", etch + ["watch", "--prefix", "bulk/", "--rev", str(rev), "--max-events", str(N), "-w", "json"]),
            ("curl", ["curl", "-sN", "-XPOST", f"{url}/v3/watch", "-d", body]),
            ("etcdctl", ["timeout", str(int(WATCH_LIMIT) + 10)] + etcdctl
             + ["watch", "--prefix", "bulk/", "--rev", str(rev), "-w", "json"]),
        ]

    def run_watch(tag):
        def run(c, r):
            out = os.path.join(WORK, f"watch-{tag}-{c[0]}.{r}")
            if c[0] == "etch":
                wall, rss = timed(f"watch_{tag}", c[1], out)
                x = {"wall": wall, "rss": rss}
            else:
                wall, lines, ev = until_events(f"{c[0]} watch", c[1], out)
                x = {"wall": wall, "lines": lines}
            if r == 0 and c[0] in ("etch", "etcdctl"):
                x["out"] = out  # kept for cmp
            else:
                os.remove(out)
            return x
        return run

    log(f"watch replay of {N} events from revision {R}, {ROUNDS} rounds of 3 ")
    w1 = rounds_of(watch_cmds(R, "replay"), run_watch("replay"))
    cmp_w1 = same(w1["etch"][0]["out"], w1["etcdctl"][0]["out"])

    # 3. one revision with N DELETE events
    got = subprocess.run(etch + ["del", "bulk/", "--prefix"], capture_output=True, text=True, check=True).stdout.strip()
    if got != str(N):
        raise SystemExit(f"bench-bulk: etch del printed {got!r}, not {N}")
    D = current_revision()
    log(f"one revision ({D}) with {N} DELETE events, {ROUNDS} rounds of 3 ")
    w2 = rounds_of(watch_cmds(D, "del"), run_watch("del"))
    cmp_w2 = same(w2["etch"][0]["out"], w2["etcdctl"][0]["out"])
    for w in (w1, w2):
        for t in ("etch", "etcdctl"):
            os.remove(w[t][0]["out"])

    # 4. the transaction workload (issue 13): TXN keys written in transactions of 128 puts, so the catch-up is
    # one gateway response holding every event (24 MB of JSON for 100,000 keys), then watched from its first
    # revision until the last event is out: etch in three formats vs curl vs etcdctl.
    txn = {}
    if TXN > 0:
        T, txn["load"] = load_txn_timed("/bench/", TXN)
        txn["rev"] = T
        txn["revs"] = current_revision() - T + 1
        body = json.dumps({"create_request": {"key": b64("/bench/"), "range_end": b64("/bench0"), "start_revision": T}})
        capture = os.path.join(WORK, "txn-capture.json")
        watch = ["watch", "--prefix", "/bench/", "--rev", str(T)]
        cmds = [(f"etch {fmt}", etch + watch + ["--max-events", str(TXN), "-w", fmt]) for fmt in TXN_FORMATS]
        cmds += [("curl", ["curl", "-sN", "-XPOST", f"{url}/v3/watch", "-d", body]),
                 ("etcdctl", ["timeout", str(int(WATCH_LIMIT) + 10)] + etcdctl + watch + ["-w", "json"])]
        # etch's output vs etcdctl's, once per format etcdctl has (simple events are `PUT` lines)
        txn["cmp"] = {}
        for fmt in [f for f in TXN_FORMATS if f in ("simple", "json")]:
            a, b = os.path.join(WORK, f"txn-etch.{fmt}"), os.path.join(WORK, f"txn-etcdctl.{fmt}")
            timed("cmp", etch + watch + ["--max-events", str(TXN), "-w", fmt], a)
            until_events("etcdctl watch", ["timeout", str(int(WATCH_LIMIT) + 10)] + etcdctl + watch + ["-w", fmt], b,
                         n=TXN, needle=b'"kv":' if fmt == "json" else b"PUT")
            txn["cmp"][fmt] = same(a, b)
            os.remove(a), os.remove(b)

        def run(c, r):
            if c[0].startswith("etch"):
                wall, rss = timed(c[0].replace(" ", "_"), c[1], os.path.join(WORK, "txn.out"))
                os.remove(os.path.join(WORK, "txn.out"))
                return {"wall": wall, "rss": rss}
            out = capture if c[0] == "curl" else os.path.join(WORK, "txn.out")
            wall, lines, _ = until_events(f"{c[0]} watch", c[1], out, n=TXN)
            if c[0] != "curl":
                os.remove(out)
            return {"wall": wall, "lines": lines}

        log(f"watch catch-up of {TXN} events in {txn['revs']} revisions from revision {T}, {TXN_ROUNDS} rounds of "
            f"{len(cmds)} ")
        txn["res"] = rounds_of(cmds, run, TXN_ROUNDS)
        # The decode path alone, on curl's capture of the same stream (scripts/bench-decode.py)
        txn["capture_bytes"] = os.path.getsize(capture)
        # With valgrind at hand, also its instruction count: CPU time on a shared machine moves by a third
        # between runs of the same binary, the count does not.
        counted = ["--instructions"] if shutil.which("valgrind") else []
        got = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-decode.py"),
                              ETCH, capture, "--rounds", str(TXN_ROUNDS), "--formats", ",".join(TXN_FORMATS)] + counted,
                             capture_output=True, text=True)
        txn["decode"] = got.stdout if got.returncode == 0 else f"bench-decode failed: {got.stderr.strip()[-300:]}\n"
        os.remove(capture)

    # 5. memory runs over HUGE keys: one run of each, peak RSS
    huge = {}
    if HUGE > 0:
        HR, huge["load"] = load_txn_timed("huge/", HUGE)
        HE = current_revision()
        hrng = json.dumps({"key": b64("huge/"), "range_end": b64("huge0")})
        log(f"loaded in {huge['load']:.1f} s; get and watch replay of {HUGE} keys, once each")
        for name, argv in (
                ("etch simple", etch + ["get", "huge/", "--prefix"]),
                ("etch json", etch + ["get", "huge/", "--prefix", "-w", "json"]),
                ("curl", ["curl", "-s", "-XPOST", f"{url}/v3/kv/range", "-d", hrng, "-o", os.devnull]),
                ("etcdctl simple", etcdctl + ["get", "huge/", "--prefix"]),
                ("etcdctl json", etcdctl + ["get", "huge/", "--prefix", "-w", "json"]),
                ("etch watch", etch + ["watch", "--prefix", "huge/", "--rev", str(HR), "--max-events", str(HUGE),
                                       "-w", "json"])):
            out = os.path.join(WORK, "huge.out")
            try:
                huge[name] = timed(name.replace(" ", "_"), argv, out)
            except SystemExit as e:  # etcdctl may run out of memory or time; say so in the table
                log(str(e))
                huge[name] = None
            if name in ("etch simple", "etch json", "etch watch"):
                # simple prints each key once; json has one "key" per key-value or event
                n = count_in_file(out, b"huge/" if name == "etch simple" else b'"key":')
                if n != HUGE:
                    raise SystemExit(f"bench-bulk: {name} printed {n} keys, not {HUGE}")
            os.remove(out)
        huge["revs"] = HE - HR + 1

    # Report
    sec = lambda s: f"{s:.2f} s"
    mib = lambda k: f"{k / 1024:.1f} MiB"

    def ratio(a, b):
        """median ratio, and in brackets the lowest and highest per-round ratio."""
        whole = st.median(a) / st.median(b)
        each = [x / y for x, y in zip(a, b)]
        return f"{whole:.2f}x ({min(each):.2f}–{max(each):.2f})" if len(each) > 1 else f"{whole:.2f}x"

    gw = {k: [w for w, _ in v] for k, v in get_res.items()}
    gr = {k: max(m for _, m in v) for k, v in get_res.items()}
    print()
    print(f"### Bulk: {N:,} keys of 100 bytes")
    print()
    print(f"- loaded with one gateway put per key (one revision each, {CONNS} keep-alive connections) in {load_s:.1f} s; "
          f"first revision {R}")
    print(f"- {GET_ROUNDS} rounds for the gets, {ROUNDS} for the replays; each round runs every command of a table once, in an order that rotates from round to "
          "round; medians over the rounds, and in brackets the lowest and highest per-round ratio")
    print("- peak RSS: the highest GNU time %M over the rounds")
    print()
    print(f"`get bulk/ --prefix` over {N:,} keys, wall time of the whole process (curl: the same range in one "
          "gateway POST, output to /dev/null; etch and etcdctl output to /dev/null):")
    print()
    print("| output | etch | curl (limit) | etcdctl | etch / curl | etch / etcdctl | etch RSS | curl RSS | etcdctl RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for fmt, flag in (("simple", ""), ("json", " `-w json`")):
        e, t = gw[f"etch {fmt}"], gw[f"etcdctl {fmt}"]
        print(f"| {fmt} | {sec(st.median(e))} | {sec(st.median(gw['curl']))} | {sec(st.median(t))} "
              f"| {ratio(e, gw['curl'])} | {ratio(e, t)} | {mib(gr[f'etch {fmt}'])} | {mib(gr['curl'])} "
              f"| {mib(gr[f'etcdctl {fmt}'])} |")
    print()
    print(f"etch's output vs etcdctl's (cmp, once): simple {cmp_word(cmp_get['simple'])}, "
          f"json {cmp_word(cmp_get['json'])}.")
    print()
    print("Watch replay, `-w json`, time until the last event is out: etch with `--max-events` until it exits; "
          "curl (the same gateway watch) and etcdctl until the line holding the last event has reached their "
          "output file, polled every 2 ms, then killed:")
    print()
    print("| replay | etch | curl (limit) | etcdctl | etch / curl | etch / etcdctl | etch RSS | etch vs etcdctl output |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, w, ok in ((f"{N:,} events, one per revision (`--rev {R}`)", w1, cmp_w1),
                        (f"one revision with {N:,} DELETE events (`--rev {D}`)", w2, cmp_w2)):
        e, c, t = ([x["wall"] for x in w[k]] for k in ("etch", "curl", "etcdctl"))
        print(f"| {name} | {sec(st.median(e))} | {sec(st.median(c))} | {sec(st.median(t))} | {ratio(e, c)} "
              f"| {ratio(e, t)} | {mib(max(x['rss'] for x in w['etch']))} | {cmp_word(ok)} (cmp) |")
    print()
    print()
    print(f"curl's stream had {w1['curl'][0]['lines']} and {w2['curl'][0]['lines']} lines (the created line and the "
          "event lines); the replay's etch and etcdctl outputs were compared from the first round.")
    if lat:
        print()
        print(f"Live latency over {LAT_PUTS:,} puts: each put (one gateway POST from python3 on a kept-alive "
              "connection) timed from just before it is sent until its event has been read from the watcher's "
              "stdout pipe (etch and etcdctl: `watch --prefix lat/`, simple output; curl: `-sN` of the gateway "
              "watch). The put's own round trip is in every figure:")
        print()
        print("| watcher | p50 | p90 | p99 | max | p50 / curl | p99 / curl |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        msf = lambda x: f"{x * 1000:.2f} ms"
        for name in ("etch", "curl", "etcdctl"):
            xs = lat[name]
            print(f"| {name} | {msf(pct(xs, .5))} | {msf(pct(xs, .9))} | {msf(pct(xs, .99))} | {msf(xs[-1])} "
                  f"| {pct(xs, .5) / pct(lat['curl'], .5):.2f}x | {pct(xs, .99) / pct(lat['curl'], .99):.2f}x |")
    if mirror:
        e, t = mirror["etch"], mirror["etcdctl"]
        print()
        print(f"make-mirror's initial copy of the {N:,} keys into a fresh single-member etcd on the same machine, "
              f"timed from the start of the command until the destination counts {N:,} keys under bulk/ (a "
              f"count_only range polled every 50 ms); {MIRROR_ROUNDS} round(s), medians:")
        print()
        print("| copy | etch (transactions of 128 puts) | etcdctl (one put per key) | etcdctl / etch |")
        print("|---|---:|---:|---:|")
        print(f"| {N:,} keys | {sec(st.median(e))} | {sec(st.median(t))} | {st.median(t) / st.median(e):.1f}x faster |")
    if txn:
        res = txn["res"]
        w = {k: [x["wall"] for x in v] for k, v in res.items()}
        print()
        print(f"### Watch catch-up of a transaction workload: {TXN:,} keys")
        print()
        print(f"{TXN:,} keys `/bench/0000000`.. with 100-byte values written in gateway transactions of 128 puts "
              f"({txn['revs']:,} revisions, {txn['load']:.1f} s), then `watch --prefix /bench/ --rev {txn['rev']}` "
              "(the first revision of the load) until the last event is out: etch with `--max-events` until it "
              "exits, output to a file; curl (the same gateway watch, whose catch-up is one response of "
              f"{txn['capture_bytes']:,} bytes) and etcdctl (`-w json`) until the line holding the last event has "
              f"reached their output file, polled every 2 ms, then killed. {TXN_ROUNDS} rounds, order rotating; "
              "medians, and in brackets the lowest and highest per-round ratio:")
        print()
        print("| client | wall | etch / curl | etch / etcdctl | peak RSS |")
        print("|---|---:|---:|---:|---:|")
        for name in [f"etch {f}" for f in TXN_FORMATS]:
            print(f"| {name} | {sec(st.median(w[name]))} | {ratio(w[name], w['curl'])} | {ratio(w[name], w['etcdctl'])} "
                  f"| {mib(max(x['rss'] for x in res[name]))} |")
        print(f"| curl (limit) | {sec(st.median(w['curl']))} | | | |")
        print(f"| etcdctl `-w json` | {sec(st.median(w['etcdctl']))} | | | |")
        print()
        print("etch's output vs etcdctl's (cmp, once): " + ", ".join(f"{f} {cmp_word(ok)}" for f, ok in txn["cmp"].items())
              + ".")
        print()
        print(txn["decode"].rstrip())
    if huge:
        print()
        print(f"### Memory: {HUGE:,} keys of 100 bytes")
        print()
        print(f"Loaded with gateway transactions of 128 puts ({huge['revs']:,} revisions) in {huge['load']:.1f} s. "
              "One run of each, output to a file (curl: /dev/null), wall time and peak RSS (GNU time %M); etch's "
              "outputs were checked to hold every key:")
        print()
        print("| command | wall | peak RSS |")
        print("|---|---:|---:|")
        for name, what in (("etch simple", "etch get --prefix"), ("etch json", "etch get --prefix -w json"),
                           ("curl", "curl, the same range in one request"),
                           ("etcdctl simple", "etcdctl get --prefix"), ("etcdctl json", "etcdctl get --prefix -w json"),
                           ("etch watch", f"etch watch --rev (replay of {HUGE:,} events) -w json")):
            r = huge[name]
            print(f"| {what} | {sec(r[0]) if r else 'failed'} | {mib(r[1]) if r else '-'} |")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        main()
    finally:
        kill_children()
