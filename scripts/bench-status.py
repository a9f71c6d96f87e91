#!/usr/bin/env python3
"""The snapshot status part of `make bench` (called by scripts/bench.sh after the snapshot section).
Usage: python3 scripts/bench-status.py ETCH FILE...
  ETCH   absolute path of the etch binary
  FILE   saved snapshots or bbolt databases (bench.sh passes the >=256 MB snapshot the snapshot section saved)
Checks that `etch snapshot status -w json` prints what etcdctl prints for each file, then times both, in rounds of
alternating order: wall time, CPU time (user + system) and peak RSS of each run (wait4's rusage). Prints a Markdown
section on stdout. Environment: BENCH_STATUS_ROUNDS (default 7).
"""
import os, statistics as st, subprocess, sys, time

ETCH, FILES = sys.argv[1], sys.argv[2:]
ROUNDS = int(os.environ.get("BENCH_STATUS_ROUNDS", "7"))


def run(argv):
    """One run into /dev/null: (wall s, cpu s, peak RSS KiB)."""
    with open(os.devnull, "wb") as null:
        start = time.monotonic()
        p = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - start
        err = p.stderr.read()
        p.stderr.close()
    if status != 0:
        raise SystemExit(f"bench-status: {argv} failed: {err[-300:]!r}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def main():
    if not FILES:
        return
    print()
    print("### snapshot status")
    print()
    print(f"Median of {ROUNDS} runs each, alternating; CPU = user + system; both print the same JSON (checked "
          "first). Wall times on a shared machine are noisy: compare CPU.")
    print()
    print("| file | command | wall | CPU | etch / etcdctl (CPU) | peak RSS |")
    print("|---|---|---:|---:|---:|---:|")
    for f in FILES:
        ours = subprocess.run([ETCH, "snapshot", "status", f, "-w", "json"], capture_output=True).stdout
        theirs = subprocess.run(["etcdctl", "snapshot", "status", f, "-w", "json"], capture_output=True).stdout
        if ours != theirs:
            raise SystemExit(f"bench-status: {f}: etch printed {ours!r}, etcdctl {theirs!r}")
        cmds = {"etch": [ETCH, "snapshot", "status", f], "etcdctl": ["etcdctl", "snapshot", "status", f]}
        runs = {n: [] for n in cmds}
        for r in range(ROUNDS):
            for n in (list(cmds) if r % 2 == 0 else list(cmds)[::-1]):
                runs[n].append(run(cmds[n]))
        cpu = {n: st.median(c for _, c, _ in runs[n]) for n in cmds}
        size = os.path.getsize(f) / 1e6
        for n in cmds:
            wall = st.median(w for w, _, _ in runs[n])
            peak = max(m for _, _, m in runs[n]) / 1024
            ratio = f"{cpu['etch'] / cpu['etcdctl']:.2f}x" if n == "etch" else ""
            print(f"| {os.path.basename(f)} ({size:.0f} MB) | {n} | {wall:.3f} s | {cpu[n]:.3f} s | {ratio} | {peak:.1f} MiB |")
        print(f"bench-status: {os.path.basename(f)}: etch CPU {cpu['etch']:.3f} s, etcdctl {cpu['etcdctl']:.3f} s",
              file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
