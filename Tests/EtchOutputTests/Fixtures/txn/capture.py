#!/usr/bin/env python3
"""The txn fixtures of this directory: python3 capture.py DIR (needs /usr/bin/etcd and /usr/bin/etcdctl 3.4.23).

Each scenario runs on twin servers (the same ports, cluster token and seed each time), so that the gateway's JSON
reply (curl) and etcdctl's output in each format are for the same transaction at the same revision with the same
IDs. Only loopback, on ports the kernel picks."""
import json, os, shutil, socket, subprocess, sys, tempfile, time, base64, urllib.request

OUT = sys.argv[1]
def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
CP, PP = port(), port()
EP = "127.0.0.1:%d" % CP

def server():
    d = tempfile.mkdtemp(prefix="txncap")
    p = subprocess.Popen(["/usr/bin/etcd", "--name", "cap", "--data-dir", d + "/d",
        "--listen-client-urls", "http://" + EP, "--advertise-client-urls", "http://" + EP,
        "--listen-peer-urls", "http://127.0.0.1:%d" % PP, "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % PP,
        "--initial-cluster", "cap=http://127.0.0.1:%d" % PP, "--initial-cluster-token", "etch-txn-fixtures",
        "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if b'"health":"true"' in urllib.request.urlopen("http://%s/health" % EP, timeout=1).read(): break
        except Exception: pass
        time.sleep(0.1)
    return p, d

def ctl(args, stdin=None):
    return subprocess.run(["/usr/bin/etcdctl", "--endpoints", EP] + args, input=stdin, capture_output=True)

SCENARIOS = {
  # name: (seed commands, txn input, gateway body)
  "txn_success": ([["put", "k", "v"], ["put", "old", "o1"], ["put", "gone/a", "1"], ["put", "gone/b", "2"]],
      b'mod("k") > "0"\nval("k") = "v"\n\nget k\nput old new --prev-kv\ndel gone/ --prefix --prev-kv\nget nokey\n\nput k fail\n\n',
      {"compare": [{"result": "GREATER", "target": "MOD", "key": "aw==", "mod_revision": "0"},
                   {"result": "EQUAL", "target": "VALUE", "key": "aw==", "value": "dg=="}],
       "success": [{"request_range": {"key": "aw=="}}, {"request_put": {"key": "b2xk", "value": "bmV3", "prev_kv": True}},
                   {"request_delete_range": {"key": "Z29uZS8=", "range_end": "Z29uZTA=", "prev_kv": True}},
                   {"request_range": {"key": "bm9rZXk="}}],
       "failure": [{"request_put": {"key": "aw==", "value": "ZmFpbA=="}}]}),
  "txn_failure": ([["put", "k", "v"], ["put", "a\n\"b", "x\ty"]],
      b'ver("k") = "5"\n\nput k ok\n\nget "a\\n\\"b"\nget k --keys-only\nput n1 v1\ndel nokey\n\n',
      {"compare": [{"result": "EQUAL", "target": "VERSION", "key": "aw==", "version": "5"}],
       "success": [{"request_put": {"key": "aw==", "value": "b2s="}}],
       "failure": [{"request_range": {"key": base64.b64encode(b'a\n"b').decode()}},
                   {"request_range": {"key": "aw==", "keys_only": True}},
                   {"request_put": {"key": "bjE=", "value": "djE="}}, {"request_delete_range": {"key": "bm9rZXk="}}]}),
  "txn_empty": ([], b'\n\n\n', {}),
}

for name, (seed, txn, body) in SCENARIOS.items():
    for fmt in ["gateway", "simple", "json", "fields", "protobuf"]:
        p, d = server()
        try:
            for s in seed: assert ctl(s).returncode == 0
            if fmt == "gateway":
                req = urllib.request.Request("http://%s/v3/kv/txn" % EP, data=json.dumps(body).encode(), method="POST")
                data = urllib.request.urlopen(req).read()
                ext = "gateway.json"
            else:
                r = ctl(["txn", "-w", fmt], txn)
                assert r.returncode == 0, r.stderr
                data = r.stdout
                ext = fmt
            open(os.path.join(OUT, "%s.%s" % (name, ext)), "wb").write(data)
        finally:
            p.kill(); p.wait(); shutil.rmtree(d)
    print(name, "captured")
