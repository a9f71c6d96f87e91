#!/usr/bin/env python3
"""Run the integration tests: every IntegrationTests class against every server, several at a time.

Each (class, server) pair is one run of the XCTest bundle, in its own process, with the server chosen by
ETCH_TEST_ETCD / ETCH_TEST_ETCD_VERSION. The tests spend most of their time waiting on etcd (fsync, elections,
timeouts they provoke on purpose) and every one starts its own members on kernel-assigned loopback ports, so
running a few pairs at once on a 2-core machine cuts the wall time without sharing anything between them.
Longest first (times of the last run on this machine, else a built-in order), so the slowest class does not
start last. Prints each pair's result as it ends, then a table, then the logs of the failures.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

# When no timing of an earlier run exists (a clean clone): the classes known to take longest, first.
SLOW_FIRST = ["PagedGetTests", "LeaseCommandTests", "LockElectTests", "AuthCommandTests", "WatchFaultTests",
              "MaintenanceCommandTests", "MemberLifecycleTests", "WriteUncertaintyTests", "TxnCommandTests",
              "EtchBehaviourTests", "ShellIntegrationTests"]


def list_classes(xctest):
    out = subprocess.run([xctest, "--list-tests"], capture_output=True, text=True, check=True).stdout
    classes = []
    for line in out.splitlines():
        name = line.strip().split("/")[0]
        if name.startswith("IntegrationTests.") and name not in classes:
            classes.append(name)
    return classes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xctest", required=True, help="the test bundle (.build/debug/etchPackageTests.xctest)")
    ap.add_argument("--etch", required=True, help="the etch binary the tests run (ETCH_BINARY)")
    ap.add_argument("--server", action="append", required=True, metavar="VERSION=PATH",
                    help="an etcd binary and its version; repeat for each server")
    ap.add_argument("--jobs", type=int, default=3)
    ap.add_argument("--filter", default="", help="only classes whose name contains this")
    ap.add_argument("--logs", required=True, help="directory for each run's log and the timings")
    args = ap.parse_args()

    servers = []
    for s in args.server:
        version, _, path = s.partition("=")
        if not path or not os.access(path, os.X_OK):
            sys.exit(f"integration: no etcd binary at {path!r} for {version}")
        servers.append((version, path))
    os.makedirs(args.logs, exist_ok=True)
    timings_path = os.path.join(args.logs, "timings.json")
    try:
        with open(timings_path) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        previous = {}

    classes = [c for c in list_classes(args.xctest) if args.filter in c]
    if not classes:
        sys.exit("integration: no test class matches")

    def expected(pair):
        cls, (version, _) = pair
        key = f"{cls}@{version}"
        if key in previous:
            return previous[key]
        short = cls.split(".", 1)[1]
        return 1000 - SLOW_FIRST.index(short) if short in SLOW_FIRST else 0

    pairs = sorted(((c, s) for c in classes for s in servers), key=expected, reverse=True)
    lock = threading.Lock()
    results = {}
    queue = list(pairs)
    start = time.monotonic()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                cls, (version, path) = queue.pop(0)
            log = os.path.join(args.logs, f"{cls.split('.', 1)[1]}-{version}.log")
            env = dict(os.environ, ETCH_BINARY=args.etch, ETCH_TEST_ETCD=path, ETCH_TEST_ETCD_VERSION=version)
            t0 = time.monotonic()
            with open(log, "w") as out:
                rc = subprocess.run([args.xctest, cls], stdout=out, stderr=subprocess.STDOUT, env=env).returncode
            took = time.monotonic() - t0
            with lock:
                results[(cls, version)] = (rc, took, log)
                print(f"integration: {'ok  ' if rc == 0 else 'FAIL'} {cls} on etcd {version}: {took:.0f} s"
                      f" ({time.monotonic() - start:.0f} s in)", flush=True)

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    with open(timings_path, "w") as f:
        json.dump({f"{c}@{v}": round(r[1], 1) for (c, v), r in results.items()}, f, indent=1, sort_keys=True)
    failed = [(k, r) for k, r in sorted(results.items()) if r[0] != 0]
    versions = [v for v, _ in servers]
    print(f"\n{'class':<44}" + "".join(f"{'etcd ' + v:>14}" for v in versions))
    for cls in classes:
        cells = []
        for v in versions:
            rc, took, _ = results[(cls, v)]
            cells.append(f"{('' if rc == 0 else 'FAIL ') + f'{took:.0f} s':>14}")
        print(f"{cls:<44}" + "".join(cells))
    for v in versions:
        total = sum(r[1] for (c, vv), r in results.items() if vv == v)
        print(f"etcd {v}: {total:.0f} s of test time")
    print(f"integration: {len(results) - len(failed)} of {len(results)} runs passed in "
          f"{time.monotonic() - start:.0f} s, {args.jobs} at a time")
    for (cls, version), (rc, _, log) in failed:
        print(f"\n===== {cls} on etcd {version}: exit {rc}; {log} =====")
        with open(log, errors="replace") as f:
            lines = f.readlines()
        interesting = [l for l in lines if "error:" in l or "failed" in l]
        sys.stdout.writelines(interesting[:40])
        print("----- last lines -----")
        sys.stdout.writelines(lines[-40:])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
