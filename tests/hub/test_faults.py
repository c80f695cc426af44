#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Faults: the hub under a paused eater, connection churn and floods of bad
frames, each while a good kitchen streams numbered dumplings to good eaters.

- A paused eater (it said hello, then stopped reading, so TCP backs up) costs
  the hub a bounded queue and nothing else: the reading eaters get every
  dumpling at the kitchen's rate, the hub's RSS stops growing once the queue
  is full, and the status counts the paused eater's drops. Under
  --lag-policy drop-oldest the paused eater keeps the newest dumplings and is
  told what it lost; under --lag-policy disconnect it is closed with 4103
  (both skipped while the hub has no --lag-policy).
- Churn: 1,000 eaters come and go (clean close, TCP dropped, no hello, bad
  hello); the hub ends with its one steady eater, the same open files, about
  the same RSS, and rejection counters equal to what was done.
- Floods: binary frames, invalid UTF-8, non-JSON, huge and never-finished
  fragmented messages, garbage instead of a handshake, ping storms and
  batch-mode messages with bad lines, all at once; every rejection is
  counted by its reason exactly, the hub's memory and open files come back,
  and the good stream is complete.
- Invalid UTF-8 inside a batch-mode kitchen's message must not reach the
  eaters (BatchInvalidUtf8; fails while the hub forwards it).

Run one group with: test_faults.py PausedEater|Churn|Floods|BatchInvalidUtf8"""

import asyncio
import base64
import json
import os
import socket
import struct
import subprocess
import threading
import time
import unittest

from hubutil import (RawWS, check, connect, dumpling, eater, is_status, kitchen, ndltest,
                     next_status, stop_hub_clean)


# ---- helpers ----


def hub_env():
    """A small ASan quarantine, so RSS measures the hub and not freed memory
    the sanitizer keeps poisoned (no effect on the plain build)."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
    return env


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


_HELP = None


def sanitized():
    """Whether nd-hub was built with AddressSanitizer."""
    with open(ndltest.prog("nd-hub"), "rb") as f:
        return b"__asan_init" in f.read()


def hub_has_option(opt):
    global _HELP
    if _HELP is None:
        r = subprocess.run([ndltest.prog("nd-hub"), "--help"], capture_output=True,
                           text=True, timeout=20)
        _HELP = r.stdout + r.stderr
    return opt in _HELP


class RssSampler(threading.Thread):
    """VmRSS of a process every 20 ms, with the time of each sample."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.samples.append((time.monotonic(), ndltest.vmrss_kib(self.pid)))
            except (OSError, RuntimeError):
                return
            time.sleep(0.02)

    def stop(self):
        self.halt.set()
        self.join()
        return self.samples


def frame(opcode, payload, fin=True):
    """A masked client frame (RFC 6455 sections 5.2, 5.3), as RawWS.frame
    builds it but masked with one big XOR, for megabyte payloads."""
    mask = os.urandom(4)
    n = len(payload)
    hdr = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        hdr += bytes([0x80 | n])
    elif n < 65536:
        hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
    if not n:
        return hdr + mask
    key = (mask * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return hdr + mask + body


class AsyncRaw:
    """An RFC 6455 client on asyncio streams, for the abuse python3-websockets
    will not send."""

    def __init__(self, reader, writer):
        self.r, self.w = reader, writer

    @classmethod
    async def open(cls, port, handshake=True, protocol=None):
        """Connect; with handshake, upgrade (offering the subprotocol
        protocol when given; self.protocol is what the hub chose)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        self = cls(reader, writer)
        self.protocol = None
        if handshake:
            key = base64.b64encode(os.urandom(16)).decode()
            offer = f"Sec-WebSocket-Protocol: {protocol}\r\n" if protocol else ""
            writer.write((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                          f"{offer}\r\n").encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
            check(head.startswith(b"HTTP/1.1 101"), f"handshake refused: {head!r}")
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "sec-websocket-protocol":
                    self.protocol = value.strip()
        return self

    async def send(self, data):
        self.w.write(data)
        await self.w.drain()

    async def frame(self, opcode, payload, fin=True):
        await self.send(frame(opcode, payload, fin))

    async def text(self, text):
        await self.frame(0x1, text.encode() if isinstance(text, str) else text)

    async def hello(self, obj):
        await self.text(json.dumps(obj))

    async def recv_frame(self, timeout=15):
        """(opcode, payload) of the next server frame."""
        b0, b1 = await asyncio.wait_for(self.r.readexactly(2), timeout)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await self.r.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await self.r.readexactly(8))[0]
        return b0 & 0x0F, await asyncio.wait_for(self.r.readexactly(n), timeout)

    async def close_code(self, timeout=15):
        """Skip frames until the hub's close frame; its code, or None when the
        connection ends without one."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                op, body = await self.recv_frame(max(0.1, deadline - time.monotonic()))
                if op == 0x8:
                    return struct.unpack("!H", body[:2])[0] if len(body) >= 2 else None
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return None

    async def pong_for(self, payload, timeout=15):
        """Skip frames until a pong carrying payload."""
        deadline = time.monotonic() + timeout
        while True:
            op, body = await self.recv_frame(max(0.1, deadline - time.monotonic()))
            check(op != 0x8, f"closed while waiting for a pong: {body!r}")
            if op == 0xA and body == payload:
                return

    async def close_clean(self, code=1000):
        """Our close frame, then wait for the hub's and the end of TCP."""
        await self.frame(0x8, struct.pack("!H", code))
        try:
            while True:
                op, _ = await self.recv_frame(10)
                if op == 0x8:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        self.w.close()

    def drop(self, reset=False):
        """End TCP without a close frame (with reset: an RST)."""
        if reset:
            sock = self.w.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.w.transport.abort()


