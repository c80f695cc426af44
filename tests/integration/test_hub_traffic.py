#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live capture leaves the hub's own traffic out.

Inside a network namespace of its own (so that its loopback carries only this
test's traffic), the test runs nd-hub, an nd-print eater and a kitchen
capturing on lo with IPConnChef (a dumpling per TCP/UDP packet) while it
sends 20 UDP datagrams. Without the exclusion every dumpling sent to the hub,
and every one the hub forwards to the eater, would be a captured TCP packet
that becomes another dumpling. Then, with --capture-hub-traffic, the same
run must see the hub's TCP: proof that the exclusion is what kept it out.
Needs root and iproute2; skipped otherwise."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

IN_PORT, OUT_PORT, UDP_PORT = 21347, 21999, 9999   # eater port not IN_PORT + 1 on purpose
NS = f"ndl-hubtraffic-{os.getpid()}"
SEND_UDP = ("import socket, time\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for i in range(20):\n    s.sendto(b'x' * 10, ('127.0.0.1', {UDP_PORT})); time.sleep(0.01)\n")


def in_ns(*argv):
    return ["ip", "netns", "exec", NS, *argv]


def run(procs, extra, chefs):
    hub = procs.start("nd-hub", in_ns(ndltest.prog("nd-hub"), "-q", "-a", "127.0.0.1",
                                      "-i", str(IN_PORT), "-o", str(OUT_PORT), "-f", "60"))
    time.sleep(0.5)
    eater = procs.start("nd-print", in_ns(ndltest.prog("nd-print"), "--json", "-h",
                                          f"127.0.0.1:{OUT_PORT}"))
    time.sleep(0.5)
    argv = [ndltest.prog("nd-sniff"), "-q", "-i", "lo", "-p", "0.5", "-h", f"127.0.0.1:{IN_PORT}",
            "--hub-eater-port", str(OUT_PORT), "-f", "tcp or udp"] + extra
    for c in chefs:
        argv += ["-c", c]
    kitchen = procs.start("nd-sniff", in_ns(*argv))
    time.sleep(1.0)
    subprocess.run(in_ns(sys.executable, "-c", SEND_UDP), check=True, timeout=30)
    time.sleep(1.5)
    assert kitchen.stop() == 0, kitchen.read_stderr()
    time.sleep(0.5)
    eater.stop()
    hub.stop()
    return [json.loads(line) for line in eater.read_stdout().splitlines() if line.strip()]


def last_counts(dumplings):
    counts = [d["payload"]["packet_counts"] for d in dumplings
              if d["metadata"]["chef"] == "PacketCountChef"]
    assert counts, "no PacketCountChef dumplings"
    return counts[-1]


def body():
    with ndltest.Procs() as procs:
        got = run(procs, [], ["IPConnChef", "PacketCountChef"])
    conns = [d["payload"] for d in got if d["metadata"]["chef"] == "IPConnChef"]
    hub_ports = {IN_PORT, OUT_PORT}
    leaked = [c for c in conns if {c["srcport"], c["dstport"]} & hub_ports]
    assert not leaked, f"{len(leaked)} dumplings about hub traffic, e.g. {leaked[0]}"
    assert len(conns) == 20 and all(c["dstport"] == UDP_PORT and c["proto"] == 17
                                    for c in conns), conns
    assert last_counts(got).get("TCP", 0) == 0, last_counts(got)

    with ndltest.Procs() as procs:
        got = run(procs, ["--capture-hub-traffic"], ["PacketCountChef"])
    tcp = last_counts(got).get("TCP", 0)
    assert tcp > 0, f"--capture-hub-traffic saw no hub TCP: {last_counts(got)}"
    return (f"ok: hub traffic left out of live capture (20 of 20 UDP seen, 0 TCP); "
            f"with --capture-hub-traffic {tcp} TCP packets")


def make_namespace():
    subprocess.run(["ip", "netns", "add", NS], check=True)
    subprocess.run(["ip", "-n", NS, "link", "set", "lo", "up"], check=True)


def main():
    return ndltest.in_namespaces(
        NS, make_namespace,
        lambda: subprocess.run(["ip", "netns", "del", NS], capture_output=True), body)


if __name__ == "__main__":
    sys.exit(main())
