# SPDX-License-Identifier: MIT
"""What the nd-sniff tests share: counted checks, running nd-sniff, and a
small pcap of DNS queries written on the spot."""

import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

SNIFF = ndltest.prog("nd-sniff")
T0 = 1700000000
failures = []


def check(cond, what):
    """Count a failed check and go on; finish() fails the test."""
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def finish():
    if failures:
        ndltest.fail(f"{len(failures)} check(s) failed")


def run(*args, timeout=30, **kw):
    """nd-sniff ARGS with no standard input: (exit status, stdout, stderr)."""
    p = subprocess.run([SNIFF, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def dns_frame(qid):
    """Ethernet + IPv4 + UDP 1024 -> 53 carrying a DNS query for example.com."""
    dns = struct.pack("!HHHHHH", qid & 0xffff, 0x0100, 1, 0, 0, 0) + \
        b"\x07example\x03com\x00\x00\x01\x00\x01"
    udp = struct.pack("!HHHH", 1024, 53, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])) + udp
    return bytes.fromhex("001122334455") + bytes.fromhex("66778899aabb") + b"\x08\x00" + ip


def write_pcap(path, packets, linktype=1):
    """packets: (seconds, microseconds, frame)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for sec, usec, frame in packets:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
