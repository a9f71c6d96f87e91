#!/usr/bin/env python3
"""etch's decode path alone: CPU per MB of gateway JSON and peak RSS, with no etcd in the way.

Usage: python3 scripts/bench-decode.py ETCH CAPTURE [--rounds N] [--formats simple,json,jsonl] [--chunk BYTES]
  ETCH     absolute path of the etch binary
  CAPTURE  a watch stream as etcd's gateway sent it: the body of `curl -sN -XPOST http://E/v3/watch -d
           '{"create_request":{...}}'` (the `created` line, then the event lines); make bench captures the one of
           its transaction workload (100,000 events in one 24 MB line)

A loopback server (127.0.0.1, a kernel-assigned port, in this process) answers etch's POST /v3/watch with the
captured bytes, as the gateway does (HTTP/1.1, chunked, CHUNK bytes per chunk, default 64 KiB), as fast as etch
reads them, and keeps the stream open. `etch watch --prefix / --rev 1 --max-events N -w FORMAT` (N the events in
the capture) runs under GNU time (its peak RSS), its CPU time from wait4 (to the microsecond); it exits once it has printed the last event. The report gives etch's user and
system CPU per MB of captured JSON (median over the rounds) and its highest peak RSS; etch's output goes to a
file, which is checked to hold N events. The real binary, its libcurl and the whole watch path (framing,
decoding, printing, writing) run as in a real watch; only the server is replaced.
Prints a Markdown table on stdout.
"""
import argparse, glob, os, shutil, socket, statistics as st, subprocess, sys, tempfile, threading

GNU_TIME = "/usr/bin/time"



def serve(listener, capture, chunk, stop):
    """Answers each connection with the capture (one connection at a time; etch opens one)."""
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            conn.settimeout(30)
            head = b""
            while b"\r\n\r\n" not in head:
                got = conn.recv(65536)
                if not got:
                    break
                head += got
            if not head.startswith(b"POST ") or b"/watch " not in head.split(b"\r\n", 1)[0]:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            view = memoryview(capture)
            for i in range(0, len(capture), chunk):
                part = view[i:i + chunk]
                conn.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            # The stream stays open, as a watch does, until etch hangs up (or the round ends).
            while not stop.is_set():
                try:
                    if not conn.recv(65536):
                        break
                except socket.timeout:
                    continue
        except OSError:
            pass
        finally:
            conn.close()


def wait4_with_timeout(p, timeout):
    """os.wait4 on the child, killing it (and failing) after `timeout` seconds."""
    expired = threading.Event()

    def kill():
        expired.set()
        p.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        result = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(result[1])
    if expired.is_set():
        sys.exit(f"bench-decode: etch gave no answer in {timeout} s")
    return result


def count_instructions(args, port, events, fmt, work):
    """One run of etch under callgrind: the instructions it executed (callgrind's Ir total)."""
    if not shutil.which("valgrind"):
        sys.exit("bench-decode: --instructions needs valgrind (sh scripts/install-deps.sh valgrind)")
    pattern = os.path.join(work, "callgrind.%p")
    with open(os.devnull, "wb") as null:
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={pattern}", args.etch, "--endpoints",
                            f"127.0.0.1:{port}", "watch", "--prefix", "/", "--rev", "1", "--max-events", str(events),
                            "-w", fmt], stdout=null, stderr=subprocess.PIPE, timeout=args.timeout * 20)
    if p.returncode != 0:
        sys.exit(f"bench-decode: etch -w {fmt} under callgrind exited {p.returncode}: {p.stderr.decode()[-300:]}")
    total = 0
    for f in glob.glob(os.path.join(work, "callgrind.*")):
        with open(f) as c:
            total += sum(int(line.split()[1]) for line in c if line.startswith("summary:"))
        os.remove(f)
    return total


