#!/usr/bin/env python3
"""etcd 3.4.23's own etcdctl end-to-end tests (tests/e2e/ctl_v3_*_test.go), with a chosen binary as etcdctl.

Debian's golang-etcd-server-dev ships the source and its Go dependencies under /usr/share/gocode; with Debian's
golang-go the suite builds offline in GOPATH mode, once, into WORK/e2e.test (rebuilt when the package changes).
Each TestCtlV3 test then runs alone, in its own process (the suite starts its clusters on fixed ports,
localhost:20000-20035 and 10000-10010), from WORK/run/tests/e2e, where the relative paths the suite uses
(../../integration/fixtures, ../../bin) resolve; bin/ holds etcd and etcdctl (the binary under test).

Each test's log (WORK/logs/NAME/TEST.log) has the suite's output and, through the suite's EXPECT_DEBUG, every
line etcd and etcdctl printed, each prefixed with its path and PID. A test's verdict is its own '--- PASS' line.

This script makes itself a child subreaper, so an etcd or etcdctl that a test leaves behind (a timed-out test
exits without stopping its cluster) becomes its child: after each test it kills those by PID, and only those.

Prints one line per test, a table per group (a group is a test file: kv, watch, member, ...) and a closing
line 'e2e: N passed, M failed'. With --expected FILE, exits 0 only when every test the file names (by test
name, or by group name for the whole group) passed; with --all-but NAMES, only when every test but those
passed; otherwise exits 0 only when nothing failed.
"""
import argparse
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

SOURCE = "/usr/share/gocode/src/go.etcd.io/etcd"
PACKAGE = "go.etcd.io/etcd/tests/e2e"
GO = "/usr/bin/go"  # Debian's golang-go, which the Debian source packages under /usr/share/gocode build with
PR_SET_CHILD_SUBREAPER = 36
CURRENT = []  # the test process running now


def log(msg):
    print(msg, flush=True)


def package_version():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "golang-etcd-server-dev"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def build_suite(work):
    """Builds the e2e test binary once; a stamp with the source package's version decides whether to rebuild."""
    binary = os.path.join(work, "e2e.test")
    stamp = binary + ".stamp"
    want = "golang-etcd-server-dev " + package_version() + "\n"
    if os.path.exists(binary) and os.path.exists(stamp) and open(stamp).read() == want:
        return binary
    log("e2e: building %s (GOPATH mode, offline) into %s" % (PACKAGE, binary))
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="", GOPROXY="off",
               GOCACHE=os.path.join(work, "gocache"), CGO_ENABLED="1")
    start = time.time()
    subprocess.run([GO, "test", "-c", "-o", binary + ".new", PACKAGE], env=env, cwd=work, check=True)
    os.replace(binary + ".new", binary)
    with open(stamp, "w") as f:
        f.write(want)
    log("e2e: built in %.0f s" % (time.time() - start))
    return binary


def groups_of_tests(listed):
    """test name -> group, from the test files: ctl_v3_kv_test.go is group kv, ctl_v3_test.go is group ctl,
    the watch_cov/watch_no_cov build variants are group watch."""
    group = {}
    directory = os.path.join(SOURCE, "tests/e2e")
    for name in sorted(os.listdir(directory)):
        m = re.fullmatch(r"ctl_v3(?:_(.+))?_test\.go", name)
        if not m:
            continue
        g = re.sub(r"_(no_)?cov$", "", m.group(1) or "ctl")
        for line in open(os.path.join(directory, name)):
            t = re.match(r"func (TestCtlV3\w*)\(", line)
            if t and t.group(1) in listed:
                group[t.group(1)] = g
    return group


def check_ports_free():
    """The suite's fixed ports must be free, or its tests fail in ways that say nothing of etcdctl."""
    busy = []
    for port in list(range(20000, 20036)) + list(range(10000, 10011)):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            busy.append(port)
        finally:
            s.close()
    if busy:
        sys.exit("e2e: ports %s on 127.0.0.1 are in use (another e2e run, or a process left behind?); the suite "
                 "needs 20000-20035 and 10000-10010" % ",".join(map(str, busy)))


