#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every reference NMSG vector read by our library (nmsg-dump) gives exactly
nmsgtool's payloads (time, vendor, type, source, every message field and
byte), and nd-sniff --nmsg feeds the same packets with the same times to
IPConnChef; truncated.nmsg and badver.nmsg give clear errors and exit 1."""

import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nmsgtest as nt  # noqa: E402

VEC = nt.vectors_dir()
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def sniff(path, *extra, stdin=None):
    """nd-sniff --nmsg with no pcap filter (-f ""), so every payload counts."""
    argv = [nt.ND_SNIFF(), "--nmsg", path, "--stdout", "-f", "", "-c", "IPConnChef", *extra]
    return subprocess.run(argv, capture_output=True, timeout=60, stdin=stdin)


names = sorted(os.path.basename(p)[:-6] for p in glob.glob(os.path.join(VEC, "expected", "*.jsonl")))
check(len(names) >= 16, f"expected at least 16 reference decodes, found {len(names)}")
for name in names:
    ref = [nt.normalize(r) for r in nt.load_jsonl(os.path.join(VEC, "expected", name + ".jsonl"))]
    ours, stats, rc, err = nt.dump(os.path.join(VEC, name + ".nmsg"))
    ours = [nt.normalize(r) for r in ours]
    if name in ("truncated", "badver"):
        continue
    check(rc == 0, f"{name}: nmsg-dump exit {rc}: {err}")
    check(stats["errors"] == 0, f"{name}: {stats['errors']} errors: {err}")
    check(len(ours) == len(ref), f"{name}: {len(ours)} payloads, the reference has {len(ref)}")
    for i, (a, b) in enumerate(zip(ours, ref)):
        check(a == b, f"{name}: payload {i} differs:\n  ours {a}\n  ref  {b}")
    check(stats["crc_checked"] == len(ref), f"{name}: {stats['crc_checked']} CRCs checked")

    # the kitchen: the same packets, at the same times, reach the chefs
    r = sniff(os.path.join(VEC, name + ".nmsg"))
    check(r.returncode == 0, f"{name}: nd-sniff --nmsg exit {r.returncode}: {r.stderr.decode()}")
    got = nt.ipconn_of_dumplings(r.stdout.decode().splitlines())
    want = nt.expected_ipconn(ref)
    check(got == want, f"{name}: IPConnChef saw {len(got)} connections, the reference "
          f"payloads hold {len(want)}; first difference: "
          f"{next(((a, b) for a, b in zip(got, want) if a != b), None)}")
    # every packet, with its time, lengths and payload bytes
    if nt.packet_records(ref):
        r2 = sniff(os.path.join(VEC, name + ".nmsg"), "-c", "PacketLayersChef", "-o",
                   "PacketLayersChef.payload_hex_max=65535")
        diff = nt.compare_packet_layers(
            [line for line in r2.stdout.decode().splitlines() if "PacketLayersChef" in line], ref)
        check(r2.returncode == 0 and diff is None, f"{name}: PacketLayersChef: {diff}")
    packets = sum(1 for x in ref if x.get("mname") in ("packet", "pkt", "ipconn"))
    check(f"{packets} packets" in r.stderr.decode(),
          f"{name}: the exit statistics do not say {packets} packets:\n{r.stderr.decode()}")

# standard input gives the same as the file
path = os.path.join(VEC, "http-packet-zlib.nmsg")
with open(path, "rb") as f:
    r_stdin = sniff("-", stdin=f)
r_file = sniff(path)
check(r_stdin.returncode == 0 and r_stdin.stdout == r_file.stdout and r_file.stdout,
      "--nmsg - (a pipe) does not give what --nmsg FILE gives")
with open(path, "rb") as f:
    p = subprocess.Popen([nt.ND_SNIFF(), "--nmsg", "-", "--stdout", "-c", "IPConnChef"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, _ = p.communicate(f.read(), timeout=60)
check(p.returncode == 0 and out == r_file.stdout, "--nmsg - through a pipe differs")

# the vendor/type filter
r = sniff(os.path.join(VEC, "mixed.nmsg"), "--nmsg-filter", "base:ipconn")
got = nt.ipconn_of_dumplings(r.stdout.decode().splitlines())
check(r.returncode == 0 and len(got) == 2, f"--nmsg-filter base:ipconn: {len(got)} dumplings")
check("14 filtered" in r.stderr.decode(), f"the filter count is not shown: {r.stderr.decode()}")
# The kitchen's pcap filter applies to NMSG packets as to captured ones,
# compiled for raw IP (base:packet) and for Ethernet (base:pkt).
for name, layers in (("synthetic-packet", 7), ("synthetic-pkt", 9)):
    everything = sniff(os.path.join(VEC, name + ".nmsg"), "-c", "PacketLayersChef")
    udp = sniff(os.path.join(VEC, name + ".nmsg"), "-c", "PacketLayersChef", "-f", "udp")
    n_all = everything.stdout.count(b'"PacketLayersChef"')
    n_udp = udp.stdout.count(b'"PacketLayersChef"')
    check(everything.returncode == 0 and udp.returncode == 0 and n_all == layers
          and 0 < n_udp < n_all and b"left out by the filter" in udp.stderr,
          f"{name}: -f udp kept {n_udp} of {n_all} packets: {udp.stderr.decode()}")
    check(b'"TCP"' not in udp.stdout or b'"UDP"' in udp.stdout, f"{name}: -f udp let TCP in")
r = sniff(os.path.join(VEC, "synthetic-packet.nmsg"), "-f", "not a filter (")
check(r.returncode != 0 and b"bad filter" in r.stderr, f"a bad -f with --nmsg: {r.stderr}")

r = sniff(os.path.join(VEC, "mixed.nmsg"), "--nmsg-filter", "nope:x")
check(r.returncode == 2 and b"--nmsg-filter expects" in r.stderr,
      f"a bad --nmsg-filter: exit {r.returncode} {r.stderr.decode()}")

# broken input: clear messages, counted, exit 1
for name, needle, counter in (("truncated", "ends inside a container", "truncated 1"),
                              ("badver", "version 3, only version 2", "bad_version 1")):
    ours, stats, rc, err = nt.dump(os.path.join(VEC, name + ".nmsg"))
    check(rc == 1 and stats["errors"] == 1 and needle in err,
          f"{name}: nmsg-dump exit {rc}, {stats}, {err}")
    r = sniff(os.path.join(VEC, name + ".nmsg"))
    e = r.stderr.decode()
    check(r.returncode == 1, f"{name}: nd-sniff exit {r.returncode}")
    check(needle in e and counter in e, f"{name}: unclear nd-sniff errors:\n{e}")
    check(r.stdout == b"", f"{name}: dumplings from a broken file")
    check("Sanitizer" not in e and "runtime error" not in e, f"{name}: sanitizer report:\n{e}")

# a file that is not there, a folder
r = sniff(os.path.join(VEC, "no-such.nmsg"))
check(r.returncode == 1 and b"cannot read NMSG file" in r.stderr, "a missing file")
r = sniff(VEC)
check(r.returncode == 1 and b"folder" in r.stderr, "a folder")
r = subprocess.run([nt.ND_SNIFF(), "--nmsg", "x", "-r", "y", "--stdout"], capture_output=True)
check(r.returncode == 2 and b"cannot be used together" in r.stderr, "--nmsg with -r")

if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print(f"ok: {len(names)} reference vectors")
