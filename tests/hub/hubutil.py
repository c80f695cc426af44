# SPDX-License-Identifier: MIT
"""Helpers shared by the nd-hub tests: WebSocket kitchens and eaters
(python3-websockets), a raw RFC 6455 client for frames no library sends,
and checks on how the hub ended."""

import asyncio
import base64
import http.client
import json
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402,F401
import websockets  # noqa: E402

STATUS_CHEF = "SystemStatusChef"
ORIGINAL_STATUS_KEYS = ["total_dumplings_in", "total_dumplings_out", "server_uptime",
                        "dumpling_kitchen_count", "dumpling_eater_count",
                        "dumpling_kitchens", "dumpling_eaters"]


def check(cond, msg):
    """assert that survives python -O."""
    if not cond:
        raise AssertionError(msg)


def dumpling(chef, kitchen, payload, driver="packet", ensure_ascii=True):
    return json.dumps({"metadata": {"chef": chef, "kitchen": kitchen,
                                    "creation_time": time.time(), "driver": driver},
                       "payload": payload}, ensure_ascii=ensure_ascii)


def is_status(text):
    try:
        d = json.loads(text)
    except ValueError:
        return False
    return isinstance(d, dict) and d.get("metadata", {}).get("chef") == STATUS_CHEF


async def connect(port, path="/", **kw):
    kw.setdefault("max_size", None)
    kw.setdefault("ping_interval", None)
    return await websockets.connect(f"ws://127.0.0.1:{port}{path}", **kw)


async def kitchen(port, name, **extra):
    hello = {"kitchen_name": name, "interface": "lo", "filter": "tcp or udp or arp",
             "chefs": ["tests.TestChef"], "poke_interval": 5.0}
    hello.update(extra)
    ws = await connect(port)
    await ws.send(json.dumps(hello))
    return ws, hello


async def eater(port, name):
    hello = {"eater_name": name}
    ws = await connect(port)
    await ws.send(json.dumps(hello))
    return ws, hello


async def next_status(ws, pred=lambda p: True, timeout=10.0):
    """The payload of the next status dumpling on eater ws for which
    pred(payload) holds; other messages are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no matching status dumpling in time")
        msg = await asyncio.wait_for(ws.recv(), left)
        if is_status(msg):
            p = json.loads(msg)["payload"]
            if pred(p):
                return p


async def dumplings_of(ws, n, timeout=10.0):
    """The next n dumplings on eater ws that are not status, parsed."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"got {len(out)} of {n} dumplings: {out}")
        msg = await asyncio.wait_for(ws.recv(), left)
        if not is_status(msg):
            out.append(json.loads(msg))
    return out


async def close_code_of(ws, timeout=10.0):
    """Wait until the hub closes ws; returns the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as e:
        return e.rcvd.code if e.rcvd is not None else None


def http_get(port, path, context=None):
    """(status, body text, headers with lower-case names) of GET path on
    127.0.0.1:port; over TLS with context when given."""
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8"), {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def stop_hub_clean(proc):
    """SIGTERM the hub; it must exit 0 with no sanitizer report."""
    proc.signal(signal.SIGTERM)
    rc = proc.wait(timeout=20)
    err = proc.read_stderr()
    reports = ndltest.sanitizer_reports(err)
    check(not reports, "sanitizer reports from nd-hub:\n" + err[-8000:])
    check(rc == 0, f"nd-hub exited {rc} on SIGTERM:\n{err[-4000:]}")
    check("stopped" in err, "nd-hub did not log its clean stop:\n" + err[-2000:])
    return err


class RawWS:
    """A minimal RFC 6455 client over a plain socket, for sending what
    well-behaved libraries never send (half frames, raw bytes)."""

    def __init__(self, port, rcvbuf=None, timeout=10.0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                       .encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = self.s.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            resp += chunk
        head, self.buf = resp.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 101"), f"handshake refused: {head!r}")

    @staticmethod
    def frame(opcode, payload, fin=True):
        """A masked client frame (RFC 6455 section 5.2)."""
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return hdr + mask + body

    def send_text(self, text):
        self.s.sendall(self.frame(0x1, text.encode()))

    def send_raw(self, data):
        self.s.sendall(data)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        """(opcode, payload) of the next server frame (never masked)."""
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        check(not (b1 & 0x80), "server frame is masked")
        return b0 & 0x0F, self._read(n)

    def recv_close_code(self):
        """Skip data frames until the close frame; returns its code (None if
        the connection ends without one)."""
        try:
            while True:
                op, body = self.recv_frame()
                if op == 0x8:
                    return struct.unpack("!H", body[:2])[0] if len(body) >= 2 else None
        except (ConnectionError, OSError):
            return None

    def close(self):
        self.s.close()


def run_parts(parts, name):
    """Run each part(tmpdir) of a test file against its own hub; a failing
    part does not stop the others, and the file fails if any did.
    NDL_PARTS=part_a,part_b runs only those."""
    import shutil
    import tempfile
    import traceback
    if os.environ.get("NDL_PARTS"):
        parts = [p for p in parts if p.__name__ in os.environ["NDL_PARTS"].split(",")]
    failed = []
    tmp = tempfile.mkdtemp(prefix=f"ndl-hub-{name}-")
    try:
        for part in parts:
            t0 = time.monotonic()
            try:
                part(tmp)
                print(f"ok   {part.__name__} ({time.monotonic() - t0:.1f}s)")
            except Exception:
                failed.append(part.__name__)
                print(f"FAIL {part.__name__} ({time.monotonic() - t0:.1f}s)")
                traceback.print_exc()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        ndltest.fail("failed: " + ", ".join(failed))
    print(f"all {name} checks passed")
