#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Kitchens sharing an interface through a Linux fanout group (--fanout).

Two network namespaces joined by a veth pair: a client in one, an echo
server and the kitchens in the other. Two nd-sniff processes capture on the
server's end of the pair in fanout group GROUP (hash), with FlowChef ending
every flow at every interval. The client runs FLOWS UDP flows, each a few
small round trips and one whose datagram is larger than the link's MTU, so
that it travels as IPv4 fragments both ways.

What must hold: every flow is reported by exactly one kitchen, both of its
directions with every packet; the kernel hands each fragmented datagram to
a kitchen whole (the group reassembles before it chooses), so the two
kitchens together see exactly the datagrams sent, once each; both kitchens
get a share. A third kitchen asking for the same group in another mode is
refused with a clear message and exit status 1.
Needs root and iproute2; skipped otherwise."""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402
from ndltest import in_ns, sh  # noqa: E402

PID = os.getpid()
CLIENT_NS, SERVER_NS = f"ndl-fo{PID}-c", f"ndl-fo{PID}-s"
CLIENT_ADDR, SERVER_ADDR = "10.79.0.1", "10.79.0.2"   # only inside these namespaces
GROUP = 4242
FLOWS = 48
SMALL, LARGE = 3, 3000       # round trips of 20 bytes, then one of LARGE bytes
FIRST_PORT = 41000


def build_network():
    sh("ip", "netns", "add", CLIENT_NS)
    sh("ip", "netns", "add", SERVER_NS)
    sh("ip", "link", "add", "vc", "netns", CLIENT_NS, "type", "veth",
       "peer", "name", "vs", "netns", SERVER_NS)
    for ns, dev, addr in ((CLIENT_NS, "vc", CLIENT_ADDR), (SERVER_NS, "vs", SERVER_ADDR)):
        sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "mtu", "1500", "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def delete_network():
    for ns in (CLIENT_NS, SERVER_NS):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


ECHO = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{SERVER_ADDR}", 9))
print("ready", flush=True)
while True:
    d, peer = s.recvfrom(65535)
    s.sendto(d, peer)
"""

CLIENT = f"""
import socket
for port in range({FIRST_PORT}, {FIRST_PORT + FLOWS}):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("{CLIENT_ADDR}", port))
    s.settimeout(5)
    for size in [20] * {SMALL} + [{LARGE}]:
        s.sendto(b"x" * size, ("{SERVER_ADDR}", 9))
        assert len(s.recvfrom(65535)[0]) == size
    s.close()
print("done", flush=True)
"""


def kitchen(procs, name, fanout):
    return procs.start(name, in_ns(
        SERVER_NS, ndltest.prog("nd-sniff"), "-i", "vs", "--fanout", fanout, "--stdout",
        "-c", "FlowChef", "-o", "FlowChef.flush_on_interval=true", "-p", "0.3",
        "-f", "udp", "-v"))


def wait_for(pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def flows_of(k):
    """client port -> [c2s packets, c2s bytes, s2c packets, s2c bytes] summed."""
    got = {}
    for d in k.json_lines():
        p = d["payload"]
        if "client" not in p:
            continue
        assert p["proto"] == "udp" and p["server"] == {"ip": SERVER_ADDR, "port": 9}, p
        assert p["client"]["ip"] == CLIENT_ADDR, p
        f = got.setdefault(p["client"]["port"], [0, 0, 0, 0])
        for i, side in enumerate(("client_to_server", "server_to_client")):
            f[2 * i] += p[side]["packets"]
            f[2 * i + 1] += p[side]["bytes"]
    return got


def packets_seen(err):
    m = re.search(r"^nd-sniff: (\d+) packets \(", err, re.M)
    assert m, f"no statistics line:\n{err}"
    return int(m.group(1))


def run(procs):
    echo = procs.start("echo", in_ns(SERVER_NS, sys.executable, "-c", ECHO))
    wait_for(lambda: "ready" in echo.read_stdout(), "the echo server")
    kitchens = [kitchen(procs, f"nd-sniff {n}", str(GROUP)) for n in (1, 2)]
    for k in kitchens:
        wait_for(lambda: f"vs: in fanout group {GROUP} (hash)" in k.read_stderr(),
                 f"{k.name} to join the group")
        wait_for(lambda: k.json_lines(), f"{k.name}'s first interval")

    # The group exists in hash mode: another mode is refused, and said so.
    odd = kitchen(procs, "nd-sniff cpu", f"{GROUP}:cpu")
    rc = odd.wait(timeout=20)
    err = odd.read_stderr()
    assert rc == 1 and f"cannot join fanout group {GROUP} on vs: it exists with another " \
        "mode" in err, f"a kitchen in another mode: exit {rc}:\n{err}"

    client = subprocess.run(in_ns(CLIENT_NS, sys.executable, "-c", CLIENT),
                            capture_output=True, text=True, timeout=60)
    assert client.returncode == 0 and client.stdout.strip() == "done", client.stderr
    time.sleep(1.0)     # three intervals: every flow has been flushed

    errs = []
    for k in kitchens:
        rc = k.stop()
        err = k.read_stderr()
        assert rc == 0, f"{k.name} exited {rc}:\n{err}"
        assert not ndltest.sanitizer_reports(err), err
        errs.append(err)
    per = [flows_of(k) for k in kitchens]

    # frames of whole IPv4 datagrams: Ethernet 14, IPv4 20 and UDP 8 bytes
    want_c2s = [SMALL + 1, SMALL * (20 + 42) + LARGE + 42]
    for port in range(FIRST_PORT, FIRST_PORT + FLOWS):
        where = [n for n, flows in enumerate(per) if port in flows]
        assert len(where) == 1, f"flow from port {port} reported by kitchens {where}"
        f = per[where[0]][port]
        assert f[0:2] == want_c2s and f[2:4] == want_c2s, \
            f"flow from port {port}: {f}, want {want_c2s} each way"
    shares = [len(flows) for flows in per]
    assert all(shares), f"one kitchen got every flow: {shares}"
    assert set(per[0]) | set(per[1]) == set(range(FIRST_PORT, FIRST_PORT + FLOWS))

    # Whole datagrams, once each: the fragments were never seen apart.
    seen = [packets_seen(e) for e in errs]
    assert sum(seen) == FLOWS * (SMALL + 1) * 2, f"packets seen {seen}"
    assert echo.stop() in (0, -15)
    return shares


def main():
    def body():
        with ndltest.Procs() as procs:
            shares = run(procs)
        return f"ok: {FLOWS} flows shared {shares[0]} + {shares[1]} in fanout group {GROUP}"
    return ndltest.in_namespaces(CLIENT_NS, build_network, delete_network, body)


if __name__ == "__main__":
    sys.exit(main())
