#!/usr/bin/env python3
"""Watch under faults: how etch's watch and etcdctl's watch converge when their connections are cut.

One throwaway etcd on free loopback ports. For each scenario, each watcher talks to etcd through its own
TCP proxy that cuts every connection after a random number of server->client bytes (a new budget per
connection): "none" (never cuts), "rare" (20000..60000 bytes), "often" (1000..4000 bytes). Both watchers
watch a fresh prefix from revision R+1 with -w json; then N puts go straight to etcd (no proxy). Measured
per watcher: seconds from the last write until it has printed every one of the N events (gives up after
--timeout seconds), and whether the revisions it printed are exactly R+1..R+N (lost, duplicated, out of
order).

Usage: python3 scripts/watch-bench.py /abs/path/to/etch      (make bench-watch passes the release binary)
Prints a Markdown table on stdout and writes it to bench-results/watch-latest.md. Python 3 stdlib only.
Only 127.0.0.1 is ever contacted; the etcd and the watchers it starts are killed by PID at exit.
"""
import argparse
import base64
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HOST = "127.0.0.1"
SCENARIOS = {  # name: (lo, hi) bytes server->client per connection before the proxy cuts it
    "none": (10 ** 15, 10 ** 15),
    "rare": (20000, 60000),
    "often": (1000, 4000),
}

_children = []  # every process this script started (etcd, watchers); killed by PID in cleanup()
_children_lock = threading.Lock()


def log(msg):
    print("watch-bench: " + msg, file=sys.stderr, flush=True)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    with _children_lock:
        _children.append(p)
    return p


def kill_proc(p):
    """Kill one process this script started, by its PID, and reap it."""
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGTERM)
            p.wait(timeout=3)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def cleanup_children():
    with _children_lock:
        procs = list(_children)
        _children.clear()
    for p in reversed(procs):
        kill_proc(p)


# ---------------------------------------------------------------- cutting proxy

