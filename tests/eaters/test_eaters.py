# SPDX-License-Identifier: MIT
"""nd-print, nd-hubstatus and nd-hubdetails against a real nd-hub on
127.0.0.1, fed by a WebSocket kitchen written here with python3-websockets.

Output formats are compared with what netdumplings 0.5.1 (Python) prints,
computed here with the same Python calls it uses."""

import asyncio
import datetime
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402

try:
    import websockets  # noqa: E402
except ImportError:
    print("SKIP: python3-websockets is not installed", file=sys.stderr)
    sys.exit(77)
from eatertest import FAILURES, check, wait_exit  # noqa: E402

os.environ["TZ"] = "UTC"
time.tzset()
ENV = dict(os.environ, TZ="UTC")


# ---------------------------------------------------------------------------
# A kitchen and a probe eater, in Python


def dumpling(chef, kitchen, driver, t, payload):
    return json.dumps({"metadata": {"chef": chef, "kitchen": kitchen,
                                    "creation_time": t, "driver": driver},
                       "payload": payload})


async def _kitchen(port, name, frames):
    async with websockets.connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.send(json.dumps({"kitchen_name": name, "interface": "lo", "filter": "",
                                  "chefs": [], "poke_interval": 5.0}))
        for f in frames:
            await ws.send(f)
        await asyncio.sleep(0.3)


def kitchen(port, name, frames):
    """Connect as a kitchen, send the frames, close."""
    asyncio.run(_kitchen(port, name, frames))


async def _wait_eater(port, name, timeout):
    deadline = time.monotonic() + timeout
    async with websockets.connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.send(json.dumps({"eater_name": "test-probe"}))
        while time.monotonic() < deadline:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if msg["metadata"]["chef"] != "SystemStatusChef":
                continue
            names = [e["info_from_eater"].get("eater_name")
                     for e in msg["payload"].get("dumpling_eaters", [])]
            if name in names:
                return
    raise TimeoutError(f"eater {name} never showed up in the hub's status")


def wait_eater(port, name, timeout=10.0):
    """Wait until the hub's status lists an eater with this name, so that
    what a kitchen sends next reaches it."""
    asyncio.run(_wait_eater(port, name, timeout))


def eater(procs, prog, *args):
    return procs.start(prog, [ndltest.prog(prog)] + list(args), env=ENV)


# ---------------------------------------------------------------------------
# What netdumplings 0.5.1's nd-print prints


def py_summary(chef, kitchen, driver, t):
    when = datetime.datetime.fromtimestamp(t).isoformat()
    return "{} [{:8s}] {} from {}".format(when, driver, chef, kitchen)


def py_payload(payload):
    return json.dumps(payload, sort_keys=True, indent=4, separators=(",", ": "))


# ---------------------------------------------------------------------------


def test_default_format(procs, in_port, out_port):
    name = "fmt-eater"
    p = eater(procs, "nd-print", "-h", f"127.0.0.1:{out_port}", "-n", name,
              "-k", "kit-fmt", "--count", "3")
    wait_eater(out_port, name)
    items = [
        ("DNSLookupChef", "kit-fmt", "packet", 1795322030.1506908,
         {"lookup": {"hostname": "xn--bcher-kva.example", "when": 1795322030.15}}),
        ("PacketCountChef", "kit-fmt", "interval", 1795322031.0,
         {"packet_counts": {"UDP": 3, "IP": 7, "Ethernet": 7, "DNS": 2}}),
        ("ARPChef", "kit-fmt", "packet", 1795322032.000001,
         {"zeta": [], "alpha": {}, "nested": {"b": [1, 2.5, None, True, False], "a": "x"},
          "text": "caf\u00e9 \u65e5\u672c \U0001F95F tab\t nl\n quote\" back\\ ctl\x01 del\x7f /",
          "floats": [0.1, 1e-05, 0.0001, 1e16, 1e15, 123456789012.5, -0.0, 2.0, 1.5e-7, 1e300],
          "ints": [0, -1, 9007199254740993], "\u00e9key": 1, "Zkey": 2}),
    ]
    frames = [dumpling(*it) for it in items]
    kitchen(in_port, "kit-fmt", frames)
    rc = wait_exit(p)
    check(rc == 0, f"nd-print --count 3 exits 0 (got {rc}; stderr: {p.read_stderr()!r})")
    want = (f"Connected to nd-hub at ws://127.0.0.1:{out_port}\nWaiting for dumplings...\n\n")
    for chef, kit, driver, t, payload in items:
        want += py_summary(chef, kit, driver, t) + "\n\n" + py_payload(payload) + "\n\n"
    got = p.read_stdout()
    check(got == want, "nd-print default output matches netdumplings 0.5.1 byte for byte\n"
          f"--- want\n{want}\n--- got\n{got}")
    # Spot checks that keep the comparison honest.
    check("2026-11-22T04:33:50.150691 [packet  ] DNSLookupChef from kit-fmt\n" in got,
          "UTC isoformat with microseconds, driver padded to 8")
    check("2026-11-22T04:33:51 [interval] PacketCountChef" in got,
          "whole seconds print without microseconds")
    check("\\u00e9" in got and "\\ud83e\\udd5f" in got and "\\u007f" in got,
          "non-ASCII and DEL escaped as Python's ensure_ascii does")
    check(p.read_stderr() == "", f"nothing on stderr: {p.read_stderr()!r}")


