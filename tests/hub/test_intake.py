#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Overload (docs/protocol.md section 11): while more than half of the
eaters have queues three quarters full, the hub stops reading kitchens, so
the kitchen is held back instead of the hub taking dumplings in only to
drop them. Eaters that take nothing in for half a second are taken for
stalled: the hub reads the kitchen again (dropping for them), so a stalled
eater cannot stop the kitchens; eaters that keep reading, however slowly,
are waited for. Every dumpling the kitchen sent is delivered or announced
as dropped, to each eater, in order."""

import asyncio
import json
import re
import threading
import time

from hubutil import RawWS, check, dumpling, http_get, kitchen, ndltest, stop_hub_clean

PAD = 16000
QUEUE = 50


def text(i, pad=PAD):
    return dumpling("IntakeChef", "ik", {"i": i, "pad": "z" * pad})


def metrics(port):
    """The hub's unlabelled samples, by name."""
    _, body, _ = http_get(port, "/metrics")
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(ndl_hub_[a-z_]+) (\S+)$", body, re.M)}


def read_all(ws, n, out, delay):
    """Read IntakeChef dumplings and drop notices until the last of n,
    taking delay seconds per frame (a slow eater that keeps reading)."""
    seen, dropped = [], 0
    ws.s.settimeout(30)
    while not seen or seen[-1] != n - 1:
        op, body = ws.recv_frame()
        if op == 0x8:
            break
        d = json.loads(body)
        if d["metadata"]["chef"] == "SystemDropsChef":
            dropped += d["payload"]["dropped"]
        elif d["metadata"]["chef"] == "IntakeChef":
            seen.append(d["payload"]["i"])
        if delay:
            time.sleep(delay)
    out.append((seen, dropped))


async def setup(procs):
    hub, in_port, out_port = procs.hub_any_port("--eater-queue", str(QUEUE), status_freq=3600)
    eaters = [RawWS(out_port, rcvbuf=4096) for _ in range(2)]
    for i, ws in enumerate(eaters):
        ws.send_text(json.dumps({"eater_name": f"eater{i}"}))
    k, _ = await kitchen(in_port, "ik")
    await asyncio.sleep(0.3)
    return hub, out_port, eaters, k


def check_accounted(results, n, what):
    """Each eater saw every dumpling, or was told it was dropped, in order."""
    for seen, dropped in results:
        check(seen == sorted(set(seen)), f"{what}: an eater's dumplings are out of order")
        check(len(seen) + dropped == n,
              f"{what}: {len(seen)} seen + {dropped} announced dropped != {n}")


async def teardown(hub, eaters, k):
    for ws in eaters:
        ws.close()
    await k.close()
    stop_hub_clean(hub)


async def send_all(k, n, pad=PAD):
    for i in range(n):
        await k.send(text(i, pad))


def start_readers(eaters, n, delay):
    """A thread per eater reading it up to the last of n dumplings; the
    results list gets (seen, dropped) from each."""
    results = []
    readers = [threading.Thread(target=read_all, args=(ws, n, results, delay))
               for ws in eaters]
    for t in readers:
        t.start()
    return readers, results


async def join_readers(readers, results, what):
    deadline = time.monotonic() + 60
    while any(t.is_alive() for t in readers) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    check(len(results) == len(readers), f"{what}: an eater did not get to the last dumpling")


async def outpaced():
    """Both eaters read, slower than the kitchen sends: the hub holds the
    kitchen back and nearly nothing is dropped."""
    n = 3000
    with ndltest.Procs() as procs:
        hub, out_port, eaters, k = await setup(procs)
        readers, results = start_readers(eaters, n, 0.002)
        sender = asyncio.create_task(send_all(k, n))
        await asyncio.sleep(2.0)
        m1 = metrics(out_port)
        check(m1.get("ndl_hub_intake_pauses_total", 0) >= 1,
              f"both eaters full, yet the hub never stopped reading the kitchen: {m1}")
        check(m1["ndl_hub_dumplings_in_total"] < n,
              f"the kitchen was not held back: {m1}")
        await asyncio.wait_for(sender, 120)
        await join_readers(readers, results, "outpaced")
        check_accounted(results, n, "outpaced")
        m2 = metrics(out_port)
        check(m2["ndl_hub_intake_paused"] == 0 and m2["ndl_hub_dumplings_in_total"] == n,
              f"after the eaters caught up: {m2}")
        await teardown(hub, eaters, k)
        print(f"outpaced: paused {int(m2['ndl_hub_intake_pauses_total'])} times; eaters got "
              f"{[len(s) for s, _ in results]}, dropped {[d for _, d in results]}")


async def slow():
    """Both eaters read, so slowly that draining from three quarters to half
    full takes them over a second, longer than the half second after which
    the hub looks at them: they keep taking dumplings, so they are outpaced,
    not stalled, and the hub keeps holding the kitchen back rather than
    reading it and dropping for them."""
    # large dumplings, so that the sockets' buffers hold few of them
    n, pad = 110, 200000
    with ndltest.Procs() as procs:
        hub, out_port, eaters, k = await setup(procs)
        readers, results = start_readers(eaters, n, 0.05)
        await asyncio.wait_for(send_all(k, n, pad), 60)
        await join_readers(readers, results, "slow")
        check_accounted(results, n, "slow")
        m = metrics(out_port)
        dropped = [d for _, d in results]
        check(m.get("ndl_hub_intake_pauses_total", 0) >= 1,
              f"slow eaters never filled their queues: {m}")
        check(all(d <= n // 10 for d in dropped),
              f"slow eaters were taken for stalled and dropped for: {dropped}, {m}")
        await teardown(hub, eaters, k)
        print(f"slow: paused {int(m['ndl_hub_intake_pauses_total'])} times, dropped {dropped}")


async def stalled():
    """Both eaters stop reading: after a pause the hub takes them for
    stalled and reads the kitchen anyway, dropping for them."""
    n = 1500
    with ndltest.Procs() as procs:
        hub, out_port, eaters, k = await setup(procs)
        await asyncio.wait_for(send_all(k, n), 30)
        deadline = time.monotonic() + 10
        m = metrics(out_port)
        while m["ndl_hub_dumplings_in_total"] < n and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            m = metrics(out_port)
        check(m["ndl_hub_dumplings_in_total"] == n and m["ndl_hub_dumplings_dropped_total"] > 0,
              f"stalled eaters held the kitchen back: {m}")
        results = []
        for ws in eaters:
            read_all(ws, n, results, 0)
        check_accounted(results, n, "stalled")
        await teardown(hub, eaters, k)
        print(f"stalled: paused {int(m['ndl_hub_intake_pauses_total'])} times, "
              f"dropped {int(m['ndl_hub_dumplings_dropped_total'])}")


async def main():
    await outpaced()
    await slow()
    await stalled()


asyncio.run(main())
print("ok")