class GoodStream:
    """A kitchen sending numbered dumplings at a steady rate, and eaters that
    record each one with the time it arrived."""

    def __init__(self, in_port, out_port, rate, payload_bytes=64, eaters=1, window=1000):
        self.in_port, self.out_port = in_port, out_port
        self.rate = rate
        self.window = window
        self.throttled = 0
        self.blob = "g" * payload_bytes
        self.n_eaters = eaters
        self.sent = 0
        self.got = []           # per eater: list of (seq, sent_at, got_at)
        self.status = []        # per eater: latest status payload
        self.status_log = []    # eater 0: (time, status payload) of each
        self.kitchen = None

    async def start(self):
        self.eaters = []
        for i in range(self.n_eaters):
            ws, _ = await eater(self.out_port, f"good-eater-{i}")
            ws.close_timeout = 2          # a failing test must not wait 10 s per socket
            self.eaters.append(ws)
            self.got.append([])
            self.status.append(None)
        self.kitchen, _ = await kitchen(self.in_port, "good-kitchen")
        self.kitchen.close_timeout = 2
        await next_status(self.eaters[0], lambda p: p["dumpling_kitchen_count"] >= 1
                          and p["dumpling_eater_count"] >= self.n_eaters)
        self.readers = [asyncio.create_task(self._read(i)) for i in range(self.n_eaters)]

    async def _read(self, i):
        async for msg in self.eaters[i]:
            now = time.monotonic()
            d = json.loads(msg)
            if d["metadata"]["chef"] == "GoodChef":
                self.got[i].append((d["payload"]["seq"], d["payload"]["t"], now))
            elif is_status(msg):
                self.status[i] = d["payload"]
                if i == 0:
                    self.status_log.append((now, d["payload"]))

    async def publish(self, seconds=None, until=None):
        """Send at self.rate until `seconds` passed or the future `until` is
        done. The good eaters read in this same process: when it is not
        scheduled enough to read at the rate (a loaded machine), a burst
        to catch up, or more than `window` dumplings not yet read, would
        overflow their queues in the hub, which would be the hub doing its
        job. So it catches up by 50 ms of dumplings at most, and waits
        while `window` dumplings are unread (counted in throttled)."""
        t0 = time.monotonic()
        step = 0.01
        burst = max(1, self.rate // 20)
        sent0 = self.sent
        while True:
            now = time.monotonic()
            if seconds is not None and now - t0 >= seconds:
                break
            if until is not None and until.done():
                break
            due = min(sent0 + int((now - t0) * self.rate) + 1, self.sent + burst)
            while self.sent < due:
                if self.sent - min(len(g) for g in self.got) >= self.window:
                    self.throttled += 1
                    break
                await self.kitchen.send(dumpling("GoodChef", "good-kitchen",
                                                 {"seq": self.sent, "t": time.monotonic(),
                                                  "blob": self.blob}))
                self.sent += 1
            await asyncio.sleep(step)

    async def wait_all(self, timeout=15):
        """Every eater got seq 0..sent-1, once each, in order."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(len(g) >= self.sent for g in self.got):
                break
            for i, r in enumerate(self.readers):
                if r.done() and len(self.got[i]) < self.sent:
                    ws = self.eaters[i]
                    raise AssertionError(f"good eater {i} lost its connection after "
                                         f"{len(self.got[i])} of {self.sent} dumplings: "
                                         f"{ws.close_code} {ws.close_reason!r} "
                                         f"({r.exception()!r})")
            await asyncio.sleep(0.02)
        for i, g in enumerate(self.got):
            seqs = [s for s, _, _ in g]
            if seqs != list(range(self.sent)):
                gaps = sorted(set(range(self.sent)) - set(seqs))
                raise AssertionError(f"good eater {i} got {len(seqs)} of {self.sent} "
                                     f"dumplings; missing {gaps[:10]}..., "
                                     f"first seqs {seqs[:5]}")

    async def wait_status(self, pred, timeout=15):
        """The latest status seen by eater 0 for which pred holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.status[0]
            if p is not None and pred(p):
                return p
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no matching status; last: {json.dumps(self.status[0])[:3000]}")

    async def stop(self):
        for r in self.readers:
            r.cancel()
        await self.kitchen.close()
        for ws in self.eaters:
            await ws.close()


def eater_info(p, name):
    for e in p["dumpling_eaters"]:
        if e["info_from_eater"].get("eater_name") == name:
            return e["info_from_hub"]
    return None


def check_rejections(p, expected):
    """Every reason the hub reports equals what was done (0 when not named)."""
    rej = p["rejections"]
    wrong = {k: (v, expected.get(k, 0)) for k, v in rej.items() if v != expected.get(k, 0)}
    missing = [k for k in expected if k not in rej]
    check(not wrong and not missing,
          f"rejections (got, expected): {wrong}; reasons not reported: {missing}")
    check(p["total_dumplings_rejected"] == sum(rej.values()),
          f"total_dumplings_rejected {p['total_dumplings_rejected']} != {sum(rej.values())}")


async def wait_fds(pid, baseline, timeout=10):
    deadline = time.monotonic() + timeout
    n = open_fds(pid)
    while n > baseline and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        n = open_fds(pid)
    return n


# ---- the paused eater ----

# The queue holds half a second of the stream: enough for a reading eater
# that the scheduler leaves aside for a moment, far less than what the
# paused eater misses.
QUEUE = 1024
QUEUE_BYTES = 1024 * 1024
RATE = 1000                  # dumplings per second from the kitchen
WINDOW = 300                 # most dumplings the fast eaters may have unread
PUBLISH_SECONDS = 4.0
PAYLOAD = 2048
MAX_LATENCY = 2.0            # seconds from the kitchen's send to a fast eater
PAUSED_RSS_LIMIT_KIB = 12 * 1024
PAUSED_RSS_LATE_GROWTH_KIB = 2 * 1024


async def paused_eater_run(in_port, out_port, hub, policy, on_full=None, forever=None):
    """Two fast eaters and a paused one (with forever, a second paused eater
    of that name); on_full(paused socket) is called once a status shows
    the paused eater's queue full. Returns (paused socket, GoodStream, dumplings sent)."""
    # The paused eater: a raw socket with small buffers that says hello and
    # then does not read, so TCP backs up and the hub's queue fills.
    paused = RawWS(out_port, rcvbuf=4096)
    paused.send_text(json.dumps({"eater_name": "paused"}))
    if forever is not None:
        forever.append(RawWS(out_port, rcvbuf=4096))
        forever[0].send_text(json.dumps({"eater_name": "paused-forever"}))
    good = GoodStream(in_port, out_port, RATE, PAYLOAD, eaters=2, window=WINDOW)
    await good.start()
    await good.wait_status(lambda p: p["dumpling_eater_count"] == (3 if forever is None else 4))

    baseline = ndltest.vmrss_kib(hub.pid)
    sampler = RssSampler(hub.pid)
    sampler.start()

    def full(p):
        e = eater_info(p, "paused")
        return e is None or e["dropped"] > 0

    def t_full():
        """When the first status showing the paused eater's queue full came."""
        return next((t for t, p in good.status_log if t >= t0 and full(p)), None)

    # PUBLISH_SECONDS, and on a loaded machine until a while after the fill.
    t0 = time.monotonic()
    while True:
        now, tf = time.monotonic(), t_full()
        if tf is not None and on_full is not None:
            on_full(paused)
            on_full = None
        if now - t0 >= PUBLISH_SECONDS and tf is not None and now - tf >= PUBLISH_SECONDS / 3:
            break
        if now - t0 >= 4 * PUBLISH_SECONDS:
            break
        await good.publish(seconds=0.25)
    await good.wait_all()
    samples = sampler.stop()
    total = good.sent

    # The fast eaters were not slowed down by the paused one.
    for i, g in enumerate(good.got):
        worst = max(got - sent for _, sent, got in g)
        span = g[-1][2] - g[0][2]
        print(f"paused[{policy}]: fast eater {i}: {len(g)} dumplings in {span:.2f}s, "
              f"worst latency {worst * 1000:.0f} ms; the kitchen waited for the "
              f"eaters {good.throttled} times")
        check(worst < MAX_LATENCY, f"fast eater {i}: a dumpling took {worst:.2f}s")
        took = g[-1][1] - g[0][1]
        check(span < took + MAX_LATENCY,
              f"fast eater {i} took {span:.2f}s for {took:.2f}s of dumplings")

    # Memory: bounded, and flat from the first status that shows the paused
    # eater dropping (its queue is full) on.
    t_full = t_full()
    check(t_full is not None, "no status showed the paused eater dropping")
    peak = max(k for _, k in samples)
    at_full = max(k for t, k in samples if t <= t_full)
    after = max(k for t, k in samples if t > t_full)
    print(f"paused[{policy}]: RSS baseline {baseline} KiB, {at_full} when the queue was "
          f"full after {t_full - t0:.2f}s, {after} at most after that; {total} dumplings "
          f"({total * PAYLOAD // 1024} KiB)")
    check(peak - baseline < PAUSED_RSS_LIMIT_KIB,
          f"hub RSS grew by {peak - baseline} KiB with a paused eater")
    check(after - at_full < PAUSED_RSS_LATE_GROWTH_KIB,
          f"hub RSS still growing after the queue filled: {at_full} -> {after} KiB")
    check(hub.poll() is None, "nd-hub died")
    return paused, good, total


class PausedEater(unittest.TestCase):
    def run_hub(self, extra, body):
        with ndltest.Procs() as procs:
            hub, in_port, out_port = procs.hub_any_port(
                "--eater-queue", str(QUEUE), "--eater-queue-bytes", str(QUEUE_BYTES),
                *extra, status_freq=0.5, env=hub_env())
            asyncio.run(body(in_port, out_port, hub))
            stop_hub_clean(hub)

    def test_paused_eater_costs_a_bounded_queue(self):
        """Whatever the policy: the others get everything, RSS is bounded,
        the status counts the paused eater's drops."""
        async def body(in_port, out_port, hub):
            paused, good, total = await paused_eater_run(in_port, out_port, hub, "default")
            p = await good.wait_status(lambda p: p["total_dumplings_in"] == total)
            f0, f1 = eater_info(p, "good-eater-0"), eater_info(p, "good-eater-1")
            check(f0["dropped"] == 0 and f1["dropped"] == 0,
                  f"fast eaters dropped {f0['dropped']}, {f1['dropped']}")
            s = eater_info(p, "paused")
            if s is not None:     # still connected (not the disconnect policy)
                check(s["queued"] <= QUEUE_BYTES // PAYLOAD + 8,
                      f"paused eater queued {s['queued']}, more than {QUEUE_BYTES} bytes")
                check(s["dropped"] > total // 4,
                      f"paused eater dropped only {s['dropped']} of {total}")
                statuses = int(p["server_uptime"] / 0.5) + 2
                accounted = s["sent"] + s["queued"] + s["dropped"]
                check(total <= accounted <= total + statuses,
                      f"paused eater: sent {s['sent']} + queued {s['queued']} + dropped "
                      f"{s['dropped']} = {accounted}, expected {total}..{total + statuses}")
                check(p["total_dumplings_dropped"] == s["dropped"],
                      f"total dropped {p['total_dumplings_dropped']} != {s['dropped']}")
                print(f"paused: sent {s['sent']}, queued {s['queued']}, "
                      f"dropped {s['dropped']} of {total}")
            else:
                check(p["total_dumplings_dropped"] > 0, "the paused eater went, no drops")
            paused.close()
            await good.stop()
        self.run_hub([], body)

    @unittest.skipUnless(hub_has_option("--lag-policy"),
                         "nd-hub has no --lag-policy yet (protocol.md section 11)")
    def test_drop_oldest_keeps_the_newest_and_says_what_was_lost(self):
        async def body(in_port, out_port, hub):
            paused, good, total = await paused_eater_run(in_port, out_port, hub,
                                                         "drop-oldest")
            p = await good.wait_status(lambda p: p["total_dumplings_in"] == total)
            s = eater_info(p, "paused")
            check(s is not None, "drop-oldest closed the paused eater")
            check(s["queued"] <= QUEUE_BYTES // PAYLOAD + 8,
                  f"paused eater queued {s['queued']}, more than {QUEUE_BYTES} bytes")
            check(s["dropped"] > total // 4, f"paused eater dropped only {s['dropped']}")

            # Now it reads: what the kernel held, a drop notice, then the
            # newest dumplings (the oldest were the ones dropped).
            def drain():
                seqs, notices = [], []
                paused.s.settimeout(10)
                while not seqs or seqs[-1] != total - 1:
                    op, body = paused.recv_frame()
                    if op != 0x1:
                        continue
                    d = json.loads(body)
                    chef = d["metadata"]["chef"]
                    if chef == "GoodChef":
                        seqs.append(d["payload"]["seq"])
                    elif chef == "SystemDropsChef":
                        notices.append(d["payload"])
                return seqs, notices
            seqs, notices = await asyncio.get_running_loop().run_in_executor(None, drain)
            check(seqs == sorted(seqs), "paused eater got dumplings out of order")
            check(notices, "no SystemDropsChef notice after drops")
            check(all(n.get("policy") == "drop-oldest" for n in notices), f"{notices}")
            last = notices[-1]
            check(sum(n["dropped"] for n in notices) == last["total_dropped"],
                  f"notices do not add up: {notices}")
            # The newest dumplings made it, the last one included: half of
            # what the queue holds (by count or by bytes, whichever is less).
            check(seqs[-1] == total - 1, f"last dumpling received {seqs[-1]}")
            keep = min(QUEUE, QUEUE_BYTES // (PAYLOAD + 256)) // 2
            tail = [q for q in seqs if q >= total - keep]
            check(tail == list(range(total - keep, total)),
                  f"the newest {keep} dumplings were not all kept: {tail}")
            good_lost = total - len(seqs)
            check(last["total_dropped"] >= good_lost,
                  f"notices say {last['total_dropped']} dropped, {good_lost} dumplings lost")
            paused.close()
            await good.stop()
        self.run_hub(["--lag-policy", "drop-oldest"], body)

    @unittest.skipUnless(hub_has_option("--lag-policy"),
                         "nd-hub has no --lag-policy yet (protocol.md section 11)")
    def test_disconnect_closes_the_paused_eater_with_4103(self):
        async def body(in_port, out_port, hub):
            loop = asyncio.get_running_loop()
            reading = []
            forever = []

            def wake_up(paused):
                # Once its queue is full the paused eater reads again: it
                # must find the close the hub sent after its dumplings.
                reading.append(loop.run_in_executor(None, paused.recv_close_code))
            paused, good, total = await paused_eater_run(in_port, out_port, hub, "disconnect",
                                                         on_full=wake_up, forever=forever)
            check(reading, "the paused eater's queue never filled")
            code = await reading[0]
            check(code == 4103, f"paused eater closed with {code}, expected 4103")
            # One that never reads again is hung up on too (after the hub's
            # wait for a close frame it cannot send): its socket ends.
            p = await good.wait_status(lambda p: p["dumpling_eater_count"] == 2
                                       and p["total_dumplings_in"] == total, timeout=20)
            check(eater_info(p, "paused") is None, "the paused eater is still listed")
            check(eater_info(p, "paused-forever") is None, "the paused-forever eater stays")
            check(p["total_dumplings_dropped"] > 0, "its queue was not counted as dropped")
            for i in (0, 1):
                check(eater_info(p, f"good-eater-{i}")["dropped"] == 0, "fast eater dropped")
            ended = await loop.run_in_executor(None, forever[0].recv_close_code)
            check(ended in (None, 4103), f"paused-forever eater: close {ended}")
            forever[0].close()
            paused.close()
            await good.stop()
        self.run_hub(["--lag-policy", "disconnect"], body)


# ---- churn ----

ROUNDS = 10
PER_ROUND = {"clean": 40, "dropped": 30, "no_hello": 20, "bad_hello": 10}
# ASan's allocator keeps what the busiest moment used (its quarantine, then
# its free lists), so under ASan this bounds the peak; leaks are left to
# LeakSanitizer at the hub's exit.
CHURN_RSS_LIMIT_KIB = 4 * 1024
CHURN_RSS_LIMIT_ASAN_KIB = 24 * 1024


async def churn_one(out_port, kind, i):
    if kind == "clean":
        ws, _ = await eater(out_port, f"churn-{i}")
        await asyncio.wait_for(ws.recv(), 15)     # it was accepted
        await ws.close()
        return
    raw = await AsyncRaw.open(out_port)
    if kind == "dropped":
        await raw.hello({"eater_name": f"churn-{i}"})
        await raw.recv_frame()                     # accepted: it gets dumplings
        raw.drop(reset=bool(i % 2))
    elif kind == "no_hello":
        if i % 2:
            await raw.close_clean()
        else:
            raw.drop(reset=bool(i % 4))
    else:
        await raw.hello({"name": f"churn-{i}"})
        code = await raw.close_code()
        check(code == 1008, f"hello without eater_name: close {code}")
        raw.w.close()


class Churn(unittest.TestCase):
    def test_thousand_eaters_come_and_go(self):
        async def body(in_port, out_port, hub):
            good = GoodStream(in_port, out_port, rate=400)
            await good.start()
            fds_start = open_fds(hub.pid)

            async def rounds(count):
                n = 0
                for _ in range(count):
                    tasks = []
                    for kind, k in PER_ROUND.items():
                        for _ in range(k):
                            tasks.append(churn_one(out_port, kind, n))
                            n += 1
                    await asyncio.gather(*tasks)
                return n

            # One round first, so that what the allocators keep for 100
            # connections is in the baseline and growth means a leak.
            warm = asyncio.ensure_future(rounds(1))
            await good.publish(until=warm)
            await warm
            await good.publish(seconds=0.3)
            await good.wait_all()
            fds0 = await wait_fds(hub.pid, fds_start)
            rss0 = ndltest.vmrss_kib(hub.pid)

            t0 = time.monotonic()
            churner = asyncio.ensure_future(rounds(ROUNDS))
            await good.publish(until=churner)
            n = await churner
            took = time.monotonic() - t0
            check(n == 1000, f"{n} eaters")
            check(hub.poll() is None, "nd-hub died during the churn")
            await good.wait_all()

            expected = {"closed_before_hello": (ROUNDS + 1) * PER_ROUND["no_hello"],
                        "hello_without_name": (ROUNDS + 1) * PER_ROUND["bad_hello"]}
            p = await good.wait_status(
                lambda p: p["dumpling_eater_count"] == 1
                and p["rejections"]["closed_before_hello"] >= expected["closed_before_hello"]
                and p["total_dumplings_in"] == good.sent)
            check_rejections(p, expected)
            names = [e["info_from_eater"]["eater_name"] for e in p["dumpling_eaters"]]
            check(names == ["good-eater-0"], f"eaters listed after the churn: {names}")
            check(eater_info(p, "good-eater-0")["dropped"] == 0, "steady eater dropped")

            fds = await wait_fds(hub.pid, fds0)
            rss = ndltest.vmrss_kib(hub.pid)
            print(f"churn: 1000 eaters in {took:.1f}s, {good.sent} dumplings; fds {fds0} -> "
                  f"{fds}, RSS {rss0} -> {rss} KiB")
            check(fds == fds0, f"hub has {fds} open files after the churn, {fds0} before")
            limit = CHURN_RSS_LIMIT_ASAN_KIB if sanitized() else CHURN_RSS_LIMIT_KIB
            check(rss - rss0 < limit,
                  f"hub RSS grew by {rss - rss0} KiB over the churn")
            await good.stop()

        with ndltest.Procs() as procs:
            hub, in_port, out_port = procs.hub_any_port(status_freq=0.5, env=hub_env())
            asyncio.run(body(in_port, out_port, hub))
            stop_hub_clean(hub)


# ---- bad-frame floods ----

MAX_FRAME = 64 * 1024
N = 8                        # clients of each kind in a wave
WAVES = 3
FLOOD_RSS_LIMIT_KIB = 16 * 1024


async def kitchen_raw(in_port, name):
    raw = await AsyncRaw.open(in_port)
    await raw.hello({"kitchen_name": name})
    return raw


async def expect_code(raw, code, what):
    got = await raw.close_code()
    check(got == code, f"{what}: close code {got}, expected {code}")
    raw.w.close()


def huge_header(n):
    """A masked text frame header claiming n payload bytes (RFC 6455 5.2)."""
    return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", n) + os.urandom(4)


async def bad_binary_hello(ip, op, i):
    raw = await AsyncRaw.open(ip)
    await raw.frame(0x2, b"\x00\x01\x02binary hello")
    await expect_code(raw, 1003, "binary hello")


async def bad_binary_kitchen(ip, op, i):
    raw = await kitchen_raw(ip, f"bin-k-{i}")
    await raw.frame(0x2, os.urandom(100))
    await expect_code(raw, 1003, "binary dumpling")


async def bad_binary_eater(ip, op, i):
    raw = await AsyncRaw.open(op)
    await raw.hello({"eater_name": f"bin-e-{i}"})
    await raw.frame(0x2, b"\xff\xfe")
    await expect_code(raw, 1003, "binary frame from an eater")


async def bad_utf8_kitchen(ip, op, i):
    raw = await kitchen_raw(ip, f"utf8-k-{i}")
    await raw.text(b'{"metadata": {"chef": "\xc3\x28\xff"}, "payload": {}}')
    await expect_code(raw, 1007, "invalid UTF-8 dumpling")


async def not_json_kitchen(ip, op, i):
    raw = await kitchen_raw(ip, f"nj-k-{i}")
    await raw.text("{\"metadata\": {\"chef\": \"X\"}, \"payload\": ")
    await expect_code(raw, 1007, "non-JSON dumpling")


async def not_dumpling_kitchen(ip, op, i):
    raw = await kitchen_raw(ip, f"nd-k-{i}")
    for text in ('{"foo": 1}', '{"metadata": {"chef": 5}}', "[]"):
        await raw.text(text)
    await raw.frame(0x9, b"still-open")            # counted, and the kitchen stays
    await raw.pong_for(b"still-open")
    await raw.close_clean()


async def huge_claimed_kitchen(ip, op, i):
    raw = await kitchen_raw(ip, f"huge-k-{i}")
    await raw.send(huge_header(1 << 33) + b"x" * 1000)    # claims 8 GiB
    await expect_code(raw, 1009, "frame claiming 8 GiB")


async def huge_hello(ip, op, i):
    raw = await AsyncRaw.open(ip if i % 2 else op)
    await raw.send(huge_header(200 * 1024) + b"{" * 1000)
    await expect_code(raw, 1009, "200 KiB hello")


async def endless_fragments(ip, op, i):
    raw = await kitchen_raw(ip, f"frag-k-{i}")
    piece = b"a" * 4096
    sent = 0
    try:
        await raw.frame(0x1, b'{"metadata": {"chef": "Frag"}, "payload": "', fin=False)
        while sent <= MAX_FRAME:                         # until just past --max-frame
            await raw.frame(0x0, piece, fin=False)
            sent += len(piece)
    except ConnectionError:
        pass                                             # closed while we sent
    await expect_code(raw, 1009, "fragments past --max-frame")


async def stalled_fragments(ip, op, i):
    raw = await kitchen_raw(ip, f"stall-k-{i}")
    await raw.frame(0x1, b'{"metadata": {"chef": "Stall"}, ', fin=False)
    await raw.frame(0x0, b'"payload": {"x": ' + b"1" * 2000, fin=False)
    await asyncio.sleep(0.5)                             # never finished...
    raw.drop(reset=bool(i % 2))                          # ...and gone


async def stalled_fragmented_hello(ip, op, i):
    raw = await AsyncRaw.open(ip if i % 2 else op)
    await raw.frame(0x1, b'{"kitchen_name": ', fin=False)
    await asyncio.sleep(0.5)
    raw.drop(reset=bool(i % 4 < 2))


async def garbage_handshake(ip, op, i):
    port = ip if i % 2 else op
    raw = await AsyncRaw.open(port, handshake=False)
    await raw.send(os.urandom(300) + b"\r\n\r\n")
    try:
        data = await asyncio.wait_for(raw.r.read(), 15)   # until the hub closes
    except (ConnectionError, OSError):
        data = b""
    check(not data.startswith(b"HTTP/1.1 101"), f"garbage was upgraded: {data[:60]!r}")
    raw.w.close()


async def ping_storm(ip, op, i):
    if i % 2:
        raw = await kitchen_raw(ip, f"ping-k-{i}")
    else:
        raw = await AsyncRaw.open(op)
        await raw.hello({"eater_name": f"ping-e-{i}"})
    for n in range(300):
        await raw.frame(0x9, b"storm-%d" % n)
    # RFC 6455 5.5.3: a pong for every ping is not owed, but a ping after the
    # storm must still be answered.
    await asyncio.sleep(0.3)
    last = b"after-the-storm-%d" % i
    await raw.frame(0x9, last)
    await raw.pong_for(last)
    await raw.close_clean()


async def eater_talks(ip, op, i):
    raw = await AsyncRaw.open(op)
    await raw.hello({"eater_name": f"talk-e-{i}"})
    await raw.text("this is not json")
    await raw.text(b'{"subscribe": "\xc3\x28"}')         # invalid UTF-8
    await raw.text(b"[" * (1024 * 1024))                 # 1 MiB, over the 64 KiB cap
    await raw.frame(0x9, b"talked")
    await raw.pong_for(b"talked", timeout=30)            # ignored, still open
    await raw.close_clean()


async def eater_hello_not_json(ip, op, i):
    raw = await AsyncRaw.open(op)
    await raw.text("eater_name: me")
    await expect_code(raw, 1008, "eater hello not JSON")


async def kitchen_hello_array(ip, op, i):
    raw = await AsyncRaw.open(ip)
    await raw.text('["kitchen_name", "k"]')
    await expect_code(raw, 1008, "kitchen hello a JSON array")


BATCH = "netdumplings.batch.v1"


async def batch_bad_lines(ip, op, i):
    """A batch-mode kitchen (protocol.md section 10) whose batches mix good
    and bad lines: each bad line is counted, the good ones delivered."""
    raw = await AsyncRaw.open(ip, protocol=BATCH)
    check(raw.protocol == BATCH, f"hub chose subprotocol {raw.protocol!r}")
    await raw.hello({"kitchen_name": f"batch-k-{i}"})
    await raw.text('garbage\n'
                   '{"metadata":{"kitchen":"no chef"}}\n'
                   '{"metadata":{"chef":"BatchOK","kitchen":"batch"},"payload":1}\n'
                   '{"metadata": 5}\n'
                   '{"metadata":{"chef":"NoLineFeed"},"payload":2}')
    await raw.frame(0x9, b"batched")                  # counted, and still open
    await raw.pong_for(b"batched")
    await raw.close_clean()


FLOODS = [  # (client, {reason: count per client})
    (bad_binary_hello, {"binary_frame": 1}),
    (bad_binary_kitchen, {"binary_frame": 1}),
    (bad_binary_eater, {"binary_frame": 1}),
    (bad_utf8_kitchen, {"not_json": 1}),
    (not_json_kitchen, {"not_json": 1}),
    (not_dumpling_kitchen, {"not_a_dumpling": 3}),
    (huge_claimed_kitchen, {"too_big": 1}),
    (huge_hello, {"too_big": 1}),
    (endless_fragments, {"too_big": 1}),
    (stalled_fragments, {}),
    (stalled_fragmented_hello, {"closed_before_hello": 1}),
    (garbage_handshake, {}),
    (ping_storm, {}),
    (eater_talks, {"eater_frame_ignored": 3}),
    (eater_hello_not_json, {"hello_not_json": 1}),
    (kitchen_hello_array, {"hello_not_object": 1}),
    (batch_bad_lines, {"not_a_dumpling": 4, "dumplings_in": 1}),
]


class Floods(unittest.TestCase):
    def test_bad_frames_in_parallel_with_a_good_stream(self):
        async def body(in_port, out_port, hub):
            good = GoodStream(in_port, out_port, rate=300)
            await good.start()
            await good.publish(seconds=0.3)
            await good.wait_all()
            fds0 = open_fds(hub.pid)
            rss0 = ndltest.vmrss_kib(hub.pid)
            sampler = RssSampler(hub.pid)
            sampler.start()

            expected = {}
            for fn, counts in FLOODS:
                for reason, n in counts.items():
                    expected[reason] = expected.get(reason, 0) + n * N * WAVES
            extra_in = expected.pop("dumplings_in")     # good lines of bad batches

            async def waves():
                n = 0
                for _ in range(WAVES):
                    tasks = [fn(in_port, out_port, i) for fn, _ in FLOODS for i in range(N)]
                    n += len(tasks)
                    await asyncio.gather(*tasks)
                return n
            t0 = time.monotonic()
            flood = asyncio.ensure_future(waves())
            await good.publish(until=flood)
            nbad = await flood
            took = time.monotonic() - t0
            check(hub.poll() is None, "nd-hub died under the flood")
            await good.publish(seconds=0.2)
            await good.wait_all()
            samples = sampler.stop()

            p = await good.wait_status(
                lambda p: p["dumpling_eater_count"] == 1 and p["dumpling_kitchen_count"] == 1
                and p["total_dumplings_in"] == good.sent + extra_in
                and p["rejections"]["closed_before_hello"] >= expected["closed_before_hello"])
            check_rejections(p, expected)
            fds = await wait_fds(hub.pid, fds0)
            peak = max(k for _, k in samples)
            rss = ndltest.vmrss_kib(hub.pid)
            print(f"floods: {nbad} bad clients in {took:.1f}s beside {good.sent} good "
                  f"dumplings; rejections {p['rejections']}; fds {fds0} -> {fds}; "
                  f"RSS {rss0} -> peak {peak} -> {rss} KiB")
            check(fds == fds0, f"hub has {fds} open files after the floods, {fds0} before")
            check(peak - rss0 < FLOOD_RSS_LIMIT_KIB,
                  f"hub RSS grew by {peak - rss0} KiB under the floods")
            await good.stop()

        with ndltest.Procs() as procs:
            hub, in_port, out_port = procs.hub_any_port("--max-frame", str(MAX_FRAME),
                                                        status_freq=0.5, env=hub_env())
            asyncio.run(body(in_port, out_port, hub))
            stop_hub_clean(hub)


# ---- invalid UTF-8 through batch mode ----


class BatchInvalidUtf8(unittest.TestCase):
    """In batch mode the hub reads only each line's metadata and forwards
    the rest unparsed (protocol.md section 10), so bytes that are not UTF-8
    in a payload would go out to every eater inside a text frame. RFC 6455
    section 8.1 tells a client to fail the connection on such a frame
    (1007), and python3-websockets does: one kitchen could disconnect every
    eater. The hub must refuse such a message where it comes in, as it does
    for one-dumpling-per-message kitchens (1007, not_json)."""

    def test_a_batch_kitchen_cannot_break_the_eaters_stream(self):
        async def body(in_port, out_port, hub):
            good = GoodStream(in_port, out_port, rate=200)
            await good.start()
            batch_eater = await connect(out_port, subprotocols=[BATCH], close_timeout=2)
            await batch_eater.send(json.dumps({"eater_name": "batch-eater"}))
            await good.publish(seconds=0.3)

            raw = await AsyncRaw.open(in_port, protocol=BATCH)
            if raw.protocol != BATCH:
                raise unittest.SkipTest("nd-hub has no batch mode")
            await raw.hello({"kitchen_name": "bad-bytes"})
            await raw.text(b'{"metadata":{"chef":"BadBytes"},"payload":"\xff\xfe"}\n'
                           b'{"metadata":{"chef":"AfterBadBytes"},"payload":1}\n')
            code = await raw.close_code(timeout=5)
            raw.w.close()
            await good.publish(seconds=0.5)
            check(hub.poll() is None, "nd-hub died")
            await good.wait_all()            # fails when the eater was disconnected
            check(not batch_eater.closed, "the batch-mode eater was disconnected: "
                  f"{batch_eater.close_code} {batch_eater.close_reason}")
            check(code == 1007, f"kitchen sending bytes that are not UTF-8: close {code},"
                  " expected 1007 (RFC 6455 section 8.1)")
            await batch_eater.close()
            await good.stop()

        with ndltest.Procs() as procs:
            hub, in_port, out_port = procs.hub_any_port(status_freq=0.5, env=hub_env())
            asyncio.run(body(in_port, out_port, hub))
            stop_hub_clean(hub)


if __name__ == "__main__":
    unittest.main(verbosity=2, warnings="ignore")