def test_json_and_count(procs, in_port, out_port):
    name = "json-eater"
    p = eater(procs, "nd-print", "-h", f"127.0.0.1:{out_port}", "-n", name,
              "-k", "kit-json", "--json", "--count", "2")
    wait_eater(out_port, name)
    raw = [
        '{"metadata":  {"chef": "C1", "kitchen": "kit-json", "creation_time": 1.25, '
        '"driver": "packet"}, "payload": {"z": 1, "a": [1,  2], "s": "d\u00e9j\u00e0"}}',
        '{"payload": 7, "metadata": {"driver": "interval", "creation_time": 2, '
        '"kitchen": "kit-json", "chef": "C2"}}',
        '{"metadata": {"chef": "C3", "kitchen": "kit-json", "creation_time": 3, '
        '"driver": "packet"}, "payload": "after the count"}',
    ]
    kitchen(in_port, "kit-json", raw)
    rc = wait_exit(p)
    check(rc == 0, f"nd-print --json --count 2 exits 0 (got {rc})")
    p._out.flush()
    p._out.seek(0)
    got = p._out.read()
    want = (raw[0] + "\n" + raw[1] + "\n").encode("utf-8")
    check(got == want, f"--json prints the hub's bytes unchanged, one per line, and stops "
          f"after 2\n--- want\n{want!r}\n--- got\n{got!r}")


