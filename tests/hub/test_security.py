#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nd-hub's defences (docs/protocol.md sections 12 and 13), against the real
program on 127.0.0.1:

- tokens: kitchens and eaters need a token from their own file, a missing,
  wrong or other-role token is closed with 4104 and counted bad_token; no
  token ever shows in status, /metrics or the log; SIGHUP re-reads the files
  (a removed token is refused from then on, connections already open stay);
  an empty or missing token file stops the hub at start with its name;
- origins: a browser handshake from a foreign Origin gets HTTP 403 and is
  counted origin_not_allowed; the hub's own origin, no Origin at all, an
  --allow-origin one and any origin under '*' are let through;
- --max-per-address: the connection over the limit is closed with 1013 and
  counted too_many_from_address, and room frees up when one leaves;
- --kitchen-rate: a kitchen sending faster than the rate gets one second's
  worth plus the refill through, the rest counted rate_limited, exactly;
- TLS: with --tls-cert/--tls-key a client trusting the CA works end to end
  over wss://, plain ws:// and clients not trusting the CA fail, and bad
  key or certificate files stop the hub at start with a clear message.

Each part runs against its own hub; every part runs even when an earlier
one fails, and the test fails if any did. NDL_PARTS=part_a,part_b in the
environment runs only those parts."""

import asyncio
import base64
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import websockets

from hubutil import (check, close_code_of, connect, dumpling, dumplings_of, http_get, is_status,
                     ndltest, next_status, run_parts, stop_hub_clean)

FREQ = 0.3
KITCHEN_TOKENS = ["kt-alpha-6f1c2d9e", "kt-bravo-83b0e4a1"]
EATER_TOKENS = ["et-charlie-5d7a9b02", "et-delta-c41e88f3"]
NEW_KITCHEN_TOKEN = "kt-echo-29f0aa71"


# ---- shared pieces ----

async def hello_ws(port, hello, url=None, **kw):
    """A WebSocket on port that has sent hello (a dict)."""
    if url is None:
        ws = await connect(port, **kw)
    else:
        kw.setdefault("max_size", None)
        kw.setdefault("ping_interval", None)
        ws = await websockets.connect(url, **kw)
    await ws.send(json.dumps(hello))
    return ws


def kitchen_hello(name, token=None):
    h = {"kitchen_name": name, "interface": "lo", "filter": "tcp or udp or arp",
         "chefs": ["tests.TestChef"], "poke_interval": 5.0}
    if token is not None:
        h["token"] = token
    return h


def eater_hello(name, token=None):
    h = {"eater_name": name}
    if token is not None:
        h["token"] = token
    return h


async def payloads_of(ws, n, timeout=10.0):
    """The payloads of the next n non-status dumplings on eater ws."""
    return [d["payload"] for d in await dumplings_of(ws, n, timeout)]


async def quiet(ws, seconds):
    """The non-status dumplings ws gets within seconds (none expected)."""
    out = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out
        try:
            msg = await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:
            return out
        if not is_status(msg):
            out.append(json.loads(msg)["payload"])


def metric(text, name, **labels):
    """The value of one sample of the Prometheus text, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    line_re = re.compile(re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "")
                         + r" (\S+)$")
    for line in text.split("\n"):
        m = line_re.match(line)
        if m:
            return float(m.group(1))
    return None


def rejections_metric(port, reason, context=None):
    status, body, _ = http_get(port, "/metrics", context)
    check(status == 200, f"GET /metrics: HTTP {status}")
    return metric(body, "ndl_hub_rejections_total", reason=reason)


