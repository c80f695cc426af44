# SPDX-License-Identifier: MIT
"""nd-sniff's packet sources: capture files read through the kitchen's own
stream (larger than its buffer, from standard input, a pipe that goes
quiet, and every way opening one can fail), and live capture on lo (as
root): under a burst every packet counted, none dropped by the kernel,
drops counted when the buffer is small, the interval timer on time; when
nothing comes, the interval dumplings written as they are made.

Usage: test_capture.py"""

import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

SNIFF = ndltest.prog("nd-sniff")
SUMMARY = re.compile(r"nd-sniff: (\d+) packets \((\d+) bytes\)")
KDROPS = re.compile(r"(\d+) packets dropped by the kernel")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*args, stdin=subprocess.DEVNULL, preexec_fn=None, timeout=60):
    p = subprocess.run([SNIFF, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=stdin, timeout=timeout, preexec_fn=preexec_fn)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def udp_frame(i, size):
    """Ethernet + IPv4 + UDP 40000 -> 9 with size bytes of payload."""
    payload = bytes([i & 0xff]) * size
    udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])) + udp
    return bytes.fromhex("001122334455") + bytes.fromhex("66778899aabb") + b"\x08\x00" + ip


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for n, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + n // 1000, (n % 1000) * 1000,
                                len(frame), len(frame)) + frame)


def summary(err):
    m = SUMMARY.search(err)
    return (int(m.group(1)), int(m.group(2))) if m else None


tmp = tempfile.mkdtemp(prefix="nd-capture-test-")


def test_big_file_and_stdin():
    """A file several times the size of the read buffer, with packets of every
    size straddling its edges, read from a path and from standard input."""
    rnd = random.Random(7)
    frames = [udp_frame(i, rnd.randrange(0, 1400)) for i in range(6000)]
    path = os.path.join(tmp, "big.pcap")
    write_pcap(path, frames)
    check(os.path.getsize(path) > 3 * 1024 * 1024, "the file is larger than the buffer")
    want = (len(frames), sum(len(f) for f in frames))
    rc, out, err = run("--stdout", "-f", "", "-c", "PacketCountChef", "-r", path)
    check(rc == 0 and summary(err) == want, f"file: every packet and byte: {summary(err)} "
          f"!= {want}: {err!r}")
    last = json.loads(out.splitlines()[-1]) if out else {}
    check(last.get("payload", {}).get("packet_counts", {}).get("UDP") == len(frames),
          f"file: PacketCountChef counts them: {out[-300:]!r}")
    with open(path, "rb") as f:
        rc2, out2, err2 = run("--stdout", "-f", "", "-c", "PacketCountChef", "-r", "-", stdin=f)
    check(rc2 == 0 and summary(err2) == want and out2 == out,
          f"standard input: the same as the file: {summary(err2)} {err2!r}")
    # a file cut short in a packet: what came before is kept, a warning says why
    cut = os.path.join(tmp, "cut.pcap")
    with open(path, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(2 * 1024 * 1024 + 5))
    rc, out, err = run("--stdout", "-f", "", "-c", "PacketCountChef", "-r", cut)
    s = summary(err)
    check(rc == 0 and s and 0 < s[0] < len(frames) and "stopped early: truncated" in err,
          f"truncated file: the packets before the cut, a warning: {s} {err!r}")


