#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Several hosts: one hub, three kitchens on three other hosts.

Four network namespaces stand for four hosts on one LAN: the hub's holds a
bridge with 10.77.0.1/24, and each kitchen's is joined to it by a veth pair,
with 10.77.0.1N/24 on its eth0 (addresses that exist only inside these
namespaces). nd-hub listens on 10.77.0.1; a tiny DNS server answers on
10.77.0.1:53; an nd-print eater runs beside the hub. In each kitchen host,
nd-sniff captures live on eth0 with DNSLookupChef and PacketCountChef while
a client looks up names of its own over the bridge, a different number per
host. Every kitchen's dumplings must reach the eater: each of its names as a
query and a response, its names only, its counts equal to the packets sent,
and its dumpling numbers (metadata.seq) without a gap.
Needs root and iproute2; skipped otherwise."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402
from ndltest import in_ns, sh  # noqa: E402

PID = os.getpid()
HUB_NS = f"ndl-mh{PID}-hub"
KITCHENS = {1: 5, 2: 8, 3: 11}        # kitchen host -> names it looks up
HUB_ADDR = "10.77.0.1"
IN_PORT, OUT_PORT = 11347, 11348      # free: the namespaces are new


def kitchen_ns(n):
    return f"ndl-mh{PID}-k{n}"


def kitchen_addr(n):
    return f"10.77.0.{10 + n}"


def kitchen_name(n):
    return f"host{n}_kitchen"


def names_of(n):
    return [f"name{j}.host{n}.example.test" for j in range(KITCHENS[n])]


# A DNS server for the test (RFC 1035 section 4.1): every A query gets one
# answer, 192.0.2.N, with the query's id and question.
RESPONDER = f"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{HUB_ADDR}", 53))
print("ready", flush=True)
n = 0
while True:
    q, peer = s.recvfrom(512)
    n += 1
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    end = 12
    while q[end]:
        end += q[end] + 1
    question = q[12:end + 5]
    answer = b"\\xc0\\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, n % 250])
    s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer, peer)
"""

# A client: one A query per name, each answered before the next.
CLIENT = f"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for i, name in enumerate(sys.argv[1:], 1):
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\\0"
    q = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    s.sendto(q, ("{HUB_ADDR}", 53))
    r, _ = s.recvfrom(512)
    assert r[:2] == q[:2] and r[6:8] == b"\\x00\\x01", r
print("sent", len(sys.argv) - 1, flush=True)
"""