def children():
    """(PID, is a zombie) of this process's children: tests, and whatever they left behind, reparented here
    (a process that exited after its parent did is only a zombie to reap)."""
    me = os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == me:
            pids.append((int(entry), fields[0] == "Z"))
    return pids


def reap_leftovers():
    """Kills and reaps every child left after a test; returns their command lines."""
    left = []
    for _ in range(50):
        pids = children()
        if not pids:
            break
        for pid, zombie in pids:
            if zombie:
                continue
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                left.append("%d %s" % (pid, cmd[:120]))
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, _ in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    return left


def make_run_tree(work, etcd, etcdctl):
    root = os.path.join(work, "run")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "tests/e2e"))
    os.makedirs(os.path.join(root, "integration"))
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "tmp"))
    os.symlink(os.path.join(SOURCE, "integration/fixtures"), os.path.join(root, "integration/fixtures"))
    os.symlink(os.path.abspath(etcd), os.path.join(root, "bin/etcd"))
    os.symlink(os.path.abspath(etcdctl), os.path.join(root, "bin/etcdctl"))
    return root


def run_one(binary, root, test, timeout, logdir):
    """Runs one test in its own session; returns (passed, seconds, note)."""
    logpath = os.path.join(logdir, test + ".log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    env["TMPDIR"] = os.path.join(root, "tmp")
    env["EXPECT_DEBUG"] = "1"  # the suite's expect library logs every line etcd and etcdctl print, by path-pid
    args = [binary, "-test.run", "^%s$" % test, "-test.v", "-test.timeout", "%ds" % timeout,
            "-bin-dir", os.path.join(root, "bin"), "-cert-dir", os.path.join(root, "integration/fixtures")]
    start = time.time()
    note = ""
    with open(logpath, "wb") as out:
        p = subprocess.Popen(args, cwd=os.path.join(root, "tests/e2e"), env=env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        CURRENT[:] = [p]
        try:
            p.wait(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            note = "killed after %d s" % (timeout + 30)
        CURRENT[:] = []
    seconds = time.time() - start
    left = reap_leftovers()
    if left:
        with open(logpath, "a") as out:
            out.write("\ne2e: killed what the test left behind:\n" + "\n".join(left) + "\n")
        note = (note + "; " if note else "") + "killed %d left behind" % len(left)
    text = open(logpath, errors="replace").read()
    # The verdict is the test's own: after a passing test, TestMain's check for leaked goroutines (of the Go
    # test process itself, racing with its last child's exit) can still fail the process; that is noted, not
    # counted, since it says nothing about etcdctl.
    passed = ("--- PASS: %s " % test) in text and ("--- FAIL: %s " % test) not in text
    if passed and p.returncode != 0:
        if "Too many goroutines running after all test(s)" in text:
            note = (note + "; " if note else "") + "ignored the suite's goroutine-leak check"
        else:
            passed = False
    if "--- SKIP: %s " % test in text:
        note = (note + "; " if note else "") + "skipped"
    return passed, seconds, note


def read_expected(path, group, tests):
    wanted = set()
    groups = set(group.values())
    for n, line in enumerate(open(path), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if name in groups:
            wanted.update(t for t in tests if group[t] == name)
        elif name in group:
            wanted.add(name)
        else:
            sys.exit("e2e: %s:%d: %r is neither a TestCtlV3 test nor a group (%s)"
                     % (path, n, name, ", ".join(sorted(groups))))
    return wanted


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--etcdctl", required=True, help="the binary the suite runs as etcdctl")
    ap.add_argument("--etcd", default="/usr/bin/etcd", help="the etcd server (default: Debian's 3.4.23)")
    ap.add_argument("--work", default=".build-e2e", help="cache and run directory (default: .build-e2e)")
    ap.add_argument("--timeout", type=int, default=90, help="seconds per test (default: 90)")
    ap.add_argument("--run", default="", help="only tests whose name matches this regular expression")
    ap.add_argument("--expected", help="file of tests and groups that must pass")
    ap.add_argument("--all-but", default="", help="comma-separated tests allowed to fail; all others must pass")
    ap.add_argument("--verbose-failures", action="store_true", help="print the tail of every failed test's log")
    opts = ap.parse_args()

    for path in (opts.etcdctl, opts.etcd):
        if not os.access(path, os.X_OK):
            sys.exit("e2e: %s is not an executable" % path)
    work = os.path.abspath(opts.work)
    os.makedirs(work, exist_ok=True)
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("e2e: prctl(PR_SET_CHILD_SUBREAPER) failed")
    binary = build_suite(work)
    listed = subprocess.run([binary, "-test.list", "^TestCtlV3"], capture_output=True, text=True,
                            check=True).stdout.split()
    group = groups_of_tests(set(listed))
    tests = [t for t in listed if t in group and re.search(opts.run, t)]
    wanted = read_expected(opts.expected, group, tests) if opts.expected else None
    allowed = set(filter(None, opts.all_but.split(",")))
    check_ports_free()
    root = make_run_tree(work, opts.etcd, opts.etcdctl)
    logdir = os.path.join(work, "logs", os.path.basename(os.path.realpath(opts.etcdctl)))
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    log("e2e: %d TestCtlV3 tests; etcdctl = %s, etcd = %s; logs in %s"
        % (len(tests), opts.etcdctl, opts.etcd, logdir))

    # Interrupted (Ctrl-C, or SIGTERM from a CI timeout): stop the running test's session and whatever the
    # tests left, which are this process's children, before exiting.
    def interrupted(signum, frame):
        if CURRENT:
            try:
                os.killpg(CURRENT[0].pid, signal.SIGKILL)
            except OSError:
                pass
        reap_leftovers()
        sys.exit("e2e: interrupted by signal %d" % signum)
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)

    results = {}
    start = time.time()
    for i, test in enumerate(tests, 1):
        passed, seconds, note = run_one(binary, root, test, opts.timeout, logdir)
        results[test] = passed
        log("%-4s %-50s %-14s %6.1f s%s  [%d/%d]" % ("ok" if passed else "FAIL", test, group[test], seconds,
                                                     "  (" + note + ")" if note else "", i, len(tests)))
    total = time.time() - start

    must = wanted if wanted is not None else set(tests) - allowed
    regressions = [t for t in tests if t in must and not results[t]]
    newly = [t for t in tests if wanted is not None and t not in wanted and results[t]]
    if regressions and (opts.verbose_failures or len(regressions) <= 20):
        for t in regressions:
            # the test's own lines and etcdctl's, without the servers' (all are in the log)
            server = os.path.join(root, "bin/etcd-")
            lines = [l for l in open(os.path.join(logdir, t + ".log"), errors="replace").read().splitlines()
                     if not l.startswith(server)]
            log("\n--- %s (last 25 lines of %s, without etcd's)" % (t, os.path.join(logdir, t + ".log")))
            for line in lines[-25:]:
                log("    " + (line if len(line) <= 300 else line[:300] + " ..."))

    log("\n%-16s %6s %6s %6s %9s" % ("group", "tests", "passed", "failed", "must pass"))
    for g in sorted(set(group[t] for t in tests)):
        ts = [t for t in tests if group[t] == g]
        p = sum(results[t] for t in ts)
        log("%-16s %6d %6d %6d %9d" % (g, len(ts), p, len(ts) - p, sum(t in must for t in ts)))
    npass = sum(results.values())
    log("e2e: etcdctl = %s: %d tests in %.0f s (%.1f min)" % (opts.etcdctl, len(tests), total, total / 60))
    if newly:
        log("e2e: these pass but are not in %s (add them): %s" % (opts.expected, " ".join(newly)))
    if regressions:
        log("e2e: these must pass and failed: %s" % " ".join(regressions))
    # Two closing lines: all tests, then the ones that decide the exit status (the last line).
    log("e2e: %d passed, %d failed" % (npass, len(tests) - npass))
    log("expected: %d passed, %d failed" % (len(must) - len(regressions), len(regressions)))
    sys.exit(1 if regressions else 0)


if __name__ == "__main__":
    main()
