#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile clients: each bad hello, bad frame or broken connection gets the
close code RFC 6455 and the wire doc ask for, is counted by reason, and
leaves no ghost in the status; meanwhile a well-behaved eater keeps getting
every dumpling of a well-behaved kitchen."""

import asyncio
import json
import socket
import time

from hubutil import (RawWS, check, close_code_of, connect, dumpling, eater, is_status,
                     kitchen, ndltest, next_status, stop_hub_clean)

MAX_FRAME = 4096
EXPECTED = {
    "hello_not_json": 1,
    "hello_not_object": 3,
    "hello_without_name": 4,
    "hello_timeout": 1,
    "closed_before_hello": 2,
    "binary_frame": 2,
    "too_big": 3,
    "not_json": 2,
    "not_a_dumpling": 4,
    "eater_frame_ignored": 1,
    "too_many_clients": 0,
    "bad_subscription": 0,
}


class GoodPair:
    """A kitchen and an eater that behave; the eater records every dumpling."""

    def __init__(self):
        self.seq = 0
        self.got = []
        self.last_status = None

    async def start(self, in_port, out_port):
        self.eater, _ = await eater(out_port, "good-eater")
        self.kitchen, _ = await kitchen(in_port, "good-kitchen")
        await next_status(self.eater, lambda p: p["dumpling_kitchen_count"] == 1
                          and p["dumpling_eater_count"] == 1)
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for msg in self.eater:
            if not is_status(msg):
                self.got.append(json.loads(msg)["payload"]["seq"])
            else:
                self.last_status = json.loads(msg)["payload"]

    async def wait_status(self, pred, timeout=10.0):
        """The latest status payload the reader saw for which pred holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.last_status is not None and pred(self.last_status):
                return self.last_status
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no matching status; last: {self.last_status}")

    async def tick(self):
        await self.kitchen.send(dumpling("GoodChef", "good-kitchen", {"seq": self.seq}))
        self.seq += 1


async def expect_close(ws, code, what):
    got = await close_code_of(ws)
    check(got == code, f"{what}: close code {got}, expected {code}")


async def raw_in_thread(fn):
    return await asyncio.get_running_loop().run_in_executor(None, fn)