def test_filters(procs, in_port, out_port):
    name = "filter-eater"
    p = eater(procs, "nd-print", "-h", f"127.0.0.1:{out_port}", "-n", name,
              "-c", "ChefA", "-c", "ChefB", "-k", "kit-c", "-k", "kit-c2",
              "--no-interval-dumplings", "--no-payload", "--color", "--count", "3")
    wait_eater(out_port, name)
    frames = [
        dumpling("ChefA", "kit-c", "interval", 10.0, 1),      # interval: off
        dumpling("ChefC", "kit-c", "packet", 11.0, 2),         # chef not asked for
        dumpling("ChefA", "kit-other", "packet", 12.0, 3),     # kitchen not asked for
        dumpling("ChefA", "kit-c", "packet", 13.0, 4),         # printed
        dumpling("ChefB", "kit-c2", "packet", 14.5, 5),        # printed
        dumpling("ChefB", "kit-c", "packet", 15.0, 6),         # printed
        dumpling("ChefA", "kit-c", "packet", 16.0, 7),         # after --count
    ]
    kitchen(in_port, "kit-c", frames)
    rc = wait_exit(p)
    check(rc == 0, f"filtered nd-print exits 0 after --count 3 (got {rc})")
    b = "\x1b[1m{}\x1b[0m"
    want = (f"Connected to nd-hub at ws://127.0.0.1:{out_port}\nWaiting for dumplings...\n\n"
            f"1970-01-01T00:00:13 [packet  ] {b.format('ChefA')} from {b.format('kit-c')}\n"
            f"1970-01-01T00:00:14.500000 [packet  ] {b.format('ChefB')} from {b.format('kit-c2')}\n"
            f"1970-01-01T00:00:15 [packet  ] {b.format('ChefB')} from {b.format('kit-c')}\n")
    got = p.read_stdout()
    check(got == want, f"-c/-k/--no-interval-dumplings/--no-payload/--color\n--- want\n{want!r}"
          f"\n--- got\n{got!r}")

    name = "nopacket-eater"
    p = eater(procs, "nd-print", "-h", f"127.0.0.1:{out_port}", "-n", name, "-k", "kit-d",
              "--no-packet-dumplings", "--no-color", "--count", "1")
    wait_eater(out_port, name)
    kitchen(in_port, "kit-d", [dumpling("P", "kit-d", "packet", 20.0, {"n": 1}),
                               dumpling("I", "kit-d", "interval", 21.0, {"n": 2})])
    rc = wait_exit(p)
    got = p.read_stdout().split("\n\n", 1)[1]
    want = py_summary("I", "kit-d", "interval", 21.0) + "\n\n" + py_payload({"n": 2}) + "\n\n"
    check(rc == 0 and got == want, f"--no-packet-dumplings keeps only interval dumplings "
          f"(rc {rc})\n--- want\n{want!r}\n--- got\n{got!r}")


async def _eater_info(port, name, pred, timeout):
    """info_from_hub of eater `name` from the first status where pred(info)."""
    deadline = time.monotonic() + timeout
    async with websockets.connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.send(json.dumps({"eater_name": "test-probe"}))
        info = None
        while time.monotonic() < deadline:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if msg["metadata"]["chef"] != "SystemStatusChef":
                continue
            for e in msg["payload"].get("dumpling_eaters", []):
                if e["info_from_eater"].get("eater_name") == name:
                    info = e["info_from_hub"]
                    if pred(info):
                        return info
    raise TimeoutError(f"eater {name} never reached the state wanted; last {info}")


def test_subscription(procs, in_port, out_port):
    """-c and --no-interval-dumplings become a hub-side subscription: the
    hub sends nd-print only ChefA packet dumplings (not even its status)."""
    name = "sub-eater"
    p = eater(procs, "nd-print", "-h", f"127.0.0.1:{out_port}", "-n", name,
              "-c", "ChefA", "--no-interval-dumplings", "--no-payload", "--no-color")
    info = asyncio.run(_eater_info(out_port, name, lambda i: True, 10.0))
    check(info.get("subscribe") == {"chefs": ["ChefA"], "drivers": ["packet"]},
          f"nd-print's subscription in the hub's status: {info.get('subscribe')}")
    kitchen(in_port, "kit-s", [
        dumpling("ChefB", "kit-s", "packet", 30.0, 1),
        dumpling("ChefA", "kit-s", "interval", 31.0, 2),
        dumpling("ChefA", "kit-s", "packet", 32.0, 3),
        dumpling("ChefB", "kit-s", "packet", 33.0, 4),
        dumpling("ChefA", "kit-s", "packet", 34.0, 5),
    ])
    info = asyncio.run(_eater_info(out_port, name, lambda i: i["not_subscribed"] >= 3
                                   and i["sent"] >= 2 and i["queued"] == 0, 10.0))
    check(info["sent"] == 2 and info["dropped"] == 0,
          f"the hub sent nd-print -c ChefA only the two ChefA packet dumplings: {info}")
    p.signal(signal.SIGINT)
    rc = wait_exit(p)
    got = p.read_stdout().split("\n\n", 1)[1]
    want = ("1970-01-01T00:00:32 [packet  ] ChefA from kit-s\n"
            "1970-01-01T00:00:34 [packet  ] ChefA from kit-s\n")
    check(rc == 0 and got == want, f"nd-print with a subscription (rc {rc})\n--- want\n"
          f"{want!r}\n--- got\n{got!r}")


