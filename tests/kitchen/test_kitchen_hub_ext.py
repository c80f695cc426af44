# SPDX-License-Identifier: MIT
"""nd-sniff and the hub extensions of docs/protocol.md sections 10 and 12:
the batch subprotocol (offered, taken or not, JSON Lines up to
--batch-bytes), tokens (sent in the hello, 4104 ends the kitchen without a
retry, never printed) and wss:// (--hub-ca, clear errors for a wrong CA or
scheme). First against small python-websockets servers that do exactly one
thing each, then against the real nd-hub with TLS and kitchen tokens, with an
eater reading what arrived.

Usage: test_kitchen_hub_ext.py FIXTURE_DIR"""

import asyncio
import json
import os
import re
import shutil
import struct
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

import websockets  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kitchentest import SNIFF, T0, check, dns_frame, finish, write_pcap  # noqa: E402
from kitchentest import run as run_sniff  # noqa: E402


def run(*args, timeout=40):
    return run_sniff(*args, timeout=timeout)

FIXTURES = sys.argv[1]
EMIT = os.path.join(FIXTURES, "fx_emit.so")
BATCH = "netdumplings.batch.v1"
TOKEN = "k-7f3a9c2e51d04b88"


tmp = tempfile.mkdtemp(prefix="nd-sniff-hubext-")
# 3 packets, poke 1 s: 6 dumplings (3 packet, 3 interval)
PCAP = os.path.join(tmp, "three.pcap")
write_pcap(PCAP, [(T0, 0, dns_frame(1)), (T0, 500000, dns_frame(2)),
                  (T0 + 2, 500000, dns_frame(3))])
# 300 packets within one second: 300 packet dumplings and 1 interval one
MANY = os.path.join(tmp, "many.pcap")
write_pcap(MANY, [(T0, i * 1000, dns_frame(i)) for i in range(300)])


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=tmp)