async def scenario(in_port, out_port, hub):
    good = GoodPair()
    await good.start(in_port, out_port)
    await good.tick()

    async def bad_hello(port, text, code, what):
        ws = await connect(port)
        await ws.send(text)
        await expect_close(ws, code, what)
        await good.tick()

    await bad_hello(in_port, "this is not json", 1008, "kitchen hello not JSON")
    await bad_hello(in_port, "[1, 2]", 1008, "kitchen hello JSON array")
    await bad_hello(out_port, '"just a string"', 1008, "eater hello JSON string")
    await bad_hello(in_port, "{}", 1008, "kitchen hello without kitchen_name")
    await bad_hello(in_port, '{"kitchen_name": 5}', 1008, "kitchen_name not a string")
    await bad_hello(out_port, '{"name": "x"}', 1008, "eater hello without eater_name")
    await bad_hello(out_port, '{"kitchen_name": "k"}', 1008, "kitchen hello on the eater port")
    await bad_hello(in_port, json.dumps({"kitchen_name": "x" * 5000}), 1009, "oversized hello")

    ws = await connect(in_port)
    await ws.send(b"\x00\x01binary hello")
    await expect_close(ws, 1003, "binary hello")

    ws = await connect(out_port)
    await ws.send(json.dumps({"eater_name": "binary-eater"}))
    await ws.send(b"\xff")
    await expect_close(ws, 1003, "binary frame from an eater")
    await good.tick()

    # After their hello, kitchens send dumplings.
    ws, _ = await kitchen(in_port, "sloppy-kitchen")
    for text in ('{"foo": 1}', '{"metadata": {}}', '{"metadata": {"chef": 5}}', "[]"):
        await ws.send(text)                       # JSON, not dumplings: counted, kept
    await ws.send(dumpling("GoodChef", "sloppy-kitchen", {"seq": good.seq}))
    good.seq += 1                                 # ...and still forwarded after them
    await ws.send("{not json")
    await expect_close(ws, 1007, "non-JSON dumpling")

    ws, _ = await kitchen(in_port, "big-kitchen")
    await ws.send(dumpling("BigChef", "big-kitchen", {"blob": "z" * 5000}))
    await expect_close(ws, 1009, "dumpling over --max-frame")

    ws, _ = await kitchen(in_port, "fragment-kitchen")
    await ws.send(["a" * 2000, "b" * 2000, "c" * 2000])
    await expect_close(ws, 1009, "fragmented message over --max-frame")
    await good.tick()

    # Invalid UTF-8 in a text frame (RFC 6455 8.1): not JSON, 1007.
    def raw_bad_utf8():
        r = RawWS(in_port)
        r.send_text(json.dumps({"kitchen_name": "raw-kitchen"}))
        r.send_raw(RawWS.frame(0x1, b'{"metadata": {"chef": "\xc3\x28"}}'))
        code = r.recv_close_code()
        r.close()
        return code
    code = await raw_in_thread(raw_bad_utf8)
    check(code == 1007, f"invalid UTF-8 dumpling: close code {code}")

    # An eater that talks after its hello is ignored, not closed.
    chatty, _ = await eater(out_port, "chatty-eater")
    await chatty.send("hello? anyone?")
    await good.tick()
    await next_status(chatty, lambda p: p["rejections"]["eater_frame_ignored"] == 1)
    await chatty.close()

    # A refused hello gets exactly one close frame (RFC 6455 section 5.5.1:
    # nothing after a close; browsers fail the connection on a second one).
    def raw_one_close():
        r = RawWS(in_port)
        r.send_text("[1]")
        frames = []
        try:
            while True:
                frames.append(r.recv_frame())
        except (ConnectionError, OSError):
            pass
        r.close()
        return frames
    frames = await raw_in_thread(raw_one_close)
    closes = [body for op, body in frames if op == 0x8]
    check(len(closes) == 1 and closes[0][:2] == b"\x03\xf0",
          f"refused hello: close frames {closes!r}, want one with 1008")

    # Connects and closes without a hello.
    ws = await connect(in_port)
    await ws.close()

    # Half a hello frame, then the socket closes.
    def raw_half_hello():
        r = RawWS(in_port)
        frame = RawWS.frame(0x1, json.dumps({"kitchen_name": "half"}).encode())
        r.send_raw(frame[:len(frame) // 2])
        r.close()
    await raw_in_thread(raw_half_hello)

    # A valid hello, then half a dumpling frame, then the socket closes.
    def raw_half_dumpling():
        r = RawWS(in_port)
        r.send_text(json.dumps({"kitchen_name": "half-dumpling"}))
        frame = RawWS.frame(0x1, dumpling("C", "half-dumpling", {"x": 1}).encode())
        r.send_raw(frame[:20])
        time.sleep(0.2)
        r.close()
    await raw_in_thread(raw_half_dumpling)

    # A client that says nothing past the handshake: closed at --hello-timeout.
    def raw_silent():
        r = RawWS(in_port, timeout=15)
        t0 = time.monotonic()
        code = r.recv_close_code()
        r.close()
        return code, time.monotonic() - t0
    code, waited = await raw_in_thread(raw_silent)
    check(code == 1008, f"silent client: close code {code}")
    check(waited < 5, f"silent client closed after {waited:.1f}s")

    # Not WebSocket at all: a plain HTTP request, then garbage bytes.
    def raw_http():
        with socket.create_connection(("127.0.0.1", in_port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                s.recv(4096)
            except OSError:
                pass
        with socket.create_connection(("127.0.0.1", out_port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(300))
    await raw_in_thread(raw_http)

    # A subprotocol the hub does not know: lws 4.1 refuses the handshake.
    try:
        ws = await connect(in_port, subprotocols=["chat.example"])
        await ws.close()
    except Exception:
        pass

    await good.tick()
    check(hub.poll() is None, "nd-hub died")

    # Counts by reason, and no ghosts.
    p = await good.wait_status(lambda p: p["dumpling_kitchen_count"] == 1
                               and p["rejections"]["closed_before_hello"] == 2
                               and p["total_dumplings_in"] == good.seq)
    for reason, n in EXPECTED.items():
        check(p["rejections"].get(reason) == n,
              f"rejections[{reason}] = {p['rejections'].get(reason)}, expected {n}: "
              f"{p['rejections']}")
    check(p["total_dumplings_rejected"] == sum(EXPECTED.values()),
          f"total_dumplings_rejected {p['total_dumplings_rejected']}")
    kitchens = [k["info_from_kitchen"]["kitchen_name"] for k in p["dumpling_kitchens"]]
    eaters = [e["info_from_eater"]["eater_name"] for e in p["dumpling_eaters"]]
    check(kitchens == ["good-kitchen"], f"kitchens listed: {kitchens}")
    check(eaters == ["good-eater"], f"eaters listed: {eaters}")

    # The good eater got every good dumpling, once, in order.
    deadline = time.monotonic() + 5
    while len(good.got) < good.seq and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    good.reader.cancel()
    check(good.got == list(range(good.seq)), f"good eater got {good.got}, sent {good.seq}")
    await good.kitchen.close()
    await good.eater.close()


def main():
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--max-frame", str(MAX_FRAME),
                                                    "--hello-timeout", "1",
                                                    status_freq=0.25)
        asyncio.run(scenario(in_port, out_port, hub))
        err = stop_hub_clean(hub)
        check("rejected kitchen" in err, "rejections are not logged:\n" + err)
    print("hostile: ok")


if __name__ == "__main__":
    main()
