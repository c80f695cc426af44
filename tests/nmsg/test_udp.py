#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The NMSG datagrams of nmsg-over-udp.pcap (fragmented containers and
sequence numbers from two senders), replayed from two UDP sockets to
nd-sniff --nmsg-listen on 127.0.0.1, reassemble into the payloads of
udp-received.nmsg (what nmsgtool's own listener received): the library
gives them byte for byte (nmsg-dump --datagrams), the kitchen hands the
same packets at the same times to IPConnChef. Lost datagrams are counted
as sequence gaps, garbage as errors, and the kitchen keeps going."""

import os
import signal
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nmsgtest as nt  # noqa: E402
import ndltest  # noqa: E402

VEC = nt.vectors_dir()
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


datagrams = nt.udp_datagrams(os.path.join(VEC, "nmsg-over-udp.pcap"))
ref = [nt.normalize(r) for r in nt.load_jsonl(os.path.join(VEC, "expected",
                                                           "udp-received.jsonl"))]
check(len(datagrams) > 20, f"only {len(datagrams)} datagrams in the pcap")
n_frag = sum(1 for _, _, d in datagrams if d[4] & 2)
check(n_frag > 0, "no fragment containers in the pcap")

# 1. the library, byte for byte
with tempfile.NamedTemporaryFile(suffix=".dgrams") as f:
    for _, _, d in datagrams:
        f.write(struct.pack(">I", len(d)) + d)
    f.flush()
    ours, stats, rc, err = nt.dump(f.name, "--datagrams")
ours = [nt.normalize(r) for r in ours]
check(rc == 0 and stats["errors"] == 0, f"nmsg-dump --datagrams: exit {rc}: {err}")
check(stats["reassembled"] > 0, f"no fragmented message reassembled: {stats}")
check(stats["seq_gaps"] == 0, f"sequence gaps in a lossless replay: {stats}")
check(len(ours) == len(ref), f"{len(ours)} payloads, udp-received.nmsg has {len(ref)}")
check(ours == ref, "the reassembled payloads differ from udp-received.nmsg: first: "
      f"{next(((a, b) for a, b in zip(ours, ref) if a != b), None)}")


def replay(skip=(), garbage=()):
    """Send the datagrams (but those at indexes in skip, plus garbage) to a
    fresh nd-sniff --nmsg-listen; returns (dumpling lines, stderr, exit)."""
    port = nt.free_udp_port()
    with ndltest.Procs() as procs:
        k = procs.start("nd-sniff", [nt.ND_SNIFF(), "--nmsg-listen", f"127.0.0.1/{port}",
                                     "--stdout", "-f", "", "-c", "IPConnChef", "-c", "PacketLayersChef",
                                     "-o", "PacketLayersChef.payload_hex_max=65535"])
        nt.wait_udp_bound(port, k)
        senders = {}
        try:
            for g in garbage:
                s = senders.setdefault("g", socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                s.sendto(g, ("127.0.0.1", port))
            for i, (sport, _, d) in enumerate(datagrams):
                if i in skip:
                    continue
                if sport not in senders:
                    senders[sport] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    senders[sport].bind(("127.0.0.1", 0))
                senders[sport].sendto(d, ("127.0.0.1", port))
                time.sleep(0.002)
        finally:
            for s in senders.values():
                s.close()
        time.sleep(2.0)
        # written as they come, though standard output is a file here
        early = k.read_stdout().count('"PacketLayersChef"')
        k.signal(signal.SIGTERM)
        k.wait(timeout=30)
        out = k.read_stdout().splitlines()
        layers = [line for line in out if '"PacketLayersChef"' in line]
        check(early == len(layers), f"{len(layers)} packet dumplings, {early} of them "
              "written before the stop")
        return [line for line in out if '"IPConnChef"' in line], k.read_stderr(), k.returncode, \
            layers


# 2. the kitchen: every payload, as packets with the payloads' times
lines, err, rc, layers = replay()
check(rc == 0, f"nd-sniff --nmsg-listen exit {rc}: {err}")
diff = nt.compare_packet_layers(layers, ref)
check(diff is None, f"PacketLayersChef over UDP: {diff}")
check(nt.sanitizer_clean(err), f"sanitizer report:\n{err}")
got = nt.ipconn_of_dumplings(lines)
want = nt.expected_ipconn(ref)
check(len(want) > 20, f"only {len(want)} connections expected")
check(got == want, f"IPConnChef saw {len(got)} connections, udp-received.nmsg holds {len(want)}")
check(f"{len(datagrams)} datagrams, 0 sequence gaps" in err, f"the exit statistics:\n{err}")
check(f"{len(ref)} packets" in err, f"the packet count:\n{err}")

# 3. lost datagrams: a whole container (gap counted) and garbage (errors counted)
whole = [i for i, (_, _, d) in enumerate(datagrams) if not d[4] & 2]
lost = whole[len(whole) // 2]
n_lost = struct.unpack(">I", datagrams[lost][2][6:10])[0]
lines, err, rc, _ = replay(skip={lost}, garbage=[b"hello", datagrams[lost][2][:30],
                                              b"NMSG\x00\x07\x00\x00\x00\x00"])
check(rc == 0, f"nd-sniff after garbage: exit {rc}: {err}")
check("1 sequence gaps (1 containers lost)" in err, f"the lost container is not counted:\n{err}")
check("bad_magic 1" in err and "truncated 1" in err and "bad_version 1" in err,
      f"garbage not counted by kind:\n{err}")
check("not an NMSG container" in err, f"no clear message for garbage:\n{err}")
got = nt.ipconn_of_dumplings(lines)
check(len(got) < len(want) and len(got) >= len(want) - 10,
      f"{len(got)} connections after losing one container of {len(want)}")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print(f"ok: {len(datagrams)} datagrams ({n_frag} fragments) gave {len(ref)} payloads")