def test_quiet_pipe():
    """Standard input that goes quiet: what came so far reaches the chefs
    and standard output without waiting for more, and SIGTERM stops the
    kitchen although its capture thread is waiting to read."""
    import select
    p = subprocess.Popen([SNIFF, "--stdout", "-f", "", "-c", "NetwatchChef", "-r", "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for n in range(5):
            frame = udp_frame(n, 20)
            p.stdin.write(struct.pack("<IIII", 1700000000, n, len(frame), len(frame)) + frame)
        p.stdin.flush()
        out = b""
        deadline = time.monotonic() + 5
        while b"\n" not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.1)
            if ready:
                out += os.read(p.stdout.fileno(), 65536)
        check(b'"chef":"NetwatchChef"' in out,
              f"quiet pipe: the dumpling came while the pipe stayed open: {out!r}")
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0 and time.monotonic() - t0 < 5,
              f"quiet pipe: SIGTERM stops it at once: rc {rc} after {time.monotonic() - t0:.1f} s")
        err = p.stderr.read().decode() if rc is not None else ""
        check(summary(err) == (5, 5 * len(udp_frame(0, 20))),
              f"quiet pipe: the five packets counted: {err!r}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdin.close()


def test_open_errors():
    missing = os.path.join(tmp, "missing.pcap")
    empty = os.path.join(tmp, "empty.pcap")
    open(empty, "wb").close()
    text = os.path.join(tmp, "text.pcap")
    with open(text, "w") as f:
        f.write("this is not a capture file at all\n" * 4)
    cases = [(missing, f"cannot read capture file {missing}: No such file or directory"),
             (tmp, f"cannot read capture file {tmp}: it is a directory"),
             (empty, f"cannot read capture file {empty}: the file is empty"),
             (text, f"cannot read capture file {text}: not a pcap or pcapng file")]
    for path, msg in cases:
        rc, out, err = run("--stdout", "-r", path)
        lines = err.strip().splitlines()
        check(rc == 1 and len(lines) == 1 and msg in lines[0] and out == "",
              f"{os.path.basename(path)}: one clear line, exit 1: {rc} {err!r}")
    with open(text, "rb") as f:
        rc, out, err = run("--stdout", "-r", "-", stdin=f)
    check(rc == 1 and "cannot read capture file -: not a pcap or pcapng file" in err,
          f"standard input that is no capture: {rc} {err!r}")
    if os.geteuid() != 0:
        print("permission case needs root (to become nobody): skipped", file=sys.stderr)
        return
    locked = os.path.join(tmp, "locked.pcap")
    write_pcap(locked, [udp_frame(1, 10)])
    os.chmod(locked, 0)
    os.chmod(tmp, 0o755)
    nobody = pwd.getpwnam("nobody")

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    rc, out, err = run("--stdout", "-r", locked, preexec_fn=as_nobody)
    check(rc == 1 and f"cannot read capture file {locked}: Permission denied" in err,
          f"unreadable file: permission denied: {rc} {err!r}")


# lo frames: Ethernet 14 + IPv4 20 + UDP 8 + payload
BURST_PAYLOAD, WARM_PAYLOAD = b"b", b"w" * 101
BURST_FRAME = 42 + len(BURST_PAYLOAD)
WARM_EXTRA = len(WARM_PAYLOAD) - len(BURST_PAYLOAD)


def live_burst(count, extra=()):
    """Capture on lo while count UDP datagrams go to a bound port as fast as
    this process can send them; returns (burst packets seen, kernel drops,
    packets seen, dumplings, stderr).

    Larger warm-up datagrams go first until the kitchen counts one: those
    sent before the capture began are not seen, so how many were is told by
    the bytes: seen bytes = seen packets * BURST_FRAME + warm-ups * WARM_EXTRA."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dest = ("127.0.0.1", port)
    with ndltest.Procs() as procs:
        p = procs.start("nd-sniff", [SNIFF, "--stdout", "-i", "lo", "-c", "PacketCountChef",
                                     "-p", "0.2", "-f", f"udp and dst port {port}", *extra])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and p.poll() is None and '"UDP"' not in \
                p.read_stdout():
            tx.sendto(WARM_PAYLOAD, dest)
            time.sleep(0.1)
        t0 = time.monotonic()
        for _ in range(count):
            tx.sendto(BURST_PAYLOAD, dest)
        burst_s = time.monotonic() - t0
        time.sleep(1.0)
        p.signal(signal.SIGINT)
        rc = p.wait(20)
        out = p.read_stdout()
        err = p.read_stderr()
    tx.close()
    rx.close()
    check(rc == 0, f"live capture stops with 0: {rc} {err!r}")
    dumplings = [json.loads(x) for x in out.splitlines()]
    m = KDROPS.search(err)
    drops = int(m.group(1)) if m else 0
    s = summary(err)
    burst = None
    if s:
        warm, rest = divmod(s[1] - s[0] * BURST_FRAME, WARM_EXTRA)
        burst = s[0] - warm if rest == 0 else None
    print(f"live burst: {count} datagrams in {burst_s:.2f} s ({count / burst_s:,.0f}/s), "
          f"{list(extra)}: {burst} seen, kernel drops {drops}", file=sys.stderr)
    return burst, drops, s[0] if s else None, dumplings, err


def test_live_burst():
    if os.geteuid() != 0:
        print("live capture needs root: skipped", file=sys.stderr)
        return
    burst, drops, seen, dumplings, err = live_burst(20000)
    check(drops == 0, f"default buffer: no kernel drops: {drops}: {err!r}")
    check(burst == 20000, f"default buffer: every datagram counted: {burst}: {err!r}")
    udp = [d["payload"]["packet_counts"].get("UDP", 0) for d in dumplings]
    check(udp and udp[-1] == seen, f"PacketCountChef counts them all: {udp[-3:]} of {seen}")
    # the interval timer keeps its pace while packets come in blocks
    times = [d["metadata"]["creation_time"] for d in dumplings
             if d["metadata"]["driver"] == "interval"]
    gaps = [b - a for a, b in zip(times, times[1:])]
    check(len(times) >= 5 and max(gaps) < 1.0,
          f"interval dumplings every 0.2 s or so: {len(times)}, gaps up to "
          f"{max(gaps) if gaps else None}")

    # the smallest buffer (one block) under the same burst: whatever did not
    # fit is counted as a kernel drop, and reported. On lo the kernel offers
    # each datagram twice (sent and received; libpcap keeps one), and counts
    # a drop for each copy that found no room: between 1 and 2 per loss.
    burst, drops, seen, dumplings, err = live_burst(20000, ["--buffer-size", "4096"])
    lost = 20000 - burst if burst is not None else None
    check(lost is not None and lost <= drops <= 2 * lost,
          f"small buffer: every lost datagram counted as a drop: {lost} lost, {drops} "
          f"drops: {err!r}")
    if drops:
        check(f"{drops} packets dropped by the kernel" in err, f"drops reported: {err!r}")


def test_quiet_live():
    """Standard output that is not a terminal is written in large blocks; on
    an interface where nothing is captured, the interval dumplings must
    still come out as they are made, not at exit."""
    if os.geteuid() != 0:
        print("live capture needs root: skipped", file=sys.stderr)
        return
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))           # a port nothing is sent to
    with ndltest.Procs() as procs:
        p = procs.start("nd-sniff", [SNIFF, "--stdout", "-i", "lo", "-c", "PacketCountChef",
                                     "-p", "0.2", "-f", f"udp and dst port {rx.getsockname()[1]}"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None and \
                p.read_stdout().count("\n") < 3:
            time.sleep(0.1)
        early = p.read_stdout().count("\n")
        p.signal(signal.SIGINT)
        rc = p.wait(20)
        err = p.read_stderr()
    rx.close()
    check(rc == 0, f"quiet live capture stops with 0: {rc} {err!r}")
    check(early >= 3, f"interval dumplings written while running, not held back: {early} "
          f"before the stop: {err!r}")


for t in [test_big_file_and_stdin, test_quiet_pipe, test_open_errors, test_live_burst,
          test_quiet_live]:
    t()

shutil.rmtree(tmp, ignore_errors=True)
if failures:
    ndltest.fail(f"{len(failures)} check(s) failed")
print("all capture checks passed")