def build_network():
    """The four namespaces, the bridge and the veth pairs."""
    namespaces = [HUB_NS] + [kitchen_ns(n) for n in KITCHENS]
    for ns in namespaces:
        sh("ip", "netns", "add", ns)
        # IPv4 only, so that the only UDP on the wire is the test's DNS.
        sh(*in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"))
        sh(*in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"))
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", HUB_NS, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", HUB_NS, "addr", "add", f"{HUB_ADDR}/24", "dev", "br0")
    sh("ip", "-n", HUB_NS, "link", "set", "br0", "up")
    for n in KITCHENS:
        ns, port = kitchen_ns(n), f"vk{n}"
        sh("ip", "-n", HUB_NS, "link", "add", port, "type", "veth",
           "peer", "name", "eth0", "netns", ns)
        sh("ip", "-n", HUB_NS, "link", "set", port, "master", "br0")
        sh("ip", "-n", HUB_NS, "link", "set", port, "up")
        sh("ip", "-n", ns, "addr", "add", f"{kitchen_addr(n)}/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
    # Every kitchen host reaches the hub's before anything is captured.
    for n in KITCHENS:
        deadline = time.monotonic() + 10
        while subprocess.run(in_ns(kitchen_ns(n), "ping", "-c", "1", "-W", "1", HUB_ADDR),
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kitchen_ns(n)} cannot reach {HUB_ADDR}")
            time.sleep(0.2)


def delete_network():
    for ns in [HUB_NS] + [kitchen_ns(n) for n in KITCHENS]:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def dumplings_so_far(eater):
    """Whole JSON lines printed by the eater so far."""
    out = eater.read_stdout()
    return [json.loads(line) for line in out.split("\n")[:-1] if line.strip()]


def wait_for(eater, pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = dumplings_so_far(eater)
        if pred(got):
            return got
        if eater.poll() is not None:
            raise AssertionError(f"nd-print exited {eater.returncode}: {eater.read_stderr()}")
        time.sleep(0.1)
    raise AssertionError(f"no {what} after {timeout}s; nd-print printed {len(got)} dumplings,"
                         f" the last: {got[-3:]}")


def last_status(got):
    st = [d["payload"] for d in got if d["metadata"]["chef"] == "SystemStatusChef"]
    return st[-1] if st else None


def packet_counts(got, name):
    counts = [d["payload"]["packet_counts"] for d in got
              if d["metadata"]["chef"] == "PacketCountChef"
              and d["metadata"]["kitchen"] == name]
    return counts[-1] if counts else None


def complete(got):
    """Every kitchen's lookups and packet counts have arrived."""
    for n, q in KITCHENS.items():
        c = packet_counts(got, kitchen_name(n)) or {}
        if c.get("DNS", 0) < 2 * q:
            return False
        lookups = [d for d in got if d["metadata"]["chef"] == "DNSLookupChef"
                   and d["metadata"]["kitchen"] == kitchen_name(n)
                   and "lookup" in d["payload"]]
        if len(lookups) < 2 * q:
            return False
    return True


def check_kitchen(got, n):
    name, q, expected = kitchen_name(n), KITCHENS[n], names_of(n)
    mine = [d for d in got if d["metadata"]["kitchen"] == name]
    lookups = [d["payload"]["lookup"] for d in mine
               if d["metadata"]["chef"] == "DNSLookupChef" and "lookup" in d["payload"]]
    queries = [lk["hostname"] for lk in lookups if not lk["is_response"]]
    answers = [lk["hostname"] for lk in lookups if lk["is_response"]]
    assert queries == expected, f"{name}: queries {queries}, expected {expected}"
    assert answers == expected, f"{name}: responses {answers}, expected {expected}"
    assert all(lk["rcode"] == "NOERROR" and len(lk["answers"]) == 1
               for lk in lookups if lk["is_response"]), lookups

    seen = [d["payload"]["lookups_seen"] for d in mine
            if d["metadata"]["chef"] == "DNSLookupChef" and "lookups_seen" in d["payload"]]
    assert seen, f"{name}: no lookups_seen interval dumpling"
    assert {h: v["count"] for h, v in seen[-1].items()} == {h: 2 for h in expected}, \
        f"{name}: lookups_seen {seen[-1]}"

    counts = packet_counts(got, name) or {}
    assert counts.get("DNS") == 2 * q and counts.get("UDP") == 2 * q, \
        f"{name}: packet counts {counts}, expected {2 * q} DNS and UDP packets"
    assert counts.get("TCP", 0) == 0, f"{name}: the hub's TCP was captured: {counts}"

    # Nothing about another host's names, and nothing lost on the way.
    others = [h for m in KITCHENS if m != n for h in names_of(m)]
    text = json.dumps([d["payload"] for d in mine])
    assert not any(h in text for h in others), f"{name} reported another host's lookups"
    seqs = [d["metadata"]["seq"] for d in mine]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{name}: seq {seqs}"
    return len(mine)


def run(procs):
    hub = procs.start("nd-hub", in_ns(HUB_NS, ndltest.prog("nd-hub"), "-a", HUB_ADDR,
                                      "-i", str(IN_PORT), "-o", str(OUT_PORT), "-f", "0.5"))
    ndltest.hub_listening_ports(hub)
    responder = procs.start("dns", in_ns(HUB_NS, sys.executable, "-c", RESPONDER))
    deadline = time.monotonic() + 10
    while "ready" not in responder.read_stdout():
        assert responder.poll() is None and time.monotonic() < deadline, \
            f"DNS responder did not start: {responder.read_stderr()}"
        time.sleep(0.05)
    eater = procs.start("nd-print", in_ns(HUB_NS, ndltest.prog("nd-print"), "--json",
                                          "-n", "lan-eater", "-h", f"{HUB_ADDR}:{OUT_PORT}"))
    wait_for(eater, lambda g: last_status(g) is not None, "status dumpling")

    kitchens = {}
    for n in KITCHENS:
        kitchens[n] = procs.start(f"nd-sniff {n}", in_ns(
            kitchen_ns(n), ndltest.prog("nd-sniff"), "-i", "eth0", "-p", "0.5",
            "-n", kitchen_name(n), "-h", f"{HUB_ADDR}:{IN_PORT}",
            "-c", "DNSLookupChef", "-c", "PacketCountChef"))
    got = wait_for(eater, lambda g: (last_status(g) or {}).get("dumpling_kitchen_count") == 3,
                   "status with three kitchens")
    st = last_status(got)
    hosts = sorted(k["info_from_hub"]["host"] for k in st["dumpling_kitchens"])
    assert hosts == sorted(kitchen_addr(n) for n in KITCHENS), f"kitchens from {hosts}"
    # A kitchen is connected once its capture is open; one interval more.
    wait_for(eater, lambda g: all(packet_counts(g, kitchen_name(n)) is not None
                                  for n in KITCHENS), "a first interval")
    time.sleep(0.6)

    clients = [subprocess.Popen(in_ns(kitchen_ns(n), sys.executable, "-c", CLIENT,
                                      *names_of(n)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in KITCHENS]
    for n, c in zip(KITCHENS, clients):
        out, err = c.communicate(timeout=60)
        assert c.returncode == 0, f"DNS client on host {n} failed: {err}"
        assert out.strip() == f"sent {KITCHENS[n]}", out

    got = wait_for(eater, complete, "dumplings for every kitchen's lookups")
    time.sleep(1.2)   # two more intervals: anything extra would show now
    got = dumplings_so_far(eater)
    per = {n: check_kitchen(got, n) for n in KITCHENS}

    for n, k in kitchens.items():
        rc = k.stop()
        err = k.read_stderr()
        assert rc == 0, f"nd-sniff on host {n} exited {rc}:\n{err}"
        assert not ndltest.sanitizer_reports(err), err
    assert eater.stop() == 0 or eater.returncode == -15, eater.read_stderr()
    assert not ndltest.sanitizer_reports(eater.read_stderr()), eater.read_stderr()
    rc = hub.stop()
    err = hub.read_stderr()
    assert rc == 0 and not ndltest.sanitizer_reports(err), f"nd-hub exited {rc}:\n{err}"
    return per


def main():
    def body():
        with ndltest.Procs() as procs:
            per = run(procs)
        return "ok: " + ", ".join(f"{kitchen_name(n)} ({kitchen_addr(n)}): {KITCHENS[n]} "
                                  f"names, {per[n]} dumplings" for n in KITCHENS)
    return ndltest.in_namespaces(HUB_NS, build_network, delete_network, body)


if __name__ == "__main__":
    sys.exit(main())
