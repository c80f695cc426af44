# SPDX-License-Identifier: MIT
"""nd-sniff end to end: command-line errors, replays to stdout and to a hub
(a small WebSocket server run here), signals during a live capture.

Usage: test_nd_sniff.py FIXTURE_DIR"""

import asyncio
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

import websockets  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kitchentest import SNIFF, T0, check, dns_frame, finish, run, write_pcap  # noqa: E402

FIXTURES = sys.argv[1]
EMIT = os.path.join(FIXTURES, "fx_emit.so")


def envelope(line):
    d = json.loads(line)
    m = d["metadata"]
    return m["driver"], m["creation_time"], d["payload"]


tmp = tempfile.mkdtemp(prefix="nd-sniff-test-")
PCAP = os.path.join(tmp, "three.pcap")
write_pcap(PCAP, [(T0, 0, dns_frame(1)), (T0, 500000, dns_frame(2)), (T0 + 2, 500000, dns_frame(3))])
EXPECTED = [
    ("packet", T0 + 0.0, {"len": 71}),
    ("packet", T0 + 0.5, {"len": 71}),
    ("interval", T0 + 1.0, {"packets": 2}),
    ("interval", T0 + 2.0, {"packets": 2}),
    ("packet", T0 + 2.5, {"len": 71}),
    ("interval", T0 + 2.5, {"packets": 3}),
]


def test_help_and_version():
    rc, out, _ = run("--help")
    check(rc == 0 and "--poke-interval" in out and "--chef-path" in out and "-h, --hub" in out,
          "--help explains the options")
    rc, out, _ = run("--version")
    check(rc == 0 and out.startswith("nd-sniff"), "--version")


def test_chef_list():
    rc, out, err = run("-l", "-m", EMIT)
    check(rc == 0, f"-l exits 0 ({rc}, {err})")
    line = [x for x in out.splitlines() if x.startswith("EmitChef")]
    check(len(line) == 1 and "1.2.3" in line[0] and EMIT in line[0]
          and "a chef the tests load" in line[0], f"-l lists the fixture chef: {out!r}")


def test_cli_errors():
    cases = [
        (("--stdout", "-m", EMIT, "-r", os.path.join(tmp, "missing.pcap")), 1,
         "cannot read capture file"),
        (("--stdout", "-m", EMIT, "-r", EMIT), 1, "cannot read capture file"),
        (("--stdout", "-m", EMIT, "-r", PCAP, "-f", "tcp and and"), 1, "bad filter"),
        (("--stdout", "-m", EMIT, "-i", "lo", "-f", "no such filter words"), 1, "bad filter"),
        (("--stdout", "-m", EMIT, "-i", "nosuchif0"), 1, "no such interface \"nosuchif0\""),
        (("--stdout", "-m", EMIT, "-c", "NoSuchChef", "-r", PCAP), 1,
         "unknown chef \"NoSuchChef\" (available: EmitChef)"),
        (("--stdout", "-m", EMIT, "-r", PCAP, "-o", "EmitChef.limit=abc"), 1,
         "expects an integer, got \"abc\""),
        (("--stdout", "-m", EMIT, "-r", PCAP, "-o", "EmitChef.limit=1000"), 1,
         "outside [0, 100]"),
        (("--stdout", "-m", EMIT, "-r", PCAP, "-o", "EmitChef.nokey=1"), 1,
         "has no option \"nokey\""),
        (("--stdout", "-m", EMIT, "-r", PCAP, "-o", "nodot"), 2, "Chef.key=value"),
        (("--stdout", "-m", EMIT, "-r", PCAP, "-o", "OtherChef.x=1"), 2, "OtherChef"),
        (("--stdout", "-m", os.path.join(tmp, "none.so"), "-r", PCAP), 1,
         "cannot load chef module"),
        (("--stdout", "-m", os.path.join(FIXTURES, "fx_wrong_major.so"), "-r", PCAP), 1,
         "built for chef ABI 2.0, this kitchen speaks 1."),
        (("--bogus",), 2, "unknown option --bogus"),
        (("-p", "0", "--stdout"), 2, "--poke-interval"),
        (("-h", "host:notaport", "-r", PCAP), 2, "--hub expects"),
        (("-r", PCAP, "-i", "lo"), 2, "cannot be used together"),
        (("--stdout", "-r", PCAP, "--fanout", "7"), 2,
         "--fanout only applies to live capture"),
        (("--stdout", "-i", "lo", "--fanout", "65536"), 2, "--fanout expects GROUP[:MODE]"),
        (("--stdout", "-i", "lo", "--fanout", "7:rr"), 2, "--fanout expects GROUP[:MODE]"),
        (("--stdout", "-i", "lo", "--fanout", "-1"), 2, "--fanout expects GROUP[:MODE]"),
        (("--stdout", "-i", "lo", "--fanout", "7:"), 2, "--fanout expects GROUP[:MODE]"),
        (("--stdout", "-i", "lo", "-i", "lo", "--fanout", "65535"), 2,
         "needs groups up to 65536"),
    ]
    for args, want_rc, needle in cases:
        rc, out, err = run(*args)
        # the exit status class matters (1 failure, 2 usage); -o problems
        # found by the chef's table count as failures
        ok_rc = rc == want_rc or (want_rc == 1 and rc == 2 and "-o" in args)
        check(ok_rc and needle in err and out == "",
              f"{' '.join(args)}: want exit {want_rc} and {needle!r}, got {rc}: {err!r}")
        check(err.count("\n") <= 3, f"{' '.join(args)}: error stays short: {err!r}")