def test_subscribe_while_connected(procs, in_port, out_port):
    """ndl_eater_subscribe() after the hello sends an update: the hub then
    sends only that chef (the status, not listed, stops too)."""
    name = "late-sub"
    probe = os.path.join(ndltest.BUILD, "tests", "eaters", "sub_probe")
    p = procs.start("sub_probe", [probe, f"127.0.0.1:{out_port}", name, "ChefA", "2"],
                    env=ENV)
    info = asyncio.run(_eater_info(out_port, name, lambda i: i["subscribe"] != {}, 10.0))
    check(info["subscribe"] == {"chefs": ["ChefA"]},
          f"the subscription sent after the hello: {info['subscribe']}")
    kitchen(in_port, "kit-late", [dumpling("ChefB", "kit-late", "packet", 40.0, 1),
                                  dumpling("ChefA", "kit-late", "packet", 41.0, 2),
                                  dumpling("ChefC", "kit-late", "interval", 42.0, 3),
                                  dumpling("ChefA", "kit-late", "interval", 43.0, 4)])
    rc = wait_exit(p)
    lines = p.read_stdout().splitlines()
    # Status may arrive before the update took effect; nothing else may.
    after = [ln for ln in lines if not ln.startswith("SystemStatusChef ")]
    check(rc == 0 and after == ["ChefA kit-late", "ChefA kit-late"],
          f"eater subscribed while connected got {lines} (rc {rc}, "
          f"stderr {p.read_stderr()!r})")
    tail = lines[lines.index("ChefA kit-late"):]
    check(all(not ln.startswith("SystemStatusChef ") for ln in tail),
          f"status still sent after the update: {lines}")


def test_hubstatus(procs, in_port, out_port):
    p = eater(procs, "nd-hubstatus", "-h", f"127.0.0.1:{out_port}", "--once")
    rc = wait_exit(p)
    out = p.read_stdout()
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  uptime: (\d\d):(\d\d):(\d\d)  "
                     r"dumplings in: (\d+)  out: (\d+)  kitchens: (\d+)  eaters: (\d+)\n", out)
    check(rc == 0 and m is not None, f"nd-hubstatus --once prints one status line (rc {rc}): "
          f"{out!r} {p.read_stderr()!r}")
    if m:
        when = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
        now = datetime.datetime.now()
        check(abs((now - when).total_seconds()) < 60, f"status time is local now: {m.group(1)}")
        check(int(m.group(8)) >= 1, "the status counts nd-hubstatus itself as an eater")
        check(int(m.group(5)) >= 10, "dumplings in counts what the kitchens sent before")

    # Redrawn in place without --once; SIGINT ends it with exit 0.
    p = eater(procs, "nd-hubstatus", "-h", f"127.0.0.1:{out_port}", "-n", "redraw")
    wait_eater(out_port, "redraw")
    time.sleep(0.5)
    p.signal(signal.SIGINT)
    rc = wait_exit(p)
    out = p.read_stdout()
    check(rc == 0, f"nd-hubstatus exits 0 on SIGINT (got {rc})")
    check(out.startswith("\r") and out.count("\r") >= 2 and out.endswith("\n")
          and out.count("\n") == 1, f"status line redrawn with \\r: {out!r}")


def test_hubdetails(procs, in_port, out_port):
    p = eater(procs, "nd-hubdetails", "-h", f"127.0.0.1:{out_port}", "-n", "details-x")
    rc = wait_exit(p)
    out = p.read_stdout()
    try:
        payload = json.loads(out)
    except ValueError:
        payload = None
    check(rc == 0 and isinstance(payload, dict), f"nd-hubdetails prints one JSON payload "
          f"(rc {rc}): {out!r} {p.read_stderr()!r}")
    if isinstance(payload, dict):
        check(out == py_payload(payload) + "\n", "payload printed with sorted keys, 4 spaces")
        for key in ("total_dumplings_in", "total_dumplings_out", "server_uptime",
                    "dumpling_kitchen_count", "dumpling_eater_count", "dumpling_kitchens",
                    "dumpling_eaters"):
            check(key in payload, f"status payload has {key}")
        names = [e["info_from_eater"].get("eater_name") for e in payload.get("dumpling_eaters", [])]
        check("details-x" in names, f"the hello's eater_name reaches the hub: {names}")

    p = eater(procs, "nd-hubdetails", "-h", f"127.0.0.1:{out_port}", "--json")
    rc = wait_exit(p)
    out = p.read_stdout()
    try:
        d = json.loads(out)
    except ValueError:
        d = {}
    check(rc == 0 and d.get("metadata", {}).get("chef") == "SystemStatusChef"
          and d["metadata"].get("kitchen") is None and out.count("\n") == 1,
          f"nd-hubdetails --json prints the raw status dumpling: {out!r}")