async def wait_metric(port, pred, what, timeout=10.0):
    """The /metrics text once pred(text) holds."""
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        status, body, _ = await asyncio.get_running_loop().run_in_executor(
            None, http_get, port, "/metrics")
        if status == 200 and pred(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not seen in /metrics in {timeout}s:\n{body[-3000:]}")


def wait_log(proc, text, count=1, timeout=10.0):
    """Wait until text occurs count times in proc's stderr."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.read_stderr().count(text) >= count:
            return
        check(proc.poll() is None, f"nd-hub exited {proc.returncode}:\n{proc.read_stderr()}")
        time.sleep(0.05)
    raise AssertionError(f"nd-hub did not log {text!r} ({count}x):\n{proc.read_stderr()[-3000:]}")


def run_hub_once(*args, timeout=20):
    """Run nd-hub to completion; (exit status, stdout, stderr). Started
    with -i 0 -o 0 so it never takes a fixed port."""
    p = subprocess.run([ndltest.prog("nd-hub"), "-a", "127.0.0.1", "-i", "0", "-o", "0"]
                       + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    check(not ndltest.sanitizer_reports(err), "sanitizer reports from nd-hub:\n" + err)
    return p.returncode, out, err


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# ---- tokens ----

async def tokens_scenario(hub, in_port, out_port, ktok):
    expected_bad = 0

    async def refused(port, hello, what):
        nonlocal expected_bad
        ws = await hello_ws(port, hello)
        code = await close_code_of(ws)
        check(code == 4104, f"{what}: close code {code}, expected 4104")
        expected_bad += 1

    # The watcher holds the second eater token; every dumpling must reach it.
    watcher = await hello_ws(out_port, eater_hello("watcher", EATER_TOKENS[1]))
    await next_status(watcher)          # it is in: status dumplings come

    await refused(in_port, kitchen_hello("k-none"), "kitchen without token")
    await refused(in_port, kitchen_hello("k-wrong", "kt-not-a-token"), "kitchen, wrong token")
    await refused(in_port, kitchen_hello("k-prefix", KITCHEN_TOKENS[0][:-1]),
                  "kitchen, token cut short")
    await refused(in_port, kitchen_hello("k-eatertok", EATER_TOKENS[0]),
                  "kitchen with an eater token")
    await refused(in_port, kitchen_hello("k-nontext", None) | {"token": 12345},
                  "kitchen with a number as token")
    await refused(out_port, eater_hello("e-kitchentok", KITCHEN_TOKENS[0]),
                  "eater with a kitchen token")
    await refused(out_port, eater_hello("e-none"), "eater without token")

    k1 = await hello_ws(in_port, kitchen_hello("k-one", KITCHEN_TOKENS[0]))
    k2 = await hello_ws(in_port, kitchen_hello("k-two", KITCHEN_TOKENS[1]))
    e1 = await hello_ws(out_port, eater_hello("e-one", EATER_TOKENS[0]))
    p = await next_status(watcher, lambda p: p["dumpling_kitchen_count"] == 2
                          and p["dumpling_eater_count"] == 2)
    for i in range(3):
        await k1.send(dumpling("TokChef", "k-one", {"k": 1, "i": i}))
        await k2.send(dumpling("TokChef", "k-two", {"k": 2, "i": i}))
    want = sorted([{"k": k, "i": i} for k in (1, 2) for i in range(3)],
                  key=lambda d: (d["k"], d["i"]))
    for name, ws in (("watcher", watcher), ("e-one", e1)):
        got = sorted(await payloads_of(ws, 6), key=lambda d: (d["k"], d["i"]))
        check(got == want, f"{name} got {got}, want {want}")

    p = await next_status(watcher, lambda p: p["rejections"]["bad_token"] == expected_bad)
    check(p["dumpling_kitchen_count"] == 2 and p["dumpling_eater_count"] == 2,
          f"refused clients in the status: {p['dumpling_kitchen_count']} kitchens, "
          f"{p['dumpling_eater_count']} eaters")
    for k in p["dumpling_kitchens"]:
        check("token" not in k["info_from_kitchen"], f"token in a kitchen's hello: {k}")
    for e in p["dumpling_eaters"]:
        check("token" not in e["info_from_eater"], f"token in an eater's hello: {e}")
    text = json.dumps(p)
    for t in KITCHEN_TOKENS + EATER_TOKENS:
        check(t not in text, f"token {t} in the status dumpling")
    _, body, _ = http_get(out_port, "/metrics")
    check(metric(body, "ndl_hub_rejections_total", reason="bad_token") == expected_bad,
          f"/metrics bad_token is not {expected_bad}:\n{body}")
    for t in KITCHEN_TOKENS + EATER_TOKENS:
        check(t not in body, f"token {t} in /metrics")

    # Rotation: the first kitchen token goes, a new one comes; SIGHUP.
    write(ktok, f"# rotated\n{KITCHEN_TOKENS[1]}\n\n{NEW_KITCHEN_TOKEN}\n")
    hub.signal(signal.SIGHUP)
    await asyncio.get_running_loop().run_in_executor(None, wait_log, hub, "reloaded")
    await refused(in_port, kitchen_hello("k-old", KITCHEN_TOKENS[0]),
                  "kitchen with the removed token after SIGHUP")
    k3 = await hello_ws(in_port, kitchen_hello("k-three", NEW_KITCHEN_TOKEN))
    k4 = await hello_ws(in_port, kitchen_hello("k-four", KITCHEN_TOKENS[1]))
    e2 = await hello_ws(out_port, eater_hello("e-two", EATER_TOKENS[0]))
    await next_status(watcher, lambda p: p["dumpling_kitchen_count"] == 4
                      and p["dumpling_eater_count"] == 3)
    # k1 said hello with the token now removed: it stays and still publishes.
    for ws, k in ((k1, 1), (k3, 3), (k4, 4)):
        await ws.send(dumpling("TokChef", f"k{k}", {"k": k, "i": 0}))
    for name, ws in (("watcher", watcher), ("e-one", e1), ("e-two", e2)):
        got = sorted(d["k"] for d in await payloads_of(ws, 3))
        check(got == [1, 3, 4], f"{name} after SIGHUP got kitchens {got}")
    check(k1.open and e1.open, "a connection open before SIGHUP was closed")

    # A reload that fails (token file gone) keeps the tokens in force.
    os.unlink(ktok)
    hub.signal(signal.SIGHUP)
    await asyncio.get_running_loop().run_in_executor(None, wait_log, hub, "reload failed")
    check(hub.poll() is None, "nd-hub died on a SIGHUP with its token file gone")
    k5 = await hello_ws(in_port, kitchen_hello("k-five", NEW_KITCHEN_TOKEN))
    await refused(in_port, kitchen_hello("k-none-2"), "kitchen without token after a failed"
                  " reload")
    await k5.send(dumpling("TokChef", "k5", {"k": 5, "i": 0}))
    got = await payloads_of(watcher, 1)
    check(got == [{"k": 5, "i": 0}], f"after the failed reload the watcher got {got}")

    p = await next_status(watcher, lambda p: p["rejections"]["bad_token"] == expected_bad)
    for ws in (k1, k2, k3, k4, k5, e1, e2, watcher):
        await ws.close()
    return expected_bad


def part_tokens(tmp):
    ktok, etok = os.path.join(tmp, "kitchens.tokens"), os.path.join(tmp, "eaters.tokens")
    write(ktok, f"# kitchen tokens\n\n{KITCHEN_TOKENS[0]}\n   \n# next one\n{KITCHEN_TOKENS[1]}\n")
    write(etok, f"{EATER_TOKENS[0]}\n\n# comment\n{EATER_TOKENS[1]}\n")
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--kitchen-token-file", ktok,
                                                    "--eater-token-file", etok,
                                                    status_freq=FREQ)
        asyncio.run(tokens_scenario(hub, in_port, out_port, ktok))
        err = stop_hub_clean(hub)
    for t in KITCHEN_TOKENS + EATER_TOKENS + [NEW_KITCHEN_TOKEN]:
        check(t not in err, f"token {t} in nd-hub's log:\n{err}")
    check("bad_token" in err, "refusals for bad tokens were not logged:\n" + err)

    # Token files that give no token stop the hub at start, naming the file.
    empty, comments = os.path.join(tmp, "empty.tokens"), os.path.join(tmp, "comments.tokens")
    missing = os.path.join(tmp, "missing.tokens")
    write(empty, "")
    write(comments, "# nothing but comments\n\n   \n")
    for opt in ("--kitchen-token-file", "--eater-token-file"):
        for path in (empty, comments, missing):
            for extra in ([], ["--test-config"]):
                rc, _, err = run_hub_once(opt, path, *extra)
                what = f"nd-hub {opt} {os.path.basename(path)} {' '.join(extra)}"
                check(rc == 1, f"{what}: exit {rc}, expected 1:\n{err}")
                check(path in err, f"{what}: the message does not name the file:\n{err}")
                check("listening" not in err, f"{what}: it listened:\n{err}")
                check(len(err.strip().splitlines()) <= 3, f"{what}: not a short message:\n{err}")


# ---- origins ----

def handshake(port, origin=None, host=None):
    """Send a WebSocket handshake with the Origin given (none if None);
    returns the HTTP status code of the answer, or None when the hub
    closed the connection without answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET / HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if origin is not None:
            req += f"Origin: {origin}\r\n"
        s.sendall((req + "\r\n").encode())
        resp = b""
        while b"\r\n" not in resp:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            resp += chunk
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", resp)
    return int(m.group(1)) if m else None


def expect_handshake(port, origin, want, what, host=None):
    got = handshake(port, origin, host)
    check(got == want, f"{what}: Origin {origin!r} on port {port} got "
          f"{'no HTTP answer (connection closed)' if got is None else f'HTTP {got}'},"
          f" expected HTTP {want}")


def part_origins(tmp):
    # Refusals that get the wrong answer are collected, so that every
    # hub below still runs and the report lists them all.
    failures = []
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port(status_freq=FREQ)
        own_in, own_out = f"127.0.0.1:{in_port}", f"127.0.0.1:{out_port}"
        # Let through: no Origin, the hub's own origin (any scheme, as Host).
        for port, own in ((in_port, own_in), (out_port, own_out)):
            expect_handshake(port, None, 101, "no Origin")
            expect_handshake(port, f"http://{own}", 101, "the hub's own origin")
            expect_handshake(port, f"https://{own}", 101, "the hub's own origin over https")
        expect_handshake(out_port, f"http://localhost:{out_port}", 101,
                         "Origin equal to a Host naming localhost", host=f"localhost:{out_port}")
        check(rejections_metric(out_port, "origin_not_allowed") == 0,
              "allowed handshakes were counted as origin_not_allowed")
        # Refuse: foreign origins, the hub's host on another port.
        refused = [
            (out_port, "http://evil.example"),
            (in_port, "http://evil.example"),
            (out_port, f"http://127.0.0.1:{in_port}"),
            (out_port, "http://127.0.0.1"),
            (out_port, "null"),
        ]
        for port, origin in refused:
            try:
                expect_handshake(port, origin, 403, "foreign origin")
            except AssertionError as e:
                failures.append(str(e))
        n = rejections_metric(out_port, "origin_not_allowed")
        check(n == len(refused), f"origin_not_allowed counted {n}, expected {len(refused)}")
        check(hub.poll() is None, "nd-hub died")
        err = stop_hub_clean(hub)
        check("evil.example" in err, "a refused origin was not logged:\n" + err)

    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--allow-origin", "http://dash.example",
                                                    "--allow-origin", "https://ops.example:8443",
                                                    status_freq=FREQ)
        expect_handshake(out_port, "http://dash.example", 101, "--allow-origin")
        expect_handshake(in_port, "https://ops.example:8443", 101, "second --allow-origin")
        expect_handshake(out_port, f"http://127.0.0.1:{out_port}", 101,
                         "own origin beside --allow-origin")
        expect_handshake(out_port, None, 101, "no Origin beside --allow-origin")
        check(rejections_metric(out_port, "origin_not_allowed") == 0, "allowed origins counted")
        for origin in ("http://evil.example", "https://dash.example", "http://dash.example:81"):
            try:
                expect_handshake(out_port, origin, 403, "not in --allow-origin")
            except AssertionError as e:
                failures.append(str(e))
        n = rejections_metric(out_port, "origin_not_allowed")
        check(n == 3, f"origin_not_allowed counted {n}, expected 3")
        stop_hub_clean(hub)

    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--allow-origin", "*", status_freq=FREQ)
        for origin in ("http://evil.example", "null", f"http://127.0.0.1:{out_port}", None):
            expect_handshake(out_port, origin, 101, "--allow-origin '*'")
            expect_handshake(in_port, origin, 101, "--allow-origin '*'")
        check(rejections_metric(out_port, "origin_not_allowed") == 0, "'*' refused an origin")
        stop_hub_clean(hub)
    check(not failures, "\n".join(failures))