def make_certs():
    """A throwaway CA, a server certificate it signed for 127.0.0.1 and
    localhost, and a second CA that signed nothing of ours."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=ndl test CA")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key",
            "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=ndl other CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "hub.key", "-out", "hub.csr",
            "-subj", "/CN=localhost")
    with open(os.path.join(tmp, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "hub.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "hub.pem", "-days", "2", "-extfile", "ext.cnf")
    return (os.path.join(tmp, "ca.pem"), os.path.join(tmp, "other-ca.pem"),
            os.path.join(tmp, "hub.pem"), os.path.join(tmp, "hub.key"))


CA, OTHER_CA, CERT, KEY = make_certs()
TOKEN_FILE = os.path.join(tmp, "kitchen.token")
with open(TOKEN_FILE, "w") as f:
    f.write("# the kitchens' token\n\n  " + TOKEN + "  \nsecond-line-is-ignored\n")
os.chmod(TOKEN_FILE, 0o600)
WRONG_TOKEN_FILE = os.path.join(tmp, "wrong.token")
with open(WRONG_TOKEN_FILE, "w") as f:
    f.write("not-the-token\n")
os.chmod(WRONG_TOKEN_FILE, 0o600)


class Server:
    """A python-websockets server in a thread that records each connection:
    the subprotocols offered, the one chosen, the messages. subprotocols is
    what it is willing to choose (None: never chooses one, as a 0.5.1 hub);
    token: close with 4104 unless the hello carries it."""

    def __init__(self, subprotocols=None, tls=False, token=None):
        self.port = ndltest.free_port()
        self.subprotocols = subprotocols
        self.token = token
        self.conns = []
        self.ssl = None
        if tls:
            self.ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl.load_cert_chain(CERT, KEY)
        self.done = threading.Event()
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    async def _handler(self, ws, path=None):
        conn = {"offered": ws.request_headers.get("Sec-WebSocket-Protocol"),
                "chosen": ws.subprotocol, "messages": []}
        self.conns.append(conn)
        try:
            async for m in ws:
                conn["messages"].append(m)
                if self.token is not None and len(conn["messages"]) == 1:
                    if json.loads(m).get("token") != self.token:
                        await ws.close(4104, "token missing or wrong")
        except websockets.ConnectionClosed:
            pass
        conn["close"] = ws.close_code
        self.done.set()

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def main():
            self.stop = asyncio.Event()
            async with websockets.serve(self._handler, "127.0.0.1", self.port, max_size=None,
                                        subprotocols=self.subprotocols, ssl=self.ssl):
                self.ready.set()
                await self.stop.wait()
        self.loop.run_until_complete(main())

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


def lines_of(messages):
    """Dumplings of batch messages: every message must end in a line feed."""
    out = []
    for m in messages:
        check(m.endswith("\n"), f"a batch message ends with a line feed: {m[-40:]!r}")
        out += [json.loads(x) for x in m.split("\n")[:-1]]
    return out


def seqs(dumplings):
    return [d["metadata"]["seq"] for d in dumplings]


def test_plain_server_ignores_the_offer():
    """A server that chooses no subprotocol (a 0.5.1 hub): lws 4.1.6 still
    connects, and the kitchen sends one dumpling per message."""
    srv = Server(subprotocols=None)
    try:
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP, "-p", "1",
                           "-v")
        srv.done.wait(10)
    finally:
        srv.close()
    check(rc == 0, f"replay to a server that ignores the offer: {rc} {err[-500:]!r}")
    check(len(srv.conns) == 1, f"one connection: {len(srv.conns)}")
    if not srv.conns:
        return
    c = srv.conns[0]
    check(c["offered"] == f"{BATCH}, netdumplings", f"offered: {c['offered']!r}")
    check(c["chosen"] is None, f"chosen: {c['chosen']!r}")
    check(len(c["messages"]) == 7, f"hello + 6 messages: {len(c['messages'])}")
    ds = [json.loads(m) for m in c["messages"][1:]]
    check(seqs(ds) == list(range(1, 7)), f"seq 1..6: {seqs(ds)}")
    check(all(not m.endswith("\n") for m in c["messages"]), "no line feeds outside batch mode")
    check("(batch mode)" not in err and "6 dumplings sent, 0 dropped" in err, f"stats: {err!r}")


def test_plain_subprotocol_chosen():
    """A server that chooses plain "netdumplings" from the offer: one
    dumpling per message."""
    srv = Server(subprotocols=["netdumplings"])
    try:
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP, "-p", "1",
                           "-v")
        srv.done.wait(10)
    finally:
        srv.close()
    c = srv.conns[0] if srv.conns else {"chosen": None, "messages": []}
    check(rc == 0 and c["chosen"] == "netdumplings" and len(c["messages"]) == 7,
          f"'netdumplings' chosen: one per message: {rc} {c['chosen']} {len(c['messages'])}")
    check("(batch mode)" not in err, "not batch mode")


def test_batch_server():
    """A server that chooses the batch subprotocol: the hello alone, then
    JSON Lines, every dumpling once, in order."""
    srv = Server(subprotocols=[BATCH])
    try:
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", MANY, "-p", "1",
                           "-v")
        srv.done.wait(10)
    finally:
        srv.close()
    check(rc == 0, f"batch replay exits 0: {rc} {err[-500:]!r}")
    c = srv.conns[0] if srv.conns else {"messages": [], "chosen": None}
    check(c["chosen"] == BATCH, f"batch chosen: {c['chosen']!r}")
    check("connected to the hub at" in err and "(batch mode)" in err, f"says batch: {err!r}")
    msgs = c["messages"]
    check(len(msgs) >= 2 and json.loads(msgs[0])["kitchen_name"] == "default_kitchen",
          "the hello is a message of its own")
    ds = lines_of(msgs[1:])
    check(len(ds) == 301 and seqs(ds) == list(range(1, 302)),
          f"301 dumplings, seq 1..301: {len(ds)}")
    check(len(msgs) - 1 < 301, f"batched: {len(msgs) - 1} messages for 301 dumplings")
    check(all(len(m.encode()) <= 65536 for m in msgs), "no message over --batch-bytes")
    check("301 dumplings sent, 0 dropped" in err, f"stats count dumplings: {err!r}")


def test_batch_bytes():
    srv = Server(subprotocols=[BATCH])
    try:
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", MANY, "-p", "1",
                           "--batch-bytes", "1024")
        srv.done.wait(10)
    finally:
        srv.close()
    msgs = srv.conns[0]["messages"] if srv.conns else []
    ds = lines_of(msgs[1:])
    sizes = [len(m.encode()) for m in msgs[1:]]
    check(rc == 0 and seqs(ds) == list(range(1, 302)), f"all 301 in order: {rc} {len(ds)}")
    check(sizes and max(sizes) <= 1024, f"messages of at most 1024 bytes: {max(sizes or [0])}")
    one = len(json.dumps(ds[0], separators=(",", ":"))) + 1 if ds else 1
    check(len(msgs) - 1 >= 301 // (1024 // one), f"as many as fit, no more: {len(msgs) - 1}")
    check(min(len(m.split("\n")) - 1 for m in msgs[1:-1]) >= 1024 // one - 1,
          "each message holds as many dumplings as fit")
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--batch-bytes", "100")
    check(rc == 2 and "--batch-bytes expects an integer in [1024, 16777216]" in err,
          f"--batch-bytes range: {rc} {err!r}")


def big_frame(n):
    """Ethernet + IPv4 + UDP 1024 -> 9 (discard) carrying n bytes."""
    payload = bytes(i & 0xff for i in range(n))
    udp = struct.pack("!HHHH", 1024, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 3])) + udp
    return bytes.fromhex("001122334455") + bytes.fromhex("66778899aabb") + b"\x08\x00" + ip


# Small dumplings and ones larger than --batch-bytes 1024 in turn, paced by
# --realtime so that the outbox empties between them: a large one must go
# alone and whole, the small ones around it batched, none lost or reordered.
MIXED = os.path.join(tmp, "mixed.pcap")
write_pcap(MIXED, [(T0, i * 100000, dns_frame(i) if i % 2 == 0 else big_frame(1400))
                   for i in range(8)])


def test_large_dumplings():
    for subprotocols, extra, mode in (([BATCH], [], "batch"), (None, [], "single"),
                                      ([BATCH], ["--no-batch"], "single")):
        srv = Server(subprotocols=subprotocols)
        try:
            rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-r", MIXED, "--realtime",
                               "-c", "DNSLookupChef", "-c", "PacketLayersChef",
                               "-o", "PacketLayersChef.payload_hex_max=2000",
                               "--batch-bytes", "1024", "--no-reconnect", *extra)
            srv.done.wait(10)
        finally:
            srv.close()
        msgs = srv.conns[0]["messages"][1:] if srv.conns else []
        m = re.search(r"(\d+) dumplings sent, 0 dropped", err)
        sent = int(m.group(1)) if m else -1
        check(rc == 0 and sent >= 8, f"{mode}: replay exits 0, all sent: {rc} {err[-500:]!r}")
        if mode == "batch":
            ds = lines_of(msgs)
            for msg in msgs:
                check(len(msg.encode()) <= 1024 or msg.count("\n") == 1,
                      f"batch: over --batch-bytes only alone: {len(msg.encode())} bytes")
        else:
            check(all(not x.endswith("\n") for x in msgs), "single: no line feeds")
            ds = [json.loads(x) for x in msgs]
        big = [d for d in ds if len(json.dumps(d)) > 1024]
        check(len(ds) == sent and seqs(ds) == list(range(1, sent + 1)),
              f"{mode}: every dumpling once, in order: {len(ds)} of {sent}")
        check(len(big) == 4, f"{mode}: the four large dumplings arrived: {len(big)}")


def test_no_batch():
    srv = Server(subprotocols=[BATCH])
    try:
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP, "-p", "1",
                           "--no-batch")
        srv.done.wait(10)
    finally:
        srv.close()
    c = srv.conns[0] if srv.conns else {"offered": "?", "messages": []}
    check(rc == 0 and c["offered"] is None and c["chosen"] is None,
          f"--no-batch offers nothing: {rc} {c['offered']!r}")
    check(len(c["messages"]) == 7, f"one dumpling per message: {len(c['messages'])}")


def test_token_python():
    srv = Server(token=TOKEN)
    try:
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP, "-p", "1",
                           "--token-file", TOKEN_FILE, "-v", "-v")
        srv.done.wait(10)
    finally:
        srv.close()
    hello = json.loads(srv.conns[0]["messages"][0]) if srv.conns else {}
    check(rc == 0 and hello.get("token") == TOKEN, f"the token in the hello: {rc} {hello}")
    check(list(hello)[-1] == "token", f"token is the hello's last member: {list(hello)}")
    check(TOKEN not in out + err, "the token is never printed, even with -v -v")

    srv = Server(token=TOKEN)
    try:
        t0 = time.monotonic()
        # --realtime: still connected when the refusal comes, which the hub
        # sends after the hello, with no acknowledgement of what came before
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP, "--realtime",
                           "--token-file", WRONG_TOKEN_FILE, "--reconnect-max", "0.2")
        took = time.monotonic() - t0
        time.sleep(0.5)
    finally:
        srv.close()
    check(rc == 1 and "refused the token of --token-file (close 4104: token missing or wrong)"
          in err, f"4104 explained: {rc} {err!r}")
    check(len(srv.conns) == 1, f"no retry after 4104: {len(srv.conns)} connections")
    check(took < 8, f"exits at once: {took:.1f} s")
    check("not-the-token" not in out + err, "the wrong token is not printed either")

    srv = Server(token=TOKEN)
    try:
        rc, out, err = run("-h", f"127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP, "--realtime")
    finally:
        srv.close()
    check(rc == 1 and "refused the token: it wants one (--token-file)" in err,
          f"no token given: {rc} {err!r}")

    for content, what in (("# only a comment\n\n", "holds no token"),
                          ("a\x01b\n", "holds a control character")):
        path = os.path.join(tmp, "bad.token")
        with open(path, "w") as f:
            f.write(content)
        rc, out, err = run("-h", "127.0.0.1:9", "-m", EMIT, "-r", PCAP, "--token-file", path)
        check(rc == 1 and what in err, f"bad token file ({what}): {rc} {err!r}")
    rc, out, err = run("-h", "127.0.0.1:9", "-m", EMIT, "-r", PCAP, "--token-file",
                       os.path.join(tmp, "missing.token"))
    check(rc == 1 and "cannot read the token file" in err and "No such file" in err,
          f"missing token file: {rc} {err!r}")


def test_tls_python():
    srv = Server(tls=True)
    try:
        rc, out, err = run("-h", f"wss://127.0.0.1:{srv.port}", "--hub-ca", CA, "-m", EMIT,
                           "-r", PCAP, "-p", "1", "-v")
        srv.done.wait(10)
        check(rc == 0 and len(srv.conns) == 1 and len(srv.conns[0]["messages"]) == 7,
              f"wss:// with --hub-ca: {rc} {err[-400:]!r}")
        check(f"connected to the hub at wss://127.0.0.1:{srv.port}" in err, "says wss://")

        rc, out, err = run("-h", f"wss://127.0.0.1:{srv.port}/", "--hub-ca", OTHER_CA,
                           "-m", EMIT, "-r", PCAP, "--no-reconnect")
        check(rc == 1 and f"cannot connect to hub at wss://127.0.0.1:{srv.port}: TLS: "
              "unable to get local issuer certificate" in err and OTHER_CA in err,
              f"wrong CA: {rc} {err!r}")
        rc, out, err = run("-h", f"wss://127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP,
                           "--no-reconnect")
        check(rc == 1 and "TLS: unable to get local issuer certificate" in err and
              "the system's store" in err, f"system store does not know our CA: {rc} {err!r}")
        rc, out, err = run("-h", f"ws://127.0.0.1:{srv.port}", "-m", EMIT, "-r", PCAP,
                           "--no-reconnect", timeout=30)
        check(rc == 1 and "hung up during the handshake (does it want wss://?)" in err,
              f"ws:// to a TLS server fails, does not hang: {rc} {err!r}")
    finally:
        srv.close()
    plain = Server()
    try:
        rc, out, err = run("-h", f"wss://127.0.0.1:{plain.port}", "--hub-ca", CA, "-m", EMIT,
                           "-r", PCAP, "--no-reconnect", timeout=30)
        check(rc == 1 and "the TLS handshake failed" in err, f"wss:// to a plain server: {rc} "
              f"{err!r}")
    finally:
        plain.close()
    for bad in ("http://127.0.0.1:1", "wss://", "wss://h:1/path", "wss://h:70000"):
        rc, out, err = run("-h", bad, "-m", EMIT, "-r", PCAP)
        check(rc == 2 and "--hub expects HOST:PORT" in err, f"bad hub {bad}: {rc} {err!r}")
    rc, out, err = run("-h", "127.0.0.1:1", "--hub-ca", CA, "-m", EMIT, "-r", PCAP)
    check(rc == 2 and "--hub-ca only applies to a wss:// hub" in err, f"--hub-ca, ws: {err!r}")
    rc, out, err = run("-h", "wss://127.0.0.1:1", "--hub-ca", os.path.join(tmp, "nope.pem"),
                       "-m", EMIT, "-r", PCAP)
    check(rc == 1 and "cannot read the CA file" in err, f"missing CA file: {rc} {err!r}")


def hub_has(option):
    p = subprocess.run([ndltest.prog("nd-hub"), "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    return option in p.stdout.decode()


async def eat(port, sniff_args, want, timeout=20.0):
    """Connect an eater over wss://, then run nd-sniff; returns (dumplings
    from the kitchen, kitchen exit status, its stderr)."""
    ctx = ssl.create_default_context(cafile=CA)
    got = []
    async with websockets.connect(f"wss://127.0.0.1:{port}", ssl=ctx, max_size=None,
                                  ping_interval=None) as ws:
        await ws.send(json.dumps({"eater_name": "kitchen-test"}))
        await asyncio.sleep(0.3)
        proc = await asyncio.create_subprocess_exec(
            SNIFF, *sniff_args, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            try:
                m = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            for line in m.splitlines():
                d = json.loads(line)
                if d["metadata"]["chef"].startswith("System"):
                    continue
                got.append(d)
        err = (await asyncio.wait_for(proc.stderr.read(), timeout)).decode()
        rc = await asyncio.wait_for(proc.wait(), timeout)
    return got, rc, err


def test_real_hub():
    if not (hub_has("--tls-cert") and hub_has("--kitchen-token-file")):
        print("nd-hub has no --tls-cert/--kitchen-token-file yet: real-hub checks skipped",
              file=sys.stderr)
        return
    hub_tokens = os.path.join(tmp, "hub-kitchens.tok")
    with open(hub_tokens, "w") as f:
        f.write("# rotated out soon\nold-token\n" + TOKEN + "\n")
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--tls-cert", CERT, "--tls-key", KEY,
                                                    "--kitchen-token-file", hub_tokens)
        base = ["-h", f"wss://127.0.0.1:{in_port}", "--hub-ca", CA, "-m", EMIT, "-p", "1",
                "--token-file", TOKEN_FILE, "-n", "secure"]
        for extra, mode in (([], "batch"), (["--no-batch"], "single")):
            got, rc, err = asyncio.run(eat(out_port, base + ["-r", MANY, "-v"] + extra, 301))
            check(rc == 0, f"{mode}: kitchen over wss with a token exits 0: {rc} {err[-500:]!r}")
            check(("(batch mode)" in err) == (mode == "batch"), f"{mode}: mode said: {err!r}")
            check(len(got) == 301 and seqs(got) == list(range(1, 302)),
                  f"{mode}: the eater got 301 dumplings in order: {len(got)}")
            check(all(d["metadata"]["kitchen"] == "secure" for d in got), f"{mode}: kitchen")
            check("301 dumplings sent, 0 dropped" in err, f"{mode}: stats {err!r}")
            check(TOKEN not in err, f"{mode}: token never printed")

        rc, out, err = run(*base[:-4], "-r", PCAP, "--realtime", "--token-file",
                           WRONG_TOKEN_FILE, "--reconnect-max", "0.2")
        check(rc == 1 and "refused the token of --token-file (close 4104" in err,
              f"real hub, wrong token: {rc} {err!r}")
        rc, out, err = run("-h", f"wss://127.0.0.1:{in_port}", "-m", EMIT, "-r", PCAP,
                           "--token-file", TOKEN_FILE, "--no-reconnect")
        check(rc == 1 and "TLS: unable to get local issuer certificate" in err,
              f"real hub, no CA: {rc} {err!r}")
        time.sleep(0.3)
        herr = hub.read_stderr()
        check("bad_token" in herr, f"the hub counted the bad token: {herr[-600:]!r}")
        check(TOKEN not in herr and "not-the-token" not in herr, "the hub never logs tokens")


for t in [test_plain_server_ignores_the_offer, test_plain_subprotocol_chosen, test_batch_server, test_batch_bytes,
          test_large_dumplings, test_no_batch, test_token_python, test_tls_python, test_real_hub]:
    t()

shutil.rmtree(tmp, ignore_errors=True)
finish()
print("all nd-sniff hub extension checks passed")