def test_unreachable(procs):
    port = ndltest.free_port()
    for prog in ("nd-print", "nd-hubstatus", "nd-hubdetails"):
        p = eater(procs, prog, "-h", f"127.0.0.1:{port}")
        rc = wait_exit(p)
        err = p.read_stderr()
        check(rc == 1 and f"cannot connect to nd-hub at ws://127.0.0.1:{port}: " in err
              and err.count("\n") == 1,
              f"{prog}: unreachable hub -> exit 1 and one clear line (rc {rc}): {err!r}")


def test_cli(procs):
    for prog in ("nd-print", "nd-hubstatus", "nd-hubdetails"):
        p = eater(procs, prog, "--help")
        rc = wait_exit(p)
        out = p.read_stdout()
        check(rc == 0 and "-h, --hub HOST:PORT" in out and "--version" in out,
              f"{prog} --help explains -h/--hub")
        p = eater(procs, prog, "--version")
        rc = wait_exit(p)
        check(rc == 0 and re.fullmatch(prog + r" \(netdumplings-c\) \d+\.\d+\.\d+\n", p.read_stdout()),
              f"{prog} --version: {p.read_stdout()!r}")
        p = eater(procs, prog, "-h", "not a hub")
        rc = wait_exit(p)
        check(rc == 1 and "invalid hub address" in p.read_stderr(),
              f"{prog}: bad -h value is refused: {p.read_stderr()!r}")
    p = eater(procs, "nd-print", "--count", "0")
    check(wait_exit(p) == 1 and "--count" in p.read_stderr(), "--count 0 is refused")


def test_sigint_and_hub_going_away(procs):
    hub, in_port, out_port = procs.hub(status_freq=0.1)
    p = eater(procs, "nd-print", "-h", f"127.0.0.1:{out_port}", "-n", "sigint-eater")
    wait_eater(out_port, "sigint-eater")
    p.signal(signal.SIGINT)
    rc = wait_exit(p)
    check(rc == 0 and p.read_stderr() == "", f"SIGINT: exit 0 quietly (rc {rc}, "
          f"stderr {p.read_stderr()!r})")

    p = eater(procs, "nd-print", "-h", f"127.0.0.1:{out_port}", "-n", "orphan-eater")
    wait_eater(out_port, "orphan-eater")
    hub.stop()
    rc = wait_exit(p)
    err = p.read_stderr()
    check(rc == 1 and f"nd-hub at ws://127.0.0.1:{out_port} closed the connection" in err,
          f"hub going away: exit 1 with a message (rc {rc}): {err!r}")


def main():
    try:
        ndltest.prog("nd-hub")
    except FileNotFoundError:
        print("SKIP: nd-hub is not built in this build tree", file=sys.stderr)
        sys.exit(77)
    with ndltest.Procs() as procs:
        test_cli(procs)
        test_unreachable(procs)
        hub, in_port, out_port = procs.hub(status_freq=0.1)
        test_default_format(procs, in_port, out_port)
        test_json_and_count(procs, in_port, out_port)
        test_filters(procs, in_port, out_port)
        test_subscription(procs, in_port, out_port)
        test_subscribe_while_connected(procs, in_port, out_port)
        test_hubstatus(procs, in_port, out_port)
        test_hubdetails(procs, in_port, out_port)
        test_sigint_and_hub_going_away(procs)
    if FAILURES:
        ndltest.fail(f"{len(FAILURES)} check(s) failed")
    print("ok: eater programs")


main()