# ---- connections per address ----

async def per_address_scenario(hub, in_port, out_port):
    def conns(body):
        return (metric(body, "ndl_hub_connections", role="kitchen"),
                metric(body, "ndl_hub_connections", role="eater"),
                metric(body, "ndl_hub_connections_pending", role="kitchen"),
                metric(body, "ndl_hub_connections_pending", role="eater"))

    e1 = await hello_ws(out_port, eater_hello("e1"))
    k1 = await hello_ws(in_port, kitchen_hello("k1"))
    k2 = await hello_ws(in_port, kitchen_hello("k2"))
    await wait_metric(out_port, lambda b: conns(b) == (2, 1, 0, 0), "2 kitchens, 1 eater")

    # Fourth and fifth connections from 127.0.0.1: one of each role.
    for port, hello, what in ((out_port, eater_hello("e2"), "4th connection (an eater)"),
                              (in_port, kitchen_hello("k3"), "4th connection (a kitchen)")):
        try:
            ws = await connect(port)
        except websockets.InvalidHandshake as e:
            raise AssertionError(f"{what}: handshake refused ({e}), expected a close with 1013")
        try:
            await ws.send(json.dumps(hello))    # the hub may have closed it already
        except websockets.ConnectionClosed:
            pass
        code = await close_code_of(ws)
        check(code == 1013, f"{what}: close code {code}, expected 1013")
    body = await wait_metric(out_port, lambda b: conns(b) == (2, 1, 0, 0),
                             "the refused connections gone")
    n = metric(body, "ndl_hub_rejections_total", reason="too_many_from_address")
    check(n == 2, f"too_many_from_address counted {n}, expected 2")

    # Those already in are untouched.
    await k1.send(dumpling("AddrChef", "k1", {"i": 1}))
    got = await payloads_of(e1, 1)
    check(got == [{"i": 1}], f"e1 got {got}")

    # One leaves: there is room for one more, and for one only.
    await k2.close()
    await wait_metric(out_port, lambda b: conns(b) == (1, 1, 0, 0), "k2 gone")
    e3 = await hello_ws(out_port, eater_hello("e3"))
    p = await next_status(e3, lambda p: p["dumpling_eater_count"] == 2)
    check(p["rejections"]["too_many_from_address"] == 2, f"status rejections {p['rejections']}")
    await k1.send(dumpling("AddrChef", "k1", {"i": 2}))
    for name, ws in (("e1", e1), ("e3", e3)):
        got = await payloads_of(ws, 1)
        check(got == [{"i": 2}], f"{name} got {got}")
    ws = await connect(in_port)
    code = await close_code_of(ws)
    check(code == 1013, f"4th connection after one left and one came: close code {code}")
    check(e3.open and e1.open and k1.open, "a connection within the limit was closed")
    for ws in (e1, e3, k1):
        await ws.close()


