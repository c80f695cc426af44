#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end with real processes on 127.0.0.1: one nd-hub, two nd-sniff
kitchens replaying captures, two nd-print --json eaters.

Asserts that every dumpling each kitchen made (known from the same kitchen's
--stdout run on the same capture) reached each eater exactly once and byte
for byte, and that the hub's status shows both kitchens and both eaters while
they are connected and forgets them when they leave."""

import asyncio
import collections
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402
import websockets  # noqa: E402

CAPTURES = os.path.join(ndltest.SOURCE, "tests", "captures")
KITCHENS = {"kitchen_a": "demo.pcap", "kitchen_b": "demo.pcap"}  # 8 s of capture time each


def expected_dumplings(name, pcap):
    """What a kitchen named name makes from pcap, from its --stdout mode."""
    r = subprocess.run([ndltest.prog("nd-sniff"), "--stdout", "-q", "-n", name, "-p", "1",
                        "-r", os.path.join(CAPTURES, pcap)],
                       capture_output=True, timeout=60, check=True)
    lines = r.stdout.decode().splitlines()
    assert lines, f"{name}: no dumplings from {pcap}"
    return lines


class StatusWatcher:
    """An eater of our own that records the hub's status payloads."""

    def __init__(self, port):
        self.port = port
        self.statuses = []
        self.task = None

    async def run(self):
        async with websockets.connect(f"ws://127.0.0.1:{self.port}/", max_size=None) as ws:
            await ws.send(json.dumps({"eater_name": "status_watcher"}))
            async for msg in ws:
                d = json.loads(msg)
                if d["metadata"]["chef"] == "SystemStatusChef":
                    self.statuses.append((time.monotonic(), d["payload"]))

    async def wait_for(self, pred, what, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.statuses and pred(self.statuses[-1][1]):
                return self.statuses[-1][1]
            await asyncio.sleep(0.1)
        last = self.statuses[-1][1] if self.statuses else None
        raise AssertionError(f"status never showed {what}; last status: {json.dumps(last)}")


def kitchen_names(st):
    return sorted(k["info_from_kitchen"]["kitchen_name"] for k in st["dumpling_kitchens"])


def eater_names(st):
    return sorted(e["info_from_eater"]["eater_name"] for e in st["dumpling_eaters"])


async def scenario(procs):
    hub, in_port, out_port = procs.hub(status_freq=1)
    watcher = StatusWatcher(out_port)
    watcher.task = asyncio.create_task(watcher.run())

    expected = {name: expected_dumplings(name, pcap) for name, pcap in KITCHENS.items()}

    eaters = [procs.start(f"eater_{i}", [ndltest.prog("nd-print"), "--json", "-h",
                                          f"127.0.0.1:{out_port}", "-n", f"eater_{i}"])
              for i in (1, 2)]
    await watcher.wait_for(lambda st: {"eater_1", "eater_2"} <= set(eater_names(st)),
                           "both eaters")

    kitchens = [procs.start(name, [ndltest.prog("nd-sniff"), "-q", "-n", name, "-p", "1",
                                   "--realtime", "-h", f"127.0.0.1:{in_port}",
                                   "-r", os.path.join(CAPTURES, pcap)])
                for name, pcap in KITCHENS.items()]
    st = await watcher.wait_for(lambda st: kitchen_names(st) == sorted(KITCHENS),
                                "both kitchens", timeout=10)
    for k in st["dumpling_kitchens"]:
        hello = k["info_from_kitchen"]
        assert hello["poke_interval"] == 1.0, hello
        assert hello["chefs"], hello
        assert k["info_from_hub"]["host"] == "127.0.0.1", k

    for k in kitchens:
        rc = await asyncio.to_thread(k.wait, 60)
        assert rc == 0, f"{k.name} exited {rc}: {k.read_stderr()}"
    await watcher.wait_for(lambda st: st["dumpling_kitchen_count"] == 0 and not st["dumpling_kitchens"],
                           "the kitchens gone")

    # Every dumpling each kitchen made, at each eater, exactly once.
    want = collections.Counter(line for lines in expected.values() for line in lines)
    total = sum(want.values())
    deadline = time.monotonic() + 15
    for e in eaters:
        while True:
            got = [line for line in e.read_stdout().splitlines()
                   if '"SystemStatusChef"' not in line]
            if len(got) >= total or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        counted = collections.Counter(got)
        missing = want - counted
        extra = counted - want
        assert not missing and not extra, (
            f"{e.name}: {len(got)} dumplings, {sum(missing.values())} missing, "
            f"{sum(extra.values())} unexpected; first missing: {next(iter(missing), None)}; "
            f"first extra: {next(iter(extra), None)}")
        # Order per kitchen is kept.
        for name, lines in expected.items():
            mine = [line for line in got if f'"kitchen":"{name}"' in line]
            assert mine == lines, f"{e.name}: dumplings of {name} out of order"

    st = watcher.statuses[-1][1]
    assert st["total_dumplings_in"] == total, st
    for e in eaters:
        assert e.stop() == 0, f"{e.name}: {e.read_stderr()}"
    st = await watcher.wait_for(lambda st: eater_names(st) == ["status_watcher"], "the eaters gone")
    assert st["dumpling_eater_count"] == 1, st
    watcher.task.cancel()
    print(f"ok: {total} dumplings from {len(KITCHENS)} kitchens reached {len(eaters)} eaters "
          f"exactly once; status tracked arrivals and departures")


def main():
    with ndltest.Procs() as procs:
        asyncio.run(scenario(procs))
        hub = procs.procs[0]
        assert hub.stop() == 0, hub.read_stderr()
        err = hub.read_stderr()
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
            assert marker not in err, err


if __name__ == "__main__":
    main()
