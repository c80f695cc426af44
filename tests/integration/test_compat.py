#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Wire compatibility with netdumplings 0.5.1, with default options.

1. Our kitchen feeds a hub that behaves as 0.5.1's does (docs/protocol.md):
   a plain websockets server that reads a JSON hello with kitchen_name, then
   text messages it validates by parsing and checking metadata.chef.
2. Peers that behave as 0.5.1's kitchen and eater talk to our hub: the
   kitchen sends Python-serialised dumplings (json.dumps spacing), the eater
   sends only {"eater_name": ...} and reads every message with json.loads.
   The eater gets the kitchen's bytes unchanged, and status dumplings with
   0.5.1's fields; nd-print reads the Python-style dumplings too.
3. With no address or port options, hub and kitchen meet on
   localhost:11347 and eaters on localhost:11348 (skipped if those ports are
   taken on this machine).
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402
import websockets  # noqa: E402

DEMO = os.path.join(ndltest.SOURCE, "tests", "captures", "demo.pcap")
STATUS_FIELDS = ["total_dumplings_in", "total_dumplings_out", "server_uptime",
                 "dumpling_kitchen_count", "dumpling_eater_count",
                 "dumpling_kitchens", "dumpling_eaters"]


def validate_like_0_5_1(text):
    """What 0.5.1's hub requires of a kitchen message."""
    d = json.loads(text)
    assert isinstance(d["metadata"]["chef"], str), text
    return d


async def kitchen_to_reference_hub():
    received, hellos = [], []

    async def handler(ws, path=None):
        hello = json.loads(await ws.recv())
        assert isinstance(hello["kitchen_name"], str), hello
        hellos.append(hello)
        async for msg in ws:
            assert isinstance(msg, str), "binary frame from the kitchen"
            received.append(msg)

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            ndltest.prog("nd-sniff"), "-q", "-n", "compat_kitchen", "-h", f"127.0.0.1:{port}",
            "-r", DEMO, stderr=subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        await asyncio.sleep(0.2)

    want = subprocess.run([ndltest.prog("nd-sniff"), "--stdout", "-q", "-n", "compat_kitchen",
                           "-r", DEMO], capture_output=True, check=True).stdout.decode().splitlines()
    assert received == want, f"reference hub got {len(received)} dumplings, --stdout gave {len(want)}"
    for msg in received:
        d = validate_like_0_5_1(msg)
        meta = d["metadata"]
        # the 0.5.1 keys first, in their order; then only our extension "seq"
        assert list(meta)[:4] == ["chef", "kitchen", "creation_time", "driver"], meta
        assert list(meta)[4:] == ["seq"] and isinstance(meta["seq"], int), meta
        assert meta["kitchen"] == "compat_kitchen" and meta["driver"] in ("packet", "interval")
        assert isinstance(meta["creation_time"], float)
    hello = hellos[0]
    assert list(hello) == ["kitchen_name", "interface", "filter", "chefs", "poke_interval"], hello
    assert hello["filter"] == "tcp or udp or arp" and hello["poke_interval"] == 5.0, hello
    assert all("." in c for c in hello["chefs"]), hello
    print(f"ok: a 0.5.1-style hub accepted all {len(received)} dumplings from nd-sniff")


def python_dumpling(chef, kitchen, payload, driver="packet"):
    """A dumpling serialised as 0.5.1's kitchen does: json.dumps defaults."""
    return json.dumps({"metadata": {"chef": chef, "kitchen": kitchen,
                                    "creation_time": time.time(), "driver": driver},
                       "payload": payload})


async def reference_peers_to_our_hub(procs):
    hub, in_port, out_port = procs.hub(status_freq=1)
    printer = procs.start("nd-print", [ndltest.prog("nd-print"), "--json", "-h",
                                       f"127.0.0.1:{out_port}", "-c", "PyChef"])
    async with websockets.connect(f"ws://127.0.0.1:{out_port}") as eater:
        await eater.send(json.dumps({"eater_name": "reference_eater"}))
        # Wait until the hub lists both eaters before the kitchen speaks.
        while True:
            d = json.loads(await asyncio.wait_for(eater.recv(), 10))
            if d["metadata"]["chef"] == "SystemStatusChef" and d["payload"]["dumpling_eater_count"] == 2:
                break
        sent = [python_dumpling("PyChef", "py_kitchen", {"n": i, "text": "caf\u00e9 \u2603"})
                for i in range(50)]
        async with websockets.connect(f"ws://127.0.0.1:{in_port}") as kitchen:
            await kitchen.send(json.dumps({"kitchen_name": "py_kitchen", "interface": "eth0",
                                           "filter": "tcp or udp or arp",
                                           "chefs": ["mychefs.PyChef"], "poke_interval": 5.0}))
            for s in sent:
                await kitchen.send(s)
            got, status = [], None
            while len(got) < len(sent) or status is None or status["dumpling_kitchen_count"] != 1:
                msg = await asyncio.wait_for(eater.recv(), 10)
                assert isinstance(msg, str)
                d = json.loads(msg)
                if d["metadata"]["chef"] == "SystemStatusChef":
                    status = d["payload"]
                    meta = d["metadata"]
                    assert meta["kitchen"] is None and meta["driver"] == "interval", meta
                else:
                    got.append(msg)
        assert got == sent, "the hub changed or reordered the kitchen's bytes"
        assert list(status)[:len(STATUS_FIELDS)] == STATUS_FIELDS, list(status)
        k = status["dumpling_kitchens"][0]
        assert k["info_from_kitchen"]["kitchen_name"] == "py_kitchen"
        assert set(k["info_from_hub"]) >= {"host", "port"}, k
        assert status["total_dumplings_in"] >= len(sent), status
    deadline = time.monotonic() + 10
    while len(printer.json_lines()) < len(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert printer.read_stdout().splitlines() == sent, "nd-print --json lines differ from what was sent"
    print(f"ok: {len(sent)} Python-serialised dumplings reached a 0.5.1-style eater and nd-print unchanged")


def ports_free(*ports):
    for p in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


async def default_ports(procs):
    if not ports_free(11347, 11348):
        print("skip part 3: ports 11347/11348 are in use here")
        return
    hub = procs.start("nd-hub", [ndltest.prog("nd-hub")])
    ndltest.wait_port(11347, host="localhost", proc=hub)
    ndltest.wait_port(11348, host="localhost", proc=hub)
    printer = procs.start("nd-print", [ndltest.prog("nd-print"), "--json", "--count", "3",
                                       "--no-interval-dumplings"])
    await asyncio.sleep(0.5)
    kitchen = procs.start("nd-sniff", [ndltest.prog("nd-sniff"), "-q", "-c", "DNSLookupChef",
                                       "-r", DEMO])
    assert await asyncio.to_thread(kitchen.wait, 30) == 0, kitchen.read_stderr()
    assert await asyncio.to_thread(printer.wait, 30) == 0, printer.read_stderr()
    lines = printer.json_lines()
    assert len(lines) == 3 and all(d["metadata"]["kitchen"] == "default_kitchen" for d in lines), lines
    print("ok: default ports and names: nd-hub, nd-sniff and nd-print meet with no options")


async def main():
    await kitchen_to_reference_hub()
    with ndltest.Procs() as procs:
        await reference_peers_to_our_hub(procs)
    with ndltest.Procs() as procs:
        await default_ports(procs)


if __name__ == "__main__":
    asyncio.run(main())