def part_per_address(tmp):
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--max-per-address", "3", status_freq=FREQ)
        asyncio.run(per_address_scenario(hub, in_port, out_port))
        err = stop_hub_clean(hub)
        check("too_many_from_address" in err, "the refusal was not logged:\n" + err)


# ---- kitchen rate ----

RATE = 50
BLAST = 1000


async def rate_scenario(hub, in_port, out_port):
    e = await hello_ws(out_port, eater_hello("rate-eater"))
    k = await hello_ws(in_port, kitchen_hello("fast-kitchen"))
    await next_status(e, lambda p: p["dumpling_kitchen_count"] == 1)

    def k_counts(body):
        labels = f'kitchen="fast-kitchen",address="127.0.0.1:{k.local_address[1]}"'
        vals = []
        for name in ("ndl_hub_kitchen_dumplings_in_total", "ndl_hub_kitchen_rate_limited_total"):
            m = re.search("^" + name + r"\{" + re.escape(labels) + r"\} (\d+)$", body, re.M)
            vals.append(int(m.group(1)) if m else None)
        return vals

    t0 = time.monotonic()
    for i in range(BLAST):
        await k.send(dumpling("RateChef", "fast-kitchen", {"i": i}))
    t_sent = time.monotonic() - t0
    body = await wait_metric(out_port, lambda b: None not in k_counts(b)
                             and sum(k_counts(b)) == BLAST, "all of the blast counted", 30)
    t_done = time.monotonic() - t0
    n_in, n_limited = k_counts(body)
    print(f"rate {RATE}/s: sent {BLAST} in {t_sent:.2f}s, all counted within {t_done:.2f}s:"
          f" {n_in} in, {n_limited} rate-limited")
    check(n_in + n_limited == BLAST, f"in {n_in} + limited {n_limited} != {BLAST}")
    # A bucket of one second's worth, full at the start, refilled at RATE/s.
    check(n_in >= RATE, f"only {n_in} got through; the bucket holds {RATE}")
    check(n_in <= RATE + RATE * t_done + 2,
          f"{n_in} got through in {t_done:.2f}s at {RATE}/s")
    if t_done < 1.0:
        check(n_in <= 2 * RATE + 10, f"{n_in} got through in under a second")
    check(metric(body, "ndl_hub_dumplings_rate_limited_total") == n_limited,
          "ndl_hub_dumplings_rate_limited_total differs from the kitchen's")
    check(metric(body, "ndl_hub_dumplings_in_total") == n_in,
          "ndl_hub_dumplings_in_total differs from the kitchen's")

    got = [d["i"] for d in await payloads_of(e, n_in, timeout=20)]
    check(got == sorted(got) and len(set(got)) == n_in, "the eater got them out of order")
    check(got[:RATE] == list(range(RATE)), f"the first {RATE} did not all pass: {got[:RATE + 5]}")
    extra = await quiet(e, 0.5)
    check(not extra, f"the eater got {len(extra)} more than the {n_in} let in")

    p = await next_status(e)
    info = p["dumpling_kitchens"][0]["info_from_hub"]
    check(info["rate_limited"] == n_limited and info["dumplings_in"] == n_in,
          f"status kitchen info {info}, expected {n_in} in and {n_limited} rate-limited")
    check(p["total_dumplings_rate_limited"] == n_limited and p["total_dumplings_in"] == n_in,
          f"status totals: in {p['total_dumplings_in']}, rate-limited "
          f"{p['total_dumplings_rate_limited']}")

    # A second later the bucket has refilled: a burst of 30 goes through whole.
    await asyncio.sleep(1.1)
    for i in range(30):
        await k.send(dumpling("RateChef", "fast-kitchen", {"i": BLAST + i}))
    got = [d["i"] for d in await payloads_of(e, 30)]
    check(got == list(range(BLAST, BLAST + 30)), f"after the refill the eater got {got}")
    body = await wait_metric(out_port, lambda b: k_counts(b) == [n_in + 30, n_limited],
                             "the refill counted")
    await k.close()
    await e.close()


