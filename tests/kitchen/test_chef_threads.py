# SPDX-License-Identifier: MIT
"""Chefs spread over threads (--chef-threads): every built-in chef makes
exactly the dumplings, in exactly the order, it makes on the main thread;
the kitchen numbers them (metadata.seq) 1, 2, 3... in the order it sends
them, and counts the same.

The capture is made of the committed loopback captures (DNS, HTTP, TLS and
the demo), repeated with timestamps moved on, so that it is long enough for
the chefs to be timed, spread and placed again while it is read."""

import collections
import hashlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kitchentest as kt  # noqa: E402

ROOT = os.environ.get("NDL_SOURCE_ROOT",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CAPTURES = [os.path.join(ROOT, "tests", "captures", n)
            for n in ("dns-lo.pcap", "http-lo.pcap", "tls-lo.pcap", "demo.pcap")]
# The kitchen times the first 4,096 packets, places the chefs, then places
# them again after 65,536 more: this crosses both.
PACKETS = 90000


def read_pcap(path):
    """(seconds, microseconds, frame) of a little-endian microsecond pcap."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack_from("<I", data, 0)
    kt.check(magic == 0xa1b2c3d4, f"{path}: a little-endian microsecond pcap")
    at = 24
    while at + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, at)
        out.append((sec, usec, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    return out


def long_capture(path):
    frames = [p for c in CAPTURES for p in read_pcap(c)]
    kt.check(len(frames) > 50, f"the captures hold {len(frames)} packets")
    packets, t = [], kt.T0 * 1000000
    while len(packets) < PACKETS:
        for _, _, frame in frames:
            t += 997     # 1 ms apart or so: many poke intervals pass
            packets.append((t // 1000000, t % 1000000, frame))
    kt.write_pcap(path, packets[:PACKETS])


def per_chef(out):
    """chef -> (count, digest of its dumplings in order, seq removed); and
    the seq numbers in output order."""
    seqs, streams = [], collections.defaultdict(hashlib.sha256)
    counts = collections.Counter()
    for line in out.splitlines():
        d = json.loads(line)
        m = d["metadata"]
        seqs.append(m.pop("seq"))
        counts[m["chef"]] += 1
        streams[m["chef"]].update(json.dumps(d, sort_keys=True).encode() + b"\n")
    return {c: (counts[c], streams[c].hexdigest()) for c in counts}, seqs


def chef_lines(err):
    return sorted(l for l in err.splitlines() if l.startswith("nd-sniff: chef "))


def cpu_by_thread(err, n):
    """-v's last line: the CPU time of the main thread, the capture thread
    and each of the n - 1 chef threads, and their sum."""
    m = re.search(r"^nd-sniff: CPU seconds by thread: (.*) \((\d+\.\d\d) in all\)$", err,
                  re.M)
    kt.check(m is not None, f"{n} threads: -v gives the CPU time by thread: {err[-600:]}")
    if not m:
        return
    threads = {}
    for part in m.group(1).split(", "):
        name, _, secs = part.rpartition(" ")
        threads[name] = float(secs)
    want = ["main", "nd-capture"] + [f"nd-chefs-{i}" for i in range(1, n)]
    kt.check(list(threads) == want, f"{n} threads: CPU time of {want}: {m.group(0)}")
    kt.check(threads.get("main", 0) > 0 and
             any(v > 0 for t, v in threads.items() if t.startswith("nd-chefs-")),
             f"{n} threads: the main thread and a chef thread used CPU: {m.group(0)}")
    kt.check(abs(sum(threads.values()) - float(m.group(2))) <= 0.005 * len(threads) + 1e-9,
             f"{n} threads: the sum is the threads' sum: {m.group(0)}")


def stop_from_a_pipe(pcap):
    """A replay from a pipe that stays open: the chef threads' dumplings
    reach standard output while the kitchen waits for more (the threads wake
    the loop), and SIGTERM loses none of them: every dumpling counted is
    written, numbered 1, 2, 3..."""
    with open(pcap, "rb") as f:
        data = f.read()
    # the header and about 40,000 packets: the chefs are spread by then
    cut, at, n = 24, 24, 0
    while at + 16 <= len(data) and n < 40000:
        incl, = struct.unpack_from("<I", data, at + 8)
        at += 16 + incl
        n += 1
    cut = at
    p = subprocess.Popen([kt.SNIFF, "--stdout", "-r", "-", "-f", "", "-p", "0.5",
                          "--chef-threads", "2", "-v"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks, errs = [], []

    def read_out():
        while True:
            b = os.read(p.stdout.fileno(), 1 << 16)
            if not b:
                break
            chunks.append(b)

    reader = threading.Thread(target=read_out)
    err_reader = threading.Thread(target=lambda: errs.append(p.stderr.read()))
    reader.start()
    err_reader.start()
    try:
        p.stdin.write(data[:cut])
        p.stdin.flush()
        # the pipe stays open; wait until the output has been still for 2 s
        still, seen, deadline = 0, -1, time.monotonic() + 60
        while still < 4 and time.monotonic() < deadline:
            time.sleep(0.5)
            size = sum(len(c) for c in chunks)
            still = still + 1 if size == seen else 0
            seen = size
        before = b"".join(chunks).decode()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdin.close()
    reader.join()
    err_reader.join()
    out, err = b"".join(chunks).decode(), errs[0].decode()
    from_packets = [l for l in out.splitlines() if '"driver":"packet"' in l]
    kt.check(before.count('"driver":"packet"') == len(from_packets) > 0,
             f"pipe: every packet's dumplings were out before SIGTERM: "
             f"{before.count(chr(34) + 'driver' + chr(34) + ':' + chr(34) + 'packet')} "
             f"of {len(from_packets)}")
    kt.check(rc == 0, f"pipe: SIGTERM, exit {rc}: {err[-500:]}")
    kt.check("chefs on threads: 0 (" in err and "; 1 (" in err,
             f"pipe: the chefs were spread: {err[-800:]}")
    got, seqs = per_chef(out)
    m = re.search(r"(\d+) packets \(\d+ bytes\), (\d+) dumplings written", err)
    kt.check(m and int(m.group(1)) == n, f"pipe: all {n} packets handed over: {m and m.group(0)}")
    kt.check(m and int(m.group(2)) == len(seqs),
             f"pipe: {len(seqs)} dumplings on standard output, "
             f"{m and m.group(2)} counted written")
    kt.check(seqs == list(range(1, len(seqs) + 1)), "pipe: seq numbers 1, 2, 3...")
    for line in err.splitlines():
        c = re.match(r"nd-sniff: chef (\w+): (\d+) dumplings, (\d+) dropped", line)
        if c:
            kt.check(got.get(c.group(1), (0,))[0] == int(c.group(2)) and c.group(3) == "0",
                     f"pipe: {c.group(1)} wrote {got.get(c.group(1), (0,))[0]}: {line}")


def to_a_hub_with_a_small_outbox(pcap, ref):
    """A replay never drops: with an outbox of 16 dumplings, the chef
    threads' dumplings wait in their queues (and the threads wait, and the
    replay waits) rather than overflow it, also while the chefs are moved
    between threads."""
    total = sum(count for count, _ in ref.values())
    with kt.ndltest.Procs() as procs:
        _, in_port, _ = procs.hub_any_port()
        rc, _, err = kt.run("-r", pcap, "-f", "", "-p", "0.5", "-h", f"127.0.0.1:{in_port}",
                            "--chef-threads", "2", "--outbox-max", "16", "-v", timeout=180)
        kt.check(rc == 0, f"small outbox: exit {rc}: {err[-500:]}")
        kt.check("chefs on threads: 0 (" in err and "; 1 (" in err,
                 f"small outbox: the chefs were spread: {err[-800:]}")
        kt.check(f"{total} dumplings sent, 0 dropped" in err,
                 f"small outbox: all {total} sent, none dropped: "
                 f"{[l for l in err.splitlines() if 'dumplings sent' in l]}")


def main():
    with tempfile.TemporaryDirectory(prefix="nd-sniff-threads-") as tmp:
        pcap = os.path.join(tmp, "long.pcap")
        long_capture(pcap)
        base = ["--stdout", "-r", pcap, "-f", "", "-p", "0.5"]
        rc1, out1, err1 = kt.run(*base, "--chef-threads", "1", timeout=120)
        kt.check(rc1 == 0, f"one thread: exit {rc1}: {err1[-500:]}")
        ref, seqs1 = per_chef(out1)
        kt.check(len(ref) >= 6, f"the built-in chefs all made dumplings: {sorted(ref)}")
        kt.check(seqs1 == list(range(1, len(seqs1) + 1)), "one thread: seq 1, 2, 3...")
        for n in ("2", "4"):
            rc, out, err = kt.run(*base, "--chef-threads", n, "-v", timeout=120)
            placed = [l for l in err.splitlines() if "chefs on threads: 0 (" in l]
            kt.check(len(placed) >= 1 and "; 1 (" in placed[0],
                     f"{n} threads: -v says where the chefs run: {placed}")
            kt.check(rc == 0, f"{n} threads: exit {rc}: {err[-500:]}")
            got, seqs = per_chef(out)
            for chef in sorted(set(ref) | set(got)):
                kt.check(got.get(chef) == ref.get(chef),
                         f"{n} threads: {chef} made {got.get(chef, (0,))[0]} dumplings, "
                         f"{ref.get(chef, (0,))[0]} on one thread, or not the same ones")
            kt.check(seqs == list(range(1, len(seqs) + 1)),
                     f"{n} threads: seq numbers 1, 2, 3... in the order sent")
            kt.check(chef_lines(err) == chef_lines(err1),
                     f"{n} threads: the same counts per chef:\n{chef_lines(err)}\n"
                     f"{chef_lines(err1)}")
            cpu_by_thread(err, int(n))
        kt.check("CPU seconds by thread" not in err1, "without -v, no CPU line")
        # the setting is shown, and a bad one refused
        rc, out, _ = kt.run("--stdout", "-r", pcap, "--chef-threads", "3", "--test-config")
        kt.check("chef-threads = 3" in out, "--test-config shows chef-threads")
        rc, _, err = kt.run("--stdout", "-r", pcap, "--chef-threads", "0")
        kt.check(rc == 2 and "--chef-threads" in err, f"--chef-threads 0 refused: {rc} {err}")
        stop_from_a_pipe(pcap)
        to_a_hub_with_a_small_outbox(pcap, ref)
    kt.finish()


if __name__ == "__main__":
    main()