class CutProxy:
    """TCP proxy on 127.0.0.1:<free port> in front of 127.0.0.1:upstream. Each accepted connection gets a
    budget of random.randint(lo, hi) server->client bytes; once that many have been forwarded, both sockets
    are shut down (the client sees its connection reset/closed mid-stream). Client->server is not limited.
    A connection's fds are closed only after both of its pump threads have finished, so no pump can ever
    touch a reused fd."""

    def __init__(self, upstream_port, lo, hi, seed):
        self.upstream_port = upstream_port
        self.lo, self.hi = lo, hi
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.cuts = 0          # connections cut because their budget ran out
        self.connections = 0   # connections accepted
        self.bytes_down = 0    # server->client bytes forwarded
        self.stopping = False
        self.live = set()      # (client, upstream) socket pairs not yet closed
        self.handlers = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self.acceptor.start()

    def _accept_loop(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            client.settimeout(None)
            with self.lock:
                if self.stopping:
                    client.close()
                    break
                self.connections += 1
                budget = self.rng.randint(self.lo, self.hi)
            t = threading.Thread(target=self._handle, args=(client, budget), daemon=True)
            with self.lock:
                self.handlers.append(t)
            t.start()

    @staticmethod
    def _shut(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _handle(self, client, budget):
        try:
            upstream = socket.create_connection((HOST, self.upstream_port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            self._shut(client)
            client.close()
            return
        pair = (client, upstream)
        with self.lock:
            if self.stopping:
                self._shut(client, upstream)
            self.live.add(pair)
        state = {"left": budget}

        def up():  # client -> server, unlimited
            try:
                while True:
                    data = client.recv(65536)
                    if not data:
                        break
                    upstream.sendall(data)
            except OSError:
                pass
            self._shut(client, upstream)

        def down():  # server -> client, until the budget is spent
            cut = False
            try:
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    if len(data) >= state["left"]:
                        client.sendall(data[:state["left"]])
                        with self.lock:
                            self.bytes_down += state["left"]
                        state["left"] = 0
                        cut = True
                        break
                    client.sendall(data)
                    state["left"] -= len(data)
                    with self.lock:
                        self.bytes_down += len(data)
            except OSError:
                pass
            if cut:
                with self.lock:
                    self.cuts += 1
            self._shut(client, upstream)

        tu = threading.Thread(target=up, daemon=True)
        td = threading.Thread(target=down, daemon=True)
        tu.start()
        td.start()
        tu.join()
        td.join()
        # both pumps are done: only now release the fds
        with self.lock:
            self.live.discard(pair)
        client.close()
        upstream.close()

    def stop(self):
        with self.lock:
            self.stopping = True
            for pair in self.live:
                self._shut(*pair)
            handlers = list(self.handlers)
        self.acceptor.join(timeout=5)
        try:
            self.listener.close()
        except OSError:
            pass
        for t in handlers:
            t.join(timeout=5)


# ---------------------------------------------------------------- etcd

def http_json(port, path, body, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError("POST %s: HTTP %d: %s" % (path, resp.status, data[:200]))
        return json.loads(data)
    finally:
        if own:
            conn.close()


def start_etcd(workdir):
    client_port, peer_port = free_port(), free_port()
    while peer_port == client_port:
        peer_port = free_port()
    c = "http://%s:%d" % (HOST, client_port)
    p = "http://%s:%d" % (HOST, peer_port)
    logf = open(os.path.join(workdir, "etcd.log"), "wb")
    proc = spawn(["/usr/bin/etcd", "--name", "b", "--data-dir", os.path.join(workdir, "data"),
                  "--listen-client-urls", c, "--advertise-client-urls", c,
                  "--listen-peer-urls", p, "--initial-advertise-peer-urls", p,
                  "--initial-cluster", "b=" + p],
                 stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
    logf.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("etcd exited with %s; see its log" % proc.returncode)
        try:
            with urllib.request.urlopen(c + "/health", timeout=1) as r:
                if json.loads(r.read()).get("health") == "true":
                    return proc, client_port
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError("etcd did not become healthy within 30 s")


def current_revision(port):
    return int(http_json(port, "/v3/kv/range", {"key": "eA=="})["header"]["revision"])


# ---------------------------------------------------------------- watchers

class Watcher:
    """One watch process; a thread reads its stdout (one JSON object per line, each with an "Events" list)
    and records every event's kv.mod_revision."""

    def __init__(self, name, args, env, expected, workdir):
        self.name = name
        self.expected = expected          # set of revisions it must print
        self.revs = []                    # mod_revisions in the order printed
        self.seen = set()
        self.bad_lines = 0                # stdout lines that were not a JSON object
        self.done_at = None               # monotonic time all expected revisions had been printed
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.errpath = os.path.join(workdir, name + ".stderr")
        errf = open(self.errpath, "wb")
        self.proc = spawn(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf)
        errf.close()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
                events = obj.get("Events") or []
            except (ValueError, AttributeError):
                with self.lock:
                    self.bad_lines += 1
                continue
            now = time.monotonic()
            with self.lock:
                for ev in events:
                    try:
                        rev = int(ev["kv"]["mod_revision"])
                    except (KeyError, TypeError, ValueError):
                        self.bad_lines += 1
                        continue
                    self.revs.append(rev)
                    if rev in self.expected:
                        self.seen.add(rev)
                if self.done_at is None and len(self.seen) == len(self.expected):
                    self.done_at = now
                    self.done.set()
        self.proc.stdout.close()

    def stop(self):
        kill_proc(self.proc)
        self.reader.join(timeout=5)

    def stderr_tail(self, n=3):
        try:
            with open(self.errpath, "rb") as f:
                lines = f.read().decode(errors="replace").strip().splitlines()
            return lines[-n:]
        except OSError:
            return []

    def report(self, t_last, n):
        with self.lock:
            revs = list(self.revs)
            done_at = self.done_at
        missing = len(self.expected - set(revs))
        dups = len(revs) - len(set(revs))
        ooo = sum(1 for a, b in zip(revs, revs[1:]) if b < a)
        extra = len(set(revs) - self.expected)
        if done_at is None:
            conv = "did not converge: got %d of %d" % (len(self.seen), n)
        else:
            dt = done_at - t_last
            conv = "<0.001 s" if dt < 0.001 else "%.3f s" % dt
        integrity = "%d / %d / %d" % (missing, dups, ooo)
        if extra:
            integrity += " (+%d unexpected)" % extra
        return {"converge": conv, "events": len(revs), "integrity": integrity, "converged": done_at is not None,
                "seconds": None if done_at is None else done_at - t_last, "lost": missing, "dup": dups,
                "ooo": ooo, "bad_lines": self.bad_lines}


# ---------------------------------------------------------------- one scenario

def run_scenario(name, lo, hi, etch, etcd_port, n, timeout, seed, workdir, run_id):
    prefix = "f%s-%s/" % (name, run_id)
    rev0 = current_revision(etcd_port)
    expected = set(range(rev0 + 1, rev0 + n + 1))
    px_etch = CutProxy(etcd_port, lo, hi, seed * 1000 + 1)
    px_ctl = CutProxy(etcd_port, lo, hi, seed * 1000 + 2)
    watchers = []
    try:
        env = dict(os.environ)
        for k in [k for k in env if k.startswith("ETCDCTL_")]:
            del env[k]
        env["ETCDCTL_API"] = "3"
        w_etch = Watcher("etch-" + name, [etch, "--endpoints", "%s:%d" % (HOST, px_etch.port), "watch", "--prefix",
                                          prefix, "--rev", str(rev0 + 1), "-w", "json"], env, expected, workdir)
        watchers.append(w_etch)
        w_ctl = Watcher("etcdctl-" + name, ["etcdctl", "--endpoints", "%s:%d" % (HOST, px_ctl.port), "watch",
                                            "--prefix", prefix, "--rev", str(rev0 + 1), "-w", "json"],
                        env, expected, workdir)
        watchers.append(w_ctl)

        conn = http.client.HTTPConnection(HOST, etcd_port, timeout=10)
        t_first = time.monotonic()
        last_rev = None
        try:
            for i in range(n):
                r = http_json(etcd_port, "/v3/kv/put",
                              {"key": b64(prefix + str(i % 200)), "value": b64("v%d" % i)}, conn=conn)
                last_rev = int(r["header"]["revision"])
        finally:
            conn.close()
        t_last = time.monotonic()
        if last_rev != rev0 + n:
            log("warning: scenario %s: last put got revision %s, expected %d (another writer?)"
                % (name, last_rev, rev0 + n))
        deadline = t_last + timeout
        for w in watchers:
            w.done.wait(max(0.0, deadline - time.monotonic()))
        time.sleep(1.0)  # grace: anything printed after convergence (duplicates) still counts
        for w in watchers:
            w.stop()
        res = {
            "scenario": name, "lo": lo, "hi": hi, "rev0": rev0,
            "write_seconds": t_last - t_first,
            "etch": w_etch.report(t_last, n), "etcdctl": w_ctl.report(t_last, n),
            "etch_cuts": px_etch.cuts, "etch_conns": px_etch.connections, "etch_bytes": px_etch.bytes_down,
            "ctl_cuts": px_ctl.cuts, "ctl_conns": px_ctl.connections, "ctl_bytes": px_ctl.bytes_down,
            "etch_stderr": w_etch.stderr_tail(), "ctl_stderr": w_ctl.stderr_tail(),
        }
        return res
    finally:
        for w in watchers:
            w.stop()
        px_etch.stop()
        px_ctl.stop()


def version_of(args):
    try:
        out = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=10).stdout.decode(errors="replace")
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("etch", help="path to the etch binary")
    ap.add_argument("--events", type=int, default=2000, help="puts per scenario (default 2000)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds after the last write before giving up")
    ap.add_argument("--scenarios", default="none,rare,often", help="comma-separated subset of none,rare,often")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("WATCH_BENCH_SEED", "1")),
                    help="seed for the proxies' cut budgets [$WATCH_BENCH_SEED, default 1]")
    args = ap.parse_args()
    etch = os.path.abspath(args.etch)
    if not (os.path.isfile(etch) and os.access(etch, os.X_OK)):
        sys.exit("watch-bench: %s is not an executable" % etch)
    for tool in ("/usr/bin/etcd",):
        if not os.access(tool, os.X_OK):
            sys.exit("watch-bench: %s not found" % tool)
    if shutil.which("etcdctl") is None:
        sys.exit("watch-bench: etcdctl not found")
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in names:
        if s not in SCENARIOS:
            sys.exit("watch-bench: unknown scenario %r" % s)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    workdir = tempfile.mkdtemp(prefix="etch-watch-bench.")
    results = []
    try:
        _etcd, etcd_port = start_etcd(workdir)
        log("etcd up on %s:%d (data in %s)" % (HOST, etcd_port, workdir))
        run_id = "%x" % int(time.time())
        for s in names:
            lo, hi = SCENARIOS[s]
            log("scenario %s: %d puts, %s" % (s, args.events, "no cuts" if s == "none" else
                                                "cuts after %d..%d bytes" % (lo, hi)))
            r = run_scenario(s, lo, hi, etch, etcd_port, args.events, args.timeout, args.seed, workdir, run_id)
            log("  etch: %s, %d events, lost/dup/ooo %s; proxy cuts %d" %
                (r["etch"]["converge"], r["etch"]["events"], r["etch"]["integrity"], r["etch_cuts"]))
            log("  etcdctl: %s, %d events, lost/dup/ooo %s; proxy cuts %d" %
                (r["etcdctl"]["converge"], r["etcdctl"]["events"], r["etcdctl"]["integrity"], r["ctl_cuts"]))
            results.append(r)
    finally:
        cleanup_children()
        shutil.rmtree(workdir, ignore_errors=True)

    lines = []
    lines.append("- %s; %d CPUs, %s, %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count() or 0,
                                           cpu_model(), " ".join(platform.uname()[i] for i in (0, 2, 4))))
    lines.append("- %s; %s; %s" % (version_of([etch, "version"]), version_of(["etcdctl", "version"]),
                                   version_of(["/usr/bin/etcd", "--version"])))
    lines.append("- %d puts per scenario to %d keys of a fresh prefix, straight to etcd over one keep-alive "
                 "connection; each watcher through its own cutting proxy; give up %g s after the last write; "
                 "seed %d" % (args.events, 200, args.timeout, args.seed))
    lines.append("")
    lines.append("| scenario | cuts seen by etch's proxy | etch: converge time | etch: events | etch: lost / dup / ooo "
                 "| etcdctl: converge time | etcdctl: events | etcdctl: lost / dup / ooo |")
    lines.append("|---|---:|---|---:|---:|---|---:|---:|")
    for r in results:
        label = r["scenario"] if r["scenario"] == "none" else "%s (%d..%d B)" % (r["scenario"], r["lo"], r["hi"])
        e, c = r["etch"], r["etcdctl"]
        lines.append("| %s | %d | %s | %d | %s | %s | %d | %s |" % (
            label, r["etch_cuts"], e["converge"], e["events"], e["integrity"],
            c["converge"], c["events"], c["integrity"]))
    lines.append("")
    lines.append("Details: write time for the %d puts; connections opened / cut / bytes forwarded to each watcher "
                 "by its proxy." % args.events)
    lines.append("")
    for r in results:
        lines.append("- %s: writes took %.2f s; etch %d connections, %d cuts, %d bytes; etcdctl %d connections, "
                     "%d cuts, %d bytes" % (r["scenario"], r["write_seconds"], r["etch_conns"], r["etch_cuts"],
                                             r["etch_bytes"], r["ctl_conns"], r["ctl_cuts"], r["ctl_bytes"]))
        for who, key, rep in (("etch", "etch_stderr", r["etch"]), ("etcdctl", "ctl_stderr", r["etcdctl"])):
            if rep["bad_lines"]:
                lines.append("  - %s printed %d stdout lines/events that did not parse" % (who, rep["bad_lines"]))
            if not rep["converged"] and r[key]:
                lines.append("  - %s stderr (last lines): %s" % (who, " | ".join(r[key])))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    out = os.path.join(root, "bench-results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "watch-latest.md"), "w") as f:
        f.write(text)
    log("written to %s" % os.path.join(out, "watch-latest.md"))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as e:
        cleanup_children()
        sys.exit("watch-bench: interrupted (%s)" % (e or "SIGINT"))