def count_events(path, fmt):
    """Events in etch's output: json and jsonl count `"kv":` / one line per event; simple counts PUT/DELETE lines."""
    n = 0
    with open(path, "rb") as f:
        data = f.read()
    if fmt == "json":
        return data.count(b'"kv":')
    if fmt == "jsonl":
        return data.count(b"\n")
    for line in data.split(b"\n"):
        if line in (b"PUT", b"DELETE"):
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("etch")
    ap.add_argument("capture")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--formats", default="simple,json,jsonl")
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before a run is given up")
    ap.add_argument("--save", default="", help="keep etch's last output of each format as SAVE.FORMAT")
    ap.add_argument("--instructions", action="store_true",
                    help="also count etch's instructions in one more run of each format under callgrind (valgrind): "
                         "unlike CPU time, the same on a busy machine as on a quiet one")
    ap.add_argument("--wrap", default="", help="words to run etch under, e.g. 'valgrind --tool=callgrind' (profiling)")
    args = ap.parse_args()
    with open(args.capture, "rb") as f:
        capture = f.read()
    events = capture.count(b'"kv":')
    mb = len(capture) / 1e6
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    stop = threading.Event()
    server = threading.Thread(target=serve, args=(listener, capture, args.chunk, stop), daemon=True)
    server.start()
    work = tempfile.mkdtemp(prefix="etch-bench-decode.")
    rows = []
    try:
        for fmt in [f for f in args.formats.split(",") if f]:
            user, system, rss = [], [], []
            for r in range(args.rounds):
                out, errfile, tfile = (os.path.join(work, n) for n in ("out", "err", "time"))
                with open(out, "wb") as o, open(errfile, "wb") as e:
                    # GNU time gives the peak RSS (a child forked from this Python process would report Python's);
                    # wait4 on it gives the CPU time of it and etch in microseconds (GNU time's %U and %S count
                    # hundredths, a tenth of what is measured here; its own share is well under a millisecond).
                    p = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", tfile] + args.wrap.split() + [
                                         args.etch, "--endpoints", f"127.0.0.1:{port}", "watch", "--prefix", "/",
                                         "--rev", "1", "--max-events", str(events), "-w", fmt], stdout=o, stderr=e)
                    _, status, usage = wait4_with_timeout(p, args.timeout)
                code = os.waitstatus_to_exitcode(status)
                if code != 0:
                    with open(errfile, "rb") as e:
                        sys.exit(f"bench-decode: etch -w {fmt} exited {code}: {e.read().decode()[-300:]}")
                got = count_events(out, fmt)
                if got != events:
                    sys.exit(f"bench-decode: etch -w {fmt} printed {got} events, not {events}")
                with open(tfile) as t:
                    m = int(t.read().split()[-1])
                user.append(usage.ru_utime), system.append(usage.ru_stime), rss.append(m)
            instructions = None
            if args.instructions:
                instructions = count_instructions(args, port, events, fmt, work)
            if args.save:
                os.replace(out, f"{args.save}.{fmt}")
                out = f"{args.save}.{fmt}"
            rows.append((fmt, st.median(user), st.median(system), max(rss), os.path.getsize(out), instructions))
            print(f"bench-decode: -w {fmt}: user {st.median(user):.4f} s (rounds {' '.join(f'{u:.3f}' for u in user)})",
                  file=sys.stderr, flush=True)
    finally:
        stop.set()
        listener.close()
        for name in ("out", "err", "time"):
            try:
                os.remove(os.path.join(work, name))
            except OSError:
                pass
        os.rmdir(work)
    print(f"Decode path alone: a captured gateway watch stream of {len(capture):,} bytes ({events:,} events) served "
          f"from loopback in chunks of {args.chunk:,} bytes; median of {args.rounds} runs of each:")
    print()
    counted = args.instructions
    print("| output | user CPU | user CPU per MB | system CPU | peak RSS | output bytes |"
          + (" instructions | instructions per byte |" if counted else ""))
    print("|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if counted else ""))
    for fmt, u, s, m, size, ins in rows:
        print(f"| {fmt} | {u:.4f} s | {u * 1000 / mb:.2f} ms/MB | {s:.4f} s | {m / 1024:.1f} MiB | {size:,} |"
              + (f" {ins / 1e6:,.1f} M | {ins / len(capture):.1f} |" if counted else ""))
    if counted:
        print()
        print("Instructions: callgrind's count (Ir) for one whole run of etch, start-up and exit included.")


if __name__ == "__main__":
    main()