def part_rate(tmp):
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--kitchen-rate", str(RATE), status_freq=1)
        asyncio.run(rate_scenario(hub, in_port, out_port))
        stop_hub_clean(hub)


# ---- TLS ----

def openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    check(r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr.decode()}")


def make_certs(d):
    """A throwaway CA and a server certificate for IP 127.0.0.1 it signed."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=netdumplings test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("req", *ec, "-keyout", "hub.key", "-out", "hub.csr", "-subj", "/CN=127.0.0.1",
            cwd=d)
    write(os.path.join(d, "hub.ext"), "subjectAltName=IP:127.0.0.1\n"
          "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "hub.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "hub.pem", "-days", "2", "-extfile", "hub.ext", cwd=d)
    return (os.path.join(d, "ca.pem"), os.path.join(d, "hub.pem"), os.path.join(d, "hub.key"))


async def tls_scenario(hub, in_port, out_port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    e = await hello_ws(out_port, eater_hello("tls-eater"), url=f"wss://127.0.0.1:{out_port}/",
                       ssl=ctx)
    k = await hello_ws(in_port, kitchen_hello("tls-kitchen"), url=f"wss://127.0.0.1:{in_port}/",
                       ssl=ctx)
    p = await next_status(e, lambda p: p["dumpling_kitchen_count"] == 1)
    check(p["dumpling_kitchens"][0]["info_from_kitchen"]["kitchen_name"] == "tls-kitchen",
          f"status over TLS: {p['dumpling_kitchens']}")
    for i in range(20):
        await k.send(dumpling("TlsChef", "tls-kitchen", {"i": i, "pad": "x" * (i * 500)}))
    got = await payloads_of(e, 20)
    check([d["i"] for d in got] == list(range(20)), f"over TLS the eater got {got}")
    check(got[-1]["pad"] == "x" * 9500, "a dumpling changed on the way")

    # /metrics is served over TLS too.
    status, body, _ = await asyncio.get_running_loop().run_in_executor(
        None, http_get, out_port, "/metrics", ctx)
    check(status == 200 and metric(body, "ndl_hub_dumplings_in_total") == 20,
          f"https /metrics: {status}\n{body[:2000]}")

    # Plain ws:// to a TLS port: the handshake fails.
    for port in (in_port, out_port):
        try:
            ws = await asyncio.wait_for(connect(port), 10)
        except asyncio.TimeoutError:
            raise AssertionError(f"plain ws:// to TLS port {port}: no answer in 10 s")
        except (websockets.InvalidHandshake, websockets.ConnectionClosed, OSError, EOFError):
            pass
        else:
            await ws.close()
            raise AssertionError(f"plain ws:// to TLS port {port} completed its handshake")

    # A client that does not trust the CA refuses the hub's certificate.
    for port in (in_port, out_port):
        try:
            ws = await asyncio.wait_for(websockets.connect(
                f"wss://127.0.0.1:{port}/", ssl=ssl.create_default_context()), 10)
        except ssl.SSLCertVerificationError:
            pass
        else:
            await ws.close()
            raise AssertionError(f"a client without the CA accepted the hub on port {port}")

    # The good connections lived through all that.
    await k.send(dumpling("TlsChef", "tls-kitchen", {"i": 20, "pad": ""}))
    got = await payloads_of(e, 1)
    check(got[0]["i"] == 20, f"after the failed clients the eater got {got}")
    await k.close()
    await e.close()


def part_tls(tmp):
    d = os.path.join(tmp, "tls")
    os.mkdir(d)
    ca, cert, key = make_certs(d)
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--tls-cert", cert, "--tls-key", key,
                                                    status_freq=FREQ)
        check("(TLS)" in hub.read_stderr(), "the start-up line does not say TLS:\n"
              + hub.read_stderr())
        asyncio.run(tls_scenario(hub, in_port, out_port, ca))
        check(hub.poll() is None, "nd-hub died")
        stop_hub_clean(hub)

    missing = os.path.join(d, "missing.key")
    rc, _, err = run_hub_once("--tls-cert", cert, "--tls-key", missing)
    check(rc == 1, f"missing TLS key: exit {rc}, expected 1:\n{err}")
    check(missing in err and "key" in err, f"missing TLS key: unclear message:\n{err}")
    check("listening" not in err, f"missing TLS key: it listened:\n{err}")

    notpem = os.path.join(d, "notpem.crt")
    write(notpem, "this is not a PEM certificate\n")
    rc, _, err = run_hub_once("--tls-cert", notpem, "--tls-key", key)
    check(rc == 1, f"certificate not PEM: exit {rc}, expected 1:\n{err}")
    check("TLS" in err and ("certificate" in err or "PEM" in err),
          f"certificate not PEM: unclear message:\n{err}")
    check("listening" not in err, f"certificate not PEM: it listened:\n{err}")
    check(len(err.strip().splitlines()) <= 3, f"certificate not PEM: not a short message:\n{err}")

    rc, _, err = run_hub_once("--tls-cert", cert)
    check(rc in (1, 2) and "--tls-key" in err, f"--tls-cert without --tls-key: exit {rc}:\n{err}")


def part_tls_test_config(tmp):
    """--test-config says it checks the TLS files: a certificate that is not
    PEM must not pass as "configuration OK" when the hub cannot start with it."""
    d = os.path.join(tmp, "tls-tc")
    os.mkdir(d)
    _, cert, key = make_certs(d)
    rc, out, err = run_hub_once("--tls-cert", cert, "--tls-key", key, "--test-config")
    check(rc == 0 and "configuration OK" in out, f"good TLS files: exit {rc}\n{out}{err}")
    notpem = os.path.join(d, "notpem.crt")
    write(notpem, "this is not a PEM certificate\n")
    rc, out, err = run_hub_once("--tls-cert", notpem, "--tls-key", key, "--test-config")
    check(rc == 1 and "configuration OK" not in out,
          f"--test-config with a certificate that is not PEM: exit {rc}, expected 1\n"
          f"stdout:\n{out}stderr:\n{err}")
    check(notpem in err, f"--test-config does not name the bad certificate:\n{err}")


PARTS = [part_tokens, part_origins, part_per_address, part_rate, part_tls, part_tls_test_config]

if __name__ == "__main__":
    run_parts(PARTS, "security")