def test_default_chef_dir():
    # Run from the build tree, nd-sniff finds the built-in chefs there; a copy
    # elsewhere looks in the installed chef folder instead (absent here, or
    # holding installed chefs).
    rc, out, err = run("-l")
    check(rc == 0 and os.path.join(ndltest.BUILD, "chefs") in out or out == "",
          f"the build tree's chef folder is the default: {out!r}")
    copy = os.path.join(tmp, "nd-sniff")
    with open(SNIFF, "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read())
    os.chmod(copy, 0o755)
    p = subprocess.run([copy, "-l", "-v"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check(os.path.join(ndltest.BUILD, "chefs") not in p.stdout.decode(),
          "a copy outside the build tree does not use the build tree's chefs")
    p = subprocess.run([copy, "--stdout", "--chef-path", tmp, "-r", PCAP], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    err = p.stderr.decode()
    if "no usable chef" in err:
        check(p.returncode == 1 and p.stdout == b"", f"no chef at all is an error: {err!r}")


def listed(out, chef):
    """How many times -l lists chef (its options' lines aside)."""
    return sum(1 for x in out.splitlines() if x.split(" ", 1)[0] == chef)


def test_same_chef_folder_twice():
    # The default folder named again with --chef-path, one folder under two
    # names, a link to a module already found: each chef is loaded once and
    # nothing is reported, where a different file with a known chef name is.
    rc, out, err = run("-l")
    builtin = sum(1 for x in out.splitlines() if not x.startswith(" "))
    check(rc == 0 and builtin > 0, f"the build tree's chefs are listed: {out!r}")
    rc, out, err = run("-l", "--chef-path", os.path.join(ndltest.BUILD, "chefs"))
    check(rc == 0 and sum(1 for x in out.splitlines() if not x.startswith(" ")) == builtin
          and err == "",
          f"--chef-path naming the default folder changes nothing: {err!r}")
    one, two = os.path.join(tmp, "one"), os.path.join(tmp, "two")
    os.makedirs(one)
    os.makedirs(two)
    shutil.copy(EMIT, one)
    os.symlink(os.path.join(one, "fx_emit.so"), os.path.join(two, "link.so"))
    rc, out, err = run("-l", "--chef-path", one, "--chef-path", one + "/.", "--chef-path", two,
                       "-m", os.path.join(one, "fx_emit.so"))
    check(rc == 0 and listed(out, "EmitChef") == 1 and err == "",
          f"one file found four ways is one chef, quietly: {out!r} {err!r}")
    rc, out, err = run("-l", "--chef-path", one, "-m", EMIT)
    check(rc == 0 and listed(out, "EmitChef") == 1 and "duplicate refused" in err,
          f"another file with the same chef is still refused: {err!r}")


def test_stdout_replay():
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "-p", "1", "-n", "k1")
    check(rc == 0, f"--stdout -r exits 0 ({rc}: {err})")
    lines = out.splitlines()
    got = [envelope(x) for x in lines]
    check(got == EXPECTED, f"replay dumplings in capture time:\n{got}\nwant\n{EXPECTED}")
    first = json.loads(lines[0])
    check(first["metadata"] == {"chef": "EmitChef", "kitchen": "k1",
                                "creation_time": T0 + 0.0, "driver": "packet", "seq": 1},
          f"metadata of a packet dumpling: {first['metadata']}")
    seqs = [json.loads(x)["metadata"]["seq"] for x in lines]
    check(seqs == list(range(1, len(lines) + 1)), f"seq numbers 1, 2, ... in order: {seqs}")
    check(lines[0].startswith('{"metadata":{"chef":"EmitChef","kitchen":"k1",'),
          "envelope key order and compact form")
    check("3 packets" in err and "6 dumplings written" in err, f"stats at exit: {err!r}")
    rc, out, err = run("--stdout", "-q", "-m", EMIT, "-r", PCAP, "-f", "tcp")
    check(rc == 0 and [envelope(x) for x in out.splitlines()] == [("interval", 0.0, {"packets": 0})]
          or [envelope(x)[0] for x in out.splitlines()] == ["interval"],
          f"a filter matching nothing leaves only the final interval: {out!r}")
    check(err == "", f"-q prints nothing: {err!r}")


def test_odd_linktype():
    path = os.path.join(tmp, "odd.pcap")
    write_pcap(path, [(T0, 0, b"\x01\x02\x03\x04")], linktype=147)
    rc, out, err = run("--stdout", "-m", EMIT, "-r", path, "-f", "")
    check(rc == 0 and len(out.splitlines()) == 2, f"unknown link type is not fatal: {rc} {err}")
    check("unknown_linktype 1" in err, f"decode error counted by name: {err!r}")
    shared = os.path.join(ndltest.SHARED_PCAPS, "802_15_4_beacon.pcap")
    if os.path.isfile(shared):
        rc, out, err = run("--stdout", "-m", EMIT, "-r", shared, "-f", "")
        check(rc == 0 and out.count("\n") >= 2, f"tcpdump's 802.15.4 capture replays: {err!r}")


def test_times_after_2038():
    # pcap stores seconds unsigned in 32 bits; libpcap reads them signed,
    # and the kitchen must not turn 2038..2106 into dates before 1970.
    path = os.path.join(tmp, "y2038.pcap")
    write_pcap(path, [(0x80000000, 0, dns_frame(1)), (0xffffffff, 500000, dns_frame(2))])
    rc, out, err = run("--stdout", "-q", "-m", EMIT, "-r", path, "-p", "86400")
    got = [envelope(x) for x in out.splitlines()]
    check(rc == 0 and [g[1] for g in got if g[0] == "packet"] == [2147483648.0, 4294967295.5],
          f"packet times from 2038 and 2106 read as unsigned seconds: {rc} {got} {err}")


def tcp_frame(payload):
    """Ethernet + IPv4 + TCP 40000 -> 8443 carrying payload."""
    tcp = struct.pack("!HHIIBBHHH", 40000, 8443, 1, 0, 0x50, 0x18, 512, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])) + tcp
    return bytes.fromhex("001122334455") + bytes.fromhex("66778899aabb") + b"\x08\x00" + ip


def test_parse_errors_summary():
    """HTTP and TLS parses that were not whole are named in the exit summary."""
    sni = b"\x00\x00\x00\x0b\x00\x09\x00\x00\x06k.test"
    body = b"\x03\x03" + b"\x5a" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" + \
        struct.pack("!H", len(sni)) + sni
    hello = b"\x16\x03\x01" + struct.pack("!H", 4 + len(body)) + b"\x01" + \
        struct.pack("!I", len(body))[1:] + body
    path = os.path.join(tmp, "app.pcap")
    write_pcap(path, [(T0, 0, tcp_frame(b"GET / HTTP/1.1\r\nHost: a\r\n")),
                      (T0, 1, tcp_frame(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")),
                      (T0, 2, tcp_frame(hello[:-3])),
                      (T0, 3, tcp_frame(hello))])
    rc, out, err = run("--stdout", "-m", EMIT, "-r", path, "-f", "")
    check(rc == 0, f"replay of HTTP and TLS exits 0 ({rc}: {err})")
    check("nd-sniff: HTTP errors: truncated 1\n" in err, f"HTTP errors by name: {err!r}")
    check("nd-sniff: TLS errors: truncated 1\n" in err, f"TLS errors by name: {err!r}")
    check("EmitChef.http: 2\n" in err and "EmitChef.tls: 2\n" in err,
          f"the chef saw both requests and both hellos: {err!r}")
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP)
    check("HTTP errors" not in err and "TLS errors" not in err,
          f"no error lines when there were none: {err!r}")


class FakeHub:
    """A WebSocket server on 127.0.0.1 that records what a kitchen sends."""

    def __init__(self, kick_after=None, port=None):
        self.port = port or ndltest.free_port()
        self.kick_after = kick_after
        self.messages = []
        self.close_code = None
        self.close_reason = None
        self.done = threading.Event()
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    async def _handler(self, ws, path=None):
        try:
            async for m in ws:
                self.messages.append(m)
                if self.kick_after and len(self.messages) >= self.kick_after:
                    await ws.close(4000, "go away")
        except websockets.ConnectionClosed:
            pass
        self.close_code = ws.close_code
        self.close_reason = ws.close_reason
        self.done.set()

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def main():
            self.stop = asyncio.Event()
            async with websockets.serve(self._handler, "127.0.0.1", self.port, max_size=None):
                self.ready.set()
                await self.stop.wait()
        self.loop.run_until_complete(main())

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


def test_hub_replay():
    hub = FakeHub()
    try:
        rc, out, err = run("-h", f"127.0.0.1:{hub.port}", "-m", EMIT, "-r", PCAP, "-p", "1",
                           "-n", "hubk")
        hub.done.wait(10)
        check(rc == 0, f"replay to a hub exits 0 ({rc}: {err})")
        check(len(hub.messages) == 7, f"hello + 6 dumplings, got {len(hub.messages)}")
        if hub.messages:
            hello = json.loads(hub.messages[0])
            check(hello == {"kitchen_name": "hubk", "interface": PCAP, "filter": "tcp or udp or arp",
                            "chefs": ["fx_emit.EmitChef"], "poke_interval": 1.0},
                  f"kitchen hello: {hello}")
            check(list(hello) == ["kitchen_name", "interface", "filter", "chefs", "poke_interval"],
                  "hello key order")
        check([envelope(m) for m in hub.messages[1:]] == EXPECTED, "dumplings over the hub")
        check(hub.close_code == 1000, f"closed cleanly with 1000, got {hub.close_code}")
        check("6 dumplings sent, 0 dropped" in err, f"stats: {err!r}")
    finally:
        hub.close()


def test_hub_unreachable():
    port = ndltest.free_port()
    rc, out, err = run("-h", f"127.0.0.1:{port}", "--no-reconnect", "-m", EMIT, "-r", PCAP)
    check(rc == 1 and f"cannot connect to hub at 127.0.0.1:{port}: Connection refused" in err,
          f"hub unreachable: {rc} {err!r}")
    rc, out, err = run("-h", f"[::1]:{port}", "--no-reconnect", "-m", EMIT, "-r", PCAP)
    check(rc == 1 and f"cannot connect to hub at [::1]:{port}:" in err,
          f"hub unreachable over IPv6: {rc} {err!r}")
    # by default the kitchen keeps trying, then gives up on what it holds
    t0 = time.monotonic()
    rc, out, err = run("-h", f"127.0.0.1:{port}", "-m", EMIT, "-r", PCAP, "-p", "1",
                       "--drain-timeout", "1.5", "--reconnect-max", "0.2")
    took = time.monotonic() - t0
    check(rc == 1 and f"the hub at 127.0.0.1:{port} did not come back within 1.5 s: "
          "6 dumplings lost" in err, f"unreachable hub, default: {rc} {err!r}")
    check(f"cannot connect to hub at 127.0.0.1:{port}: Connection refused;" in err,
          f"the first failure says why: {err!r}")
    tries = err.count(f"cannot connect to hub at 127.0.0.1:{port}: ")
    check(1 <= tries <= 3, f"one line per failed attempt, at most one a second: {tries} {err!r}")
    check("reconnects" in err and "6 never sent" in err, f"stats name what was lost: {err!r}")
    check(1.4 <= took < 8, f"waited for the drain timeout: {took:.1f} s")
    rc, out, err = run("-h", f"127.0.0.1:{port}", "--reconnect-max", "0", "-m", EMIT, "-r", PCAP)
    check(rc == 2 and "--reconnect-max" in err, f"bad --reconnect-max: {rc} {err!r}")


def test_hub_comes_late():
    """The hub starts after the kitchen: the replay waits, then all of it arrives."""
    port = ndltest.free_port()
    with ndltest.Procs() as procs:
        p = procs.start("nd-sniff", [SNIFF, "-h", f"127.0.0.1:{port}", "-m", EMIT, "-r", PCAP,
                                     "-p", "1", "-n", "late", "--reconnect-max", "0.3"])
        time.sleep(1.0)
        hub = FakeHub(port=port)
        try:
            rc = p.wait(20)
            err = p.read_stderr()
            hub.done.wait(10)
        finally:
            hub.close()
    check(rc == 0, f"a late hub gets the whole replay, exit 0 ({rc}: {err})")
    check("cannot connect to hub" in err, f"failed attempts are logged: {err!r}")
    check(len(hub.messages) == 7 and json.loads(hub.messages[0])["kitchen_name"] == "late",
          f"hello + 6 dumplings: {hub.messages[:2]}")
    check([envelope(m) for m in hub.messages[1:]] == EXPECTED, "dumplings in order")
    check([json.loads(m)["metadata"]["seq"] for m in hub.messages[1:]] == list(range(1, 7)),
          "seq 1..6, no gap")
    check("6 dumplings sent, 0 dropped" in err and "dropped while the hub was away" in err,
          f"stats: {err!r}")


def test_hub_kicks():
    path = os.path.join(tmp, "slow.pcap")
    write_pcap(path, [(T0 + i, 0, dns_frame(i)) for i in range(4)])
    hub = FakeHub(kick_after=2)
    try:
        rc, out, err = run("-h", f"127.0.0.1:{hub.port}", "-m", EMIT, "-r", path, "--realtime")
        check(rc == 1 and "closed the connection: code 4000, reason: go away" in err,
              f"the hub closing the link is fatal and explained: {rc} {err!r}")
    finally:
        hub.close()


def test_live_sigterm():
    if os.geteuid() != 0:
        print("live capture needs root: skipped", file=sys.stderr)
        return
    port = ndltest.free_port()
    with ndltest.Procs() as procs:
        p = procs.start("nd-sniff", [SNIFF, "--stdout", "-m", EMIT, "-i", "lo", "-p", "0.2",
                                     "-f", f"udp port {port}"])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        deadline = time.monotonic() + 1.5
        sent = 0
        while time.monotonic() < deadline and p.poll() is None:
            s.sendto(b"x" * 10, ("127.0.0.1", port))
            sent += 1
            time.sleep(0.02)
        s.close()
        time.sleep(0.3)
        p.signal(signal.SIGTERM)
        rc = p.wait(10)
        got = [envelope(x) for x in p.read_stdout().splitlines()]
        err = p.read_stderr()
    check(rc == 0, f"SIGTERM stops a live capture with 0 ({rc}: {err})")
    packets = [g for g in got if g[0] == "packet"]
    intervals = [g for g in got if g[0] == "interval"]
    check(len(packets) >= sent // 2, f"live packets reach the chef ({len(packets)} of {sent})")
    check(all(g[2] == {"len": 52} for g in packets), "loopback frames of 52 bytes, each once")
    check(len(intervals) >= 2 and intervals[-1][2] == {"packets": len(packets)},
          f"interval timer and the final interval: {intervals[-3:]}")
    now = time.time()
    check(all(abs(g[1] - now) < 60 for g in got), "live timestamps are wall-clock time")


for t in [test_help_and_version, test_chef_list, test_cli_errors, test_default_chef_dir,
          test_same_chef_folder_twice,
          test_stdout_replay,
          test_odd_linktype, test_times_after_2038, test_parse_errors_summary, test_hub_replay, test_hub_unreachable, test_hub_comes_late, test_hub_kicks,
          test_live_sigterm]:
    t()

shutil.rmtree(tmp, ignore_errors=True)
finish()
print("all nd-sniff checks passed")
