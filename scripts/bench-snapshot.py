#!/usr/bin/env python3
"""The snapshot part of `make bench` (called by scripts/bench.sh on its throwaway etcd).

Usage: python3 scripts/bench-snapshot.py ETCH ENDPOINT WORKDIR
  ETCH      absolute path of the etch binary
  ENDPOINT  host:port of the throwaway etcd (127.0.0.1 only)
  WORKDIR   a scratch directory the caller removes afterwards

Grows the database to at least BENCH_SNAPSHOT_MB megabytes (default 256) with 1 MB values (snapbench/NNNNN, four
connections: a few seconds), checks that etch's saved file equals etcdctl's, then times, in rounds of rotating
order:
  etch -     `etch snapshot save -` into /dev/null: receive, decode, verify the SHA-256, write;
  curl       the same gateway request (POST /v3/maintenance/snapshot) into /dev/null: receiving the stream, the limit;
  etch file  `etch snapshot save FILE`: the same plus writing the file, fsync and rename;
  etcdctl    `etcdctl snapshot save FILE` (gRPC; no digest check).
Each run's wall time and peak RSS (GNU time -f %M). Prints a Markdown section on stdout, progress on stderr.
Environment: BENCH_SNAPSHOT_MB (256; 0 skips), BENCH_SNAPSHOT_ROUNDS (3).
"""
import base64, http.client, json, os, statistics as st, subprocess, sys, threading, time

ETCH, E, WORK = sys.argv[1:4]
MB = int(os.environ.get("BENCH_SNAPSHOT_MB", "256"))
ROUNDS = int(os.environ.get("BENCH_SNAPSHOT_ROUNDS", "3"))
HOST, PORT = E.rsplit(":", 1)
assert HOST == "127.0.0.1", "bench-snapshot: loopback only"
GNU_TIME = "/usr/bin/time"
VALUE = 1_000_000
CONNS = 4


def log(*a):
    print("bench-snapshot:", *a, file=sys.stderr, flush=True)


def post(conn, path, body):
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"bench-snapshot: {path} answered {r.status}: {data[:200]!r}")
    return json.loads(data)


def db_size():
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    s = int(post(c, "/v3/maintenance/status", {})["dbSize"])
    c.close()
    return s


def fill():
    """1 MB random values until the database holds MB megabytes."""
    target = MB * 1_000_000
    next_key = [0]
    lock = threading.Lock()
    errors = []

    def worker(count):
        try:
            conn = http.client.HTTPConnection(HOST, int(PORT), timeout=60)
            for _ in range(count):
                with lock:
                    i = next_key[0]
                    next_key[0] += 1
                value = base64.b64encode(os.urandom(VALUE)).decode()
                post(conn, "/v3/kv/put", {"key": base64.b64encode(f"snapbench/{i:05d}".encode()).decode(), "value": value})
            conn.close()
        except BaseException as e:  # reported below
            errors.append(e)

    while db_size() < target:
        missing = (target - db_size()) // VALUE + 1
        per = max(1, min(16, missing // CONNS + 1))
        t = [threading.Thread(target=worker, args=(per,)) for _ in range(CONNS)]
        for x in t:
            x.start()
        for x in t:
            x.join()
        if errors:
            raise SystemExit(f"bench-snapshot: filling failed: {errors[0]!r}")
    return db_size()


def timed(name, argv, stdout):
    """One run: wall seconds (measured here) and peak RSS in KiB (GNU time)."""
    rss_file = os.path.join(WORK, f"rss.{name}")
    with open(stdout, "wb") if stdout != subprocess.DEVNULL else open(os.devnull, "wb") as out:
        start = time.monotonic()
        r = subprocess.run([GNU_TIME, "-f", "%M", "-o", rss_file] + argv, stdout=out, stderr=subprocess.PIPE)
        wall = time.monotonic() - start
    if r.returncode != 0:
        raise SystemExit(f"bench-snapshot: {name} failed ({r.returncode}): {r.stderr[-300:]!r}")
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return wall, rss


def main():
    if MB <= 0:
        return
    log(f"growing the database to {MB} MB with {VALUE // 1000} kB values")
    t0 = time.monotonic()
    size = fill()
    log(f"database {size / 1e6:.0f} MB after {time.monotonic() - t0:.1f}s")
    # The lease grant group's leases (TTL 60 s) would expire between the two saves compared below, changing the
    # database under them (seen when the bulk section, which outlasts them, is skipped): revoke them first.
    c = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    leases = post(c, "/v3/lease/leases", {}).get("leases", [])
    for lease in leases:
        post(c, "/v3/lease/revoke", {"ID": lease["ID"]})
    c.close()
    if leases:
        log(f"revoked {len(leases)} leases left by the lease groups")
    env_ep = ["--endpoints", E]
    a, b = os.path.join(WORK, "etch.db"), os.path.join(WORK, "etcdctl.db")
    subprocess.run([ETCH] + env_ep + ["snapshot", "save", a], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["etcdctl"] + env_ep + ["snapshot", "save", b], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if subprocess.run(["cmp", "-s", a, b]).returncode != 0:
        raise SystemExit("bench-snapshot: etch's saved file differs from etcdctl's")
    saved = os.path.getsize(a)
    os.remove(b)
    url = f"http://{E}/v3/maintenance/snapshot"
    commands = {
        "etch -": ([ETCH] + env_ep + ["snapshot", "save", "-"], subprocess.DEVNULL),
        "curl": (["curl", "-s", "-XPOST", url, "-d", "{}", "-o", "/dev/null"], subprocess.DEVNULL),
        "etch file": ([ETCH] + env_ep + ["snapshot", "save", a], subprocess.DEVNULL),
        "etcdctl": (["etcdctl"] + env_ep + ["snapshot", "save", b], subprocess.DEVNULL),
    }
    names = list(commands)
    runs = {n: [] for n in names}
    for r in range(ROUNDS):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            argv, out = commands[n]
            runs[n].append(timed(n.replace(" ", "_"), argv, out))
        log(f"round {r + 1}/{ROUNDS}: " + ", ".join(f"{n} {runs[n][-1][0]:.2f}s" for n in names))

    med = {n: st.median(w for w, _ in runs[n]) for n in names}
    peak = {n: max(m for _, m in runs[n]) for n in names}
    print()
    print(f"### snapshot save of a {size / 1e6:.0f} MB database ({saved} bytes saved)")
    print()
    print(f"Median wall time of {ROUNDS} runs each, in rounds of rotating order; peak RSS the highest of the runs "
          "(GNU time %M). `etch -` and curl write into /dev/null; `etch file` and etcdctl write a file in the "
          "benchmark's temporary directory and fsync it. etch's file equals etcdctl's byte for byte (checked first).")
    print()
    print("| command | median | MB/s | etch - / this | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for n in names:
        print(f"| {n} | {med[n]:.2f} s | {saved / 1e6 / med[n]:.0f} | {med['etch -'] / med[n]:.2f}x | {peak[n] / 1024:.1f} MiB |")
    each = [runs["etch -"][i][0] / runs["curl"][i][0] for i in range(ROUNDS)]
    print()
    print(f"etch - / curl per round: {', '.join(f'{x:.2f}x' for x in each)}; "
          f"etch file / etcdctl: {med['etch file'] / med['etcdctl']:.2f}x.")


if __name__ == "__main__":
    main()
