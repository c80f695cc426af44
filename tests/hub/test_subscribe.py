#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Server-side subscriptions: an eater's hello may say which chefs, kitchens
and drivers it wants and the hub sends it only those (status dumplings
included); an old-style eater still gets everything; a subscription can be
replaced while connected; bad shapes close the hello with 1008 and are
counted (and kept out, with the connection open) later on; status shows
each subscription and counts what was not sent apart from drops."""

import asyncio
import json

import websockets

from hubutil import (STATUS_CHEF, check, close_code_of, connect, dumpling, eater, is_status,
                     kitchen, ndltest, next_status, stop_hub_clean)

FREQ = 0.5
CHEFS = ["AChef", "BChef", "CChef"]
KITCHENS = ["k1", "k2"]
DRIVERS = ["packet", "interval"]


def matches(sub, chef, kit, drv):
    return ((not sub.get("chefs") or chef in sub["chefs"])
            and (not sub.get("kitchens") or kit in sub["kitchens"])
            and (not sub.get("drivers") or drv in sub["drivers"]))


async def sub_eater(port, name, sub):
    hello = {"eater_name": name}
    if sub is not None:
        hello["subscribe"] = sub
    ws = await connect(port)
    await ws.send(json.dumps(hello))
    return ws


async def drain(ws, idle=1.0):
    """(non-status dumplings as (chef, kitchen, driver, i), status count)
    read until the eater has been idle for `idle` seconds of non-status."""
    got, statuses = [], 0
    loop = asyncio.get_running_loop()
    last = loop.time()
    while loop.time() - last < idle:
        try:
            msg = await asyncio.wait_for(ws.recv(), idle)
        except asyncio.TimeoutError:
            break
        if is_status(msg):
            statuses += 1
            continue
        d = json.loads(msg)
        md = d["metadata"]
        got.append((md["chef"], md["kitchen"], md["driver"], d["payload"]["i"]))
        last = loop.time()
    return got, statuses


async def send_round(kitchens, base):
    """Every chef x kitchen x driver once; returns what was sent."""
    sent = []
    i = base
    for kit in KITCHENS:
        for chef in CHEFS:
            for drv in DRIVERS:
                await kitchens[kit].send(dumpling(chef, kit, {"i": i}, driver=drv))
                sent.append((chef, kit, drv, i))
                i += 1
    return sent


def eater_info(p, name):
    for e in p["dumpling_eaters"]:
        if e["info_from_eater"]["eater_name"] == name:
            return e["info_from_hub"]
    raise AssertionError(f"eater {name} not in status: {p['dumpling_eaters']}")


async def bad_hellos(out_port):
    bad = [
        "all",
        {"chefs": "AChef"},
        {"chefs": [1]},
        {"chefs": ["AChef"], "colour": ["red"]},
        {"kitchens": [None]},
        {"drivers": ["bogus"]},
        {"chefs": [f"c{i}" for i in range(257)]},
        {"kitchens": ["k" * 257]},
    ]
    for sub in bad:
        ws = await sub_eater(out_port, "bad-sub", sub)
        code = await close_code_of(ws)
        check(code == 1008, f"hello with subscribe {str(sub)[:60]}: close code {code}")
    # The limits themselves are fine.
    ws = await sub_eater(out_port, "big-sub", {"chefs": ["x" * 256] + [f"c{i}" for i in range(255)]})
    try:
        await asyncio.wait_for(ws.recv(), 1.5)   # the hub does not close it
        check(False, "big-sub got a dumpling")
    except asyncio.TimeoutError:
        pass
    check(ws.open, "a subscription at the limits was refused")
    await ws.close()
    return len(bad)


async def scenario(in_port, out_port):
    watcher = await sub_eater(out_port, "watcher", None)          # old style
    subs = {
        "empty": {},
        "empty-lists": {"chefs": [], "kitchens": [], "drivers": []},
        "chefs": {"chefs": ["AChef", STATUS_CHEF]},
        "kitchens": {"kitchens": ["k2"]},
        "drivers": {"drivers": ["interval"]},
        "combo": {"chefs": ["BChef", "AChef"], "kitchens": ["k1"], "drivers": ["packet"]},
        "status-only": {"chefs": [STATUS_CHEF]},
        "changer": {"chefs": ["AChef"]},
    }
    eaters = {name: await sub_eater(out_port, name, sub) for name, sub in subs.items()}
    ks = {}
    for kit in KITCHENS:
        ks[kit], _ = await kitchen(in_port, kit)
    p = await next_status(watcher, lambda p: p["dumpling_eater_count"] == len(subs) + 1
                          and p["dumpling_kitchen_count"] == 2)
    for name, sub in subs.items():
        check(eater_info(p, name)["subscribe"] == sub,
              f"{name}: status subscribe {eater_info(p, name)['subscribe']} != {sub}")
    check(eater_info(p, "watcher")["subscribe"] == {}, "old-style eater shows no subscription")

    round1 = await send_round(ks, 0)
    got = {}
    for name, ws in [("watcher", watcher)] + list(eaters.items()):
        got[name] = await drain(ws)
    check(got["watcher"][0] == round1, f"old-style eater got {len(got['watcher'][0])} of "
          f"{len(round1)}")
    check(got["watcher"][1] >= 1, "old-style eater got no status")
    for name, sub in subs.items():
        want = [d for d in round1 if matches(sub, *d[:3])]
        check(got[name][0] == want, f"{name} {sub}: got {got[name][0]}, want {want}")
        wants_status = matches(sub, STATUS_CHEF, None, "interval") and not sub.get("kitchens")
        check((got[name][1] > 0) == wants_status,
              f"{name}: {got[name][1]} status dumplings, wanted some: {wants_status}")
    check(len(got["combo"][0]) == 2 and len(got["kitchens"][0]) == 6, "matching too wide")

    # Status: the not-sent counts, apart from drops.
    p = await next_status(eaters["status-only"])
    check(eater_info(p, "status-only")["not_subscribed"] == len(round1),
          f"status-only not_subscribed {eater_info(p, 'status-only')}")
    check(eater_info(p, "chefs")["not_subscribed"] ==
          len([d for d in round1 if d[0] != "AChef"]), f"chefs {eater_info(p, 'chefs')}")
    check(eater_info(p, "watcher")["not_subscribed"] == 0, "watcher not_subscribed")
    check(p["total_dumplings_not_subscribed"] ==
          sum(e["info_from_hub"]["not_subscribed"] for e in p["dumpling_eaters"]),
          "total_dumplings_not_subscribed is not the sum over eaters")
    check(p["total_dumplings_dropped"] == 0, f"dropped {p['total_dumplings_dropped']}")
    check(p["total_dumplings_not_subscribed"] > 0, "nothing counted as not subscribed")

    # Change while connected; chatter and a bad update leave it in place.
    ch = eaters["changer"]
    await ch.send(json.dumps({"subscribe": {"chefs": ["BChef"], "drivers": ["interval"]}}))
    await ch.send("hello? anyone?")
    await ch.send(json.dumps({"not-subscribe": 1}))
    await ch.send(json.dumps({"subscribe": {"chefs": [7]}}))
    await ch.send(json.dumps({"subscribe": "everything"}))
    p = await next_status(watcher, lambda p: p["rejections"]["bad_subscription"] == 2)
    check(eater_info(p, "changer")["subscribe"] == {"chefs": ["BChef"], "drivers": ["interval"]},
          f"changer subscribe {eater_info(p, 'changer')['subscribe']}")
    check(p["rejections"]["eater_frame_ignored"] == 2,
          f"eater_frame_ignored {p['rejections']['eater_frame_ignored']}")
    check(ch.open, "a bad update closed the connection")
    round2 = await send_round(ks, 100)
    got2, _ = await drain(ch)
    want = [d for d in round2 if d[0] == "BChef" and d[2] == "interval"]
    check(got2 == want, f"changer after update got {got2}, want {want}")
    # Back to everything with an empty subscription.
    await ch.send(json.dumps({"subscribe": {}}))
    p = await next_status(watcher, lambda p: eater_info(p, "changer")["subscribe"] == {})
    round3 = await send_round(ks, 200)
    got3, _ = await drain(ch)
    check(got3 == round3, f"changer after reset got {len(got3)} of {len(round3)}")
    wgot, _ = await drain(watcher)   # next_status above skipped round2 on it
    check(wgot == round3, "old-style eater missed dumplings after the changes")

    nbad = await bad_hellos(out_port)
    p = await next_status(watcher, lambda p: p["rejections"]["bad_subscription"] == 2 + nbad
                          and p["dumpling_eater_count"] == len(subs) + 1)
    names = sorted(e["info_from_eater"]["eater_name"] for e in p["dumpling_eaters"])
    check(names == sorted(list(subs) + ["watcher"]), f"eaters after bad hellos: {names}")

    # Together: an eater with unread dumplings waits out its close timeout.
    await asyncio.gather(*(ws.close() for ws in
                           list(eaters.values()) + list(ks.values()) + [watcher]))


def main():
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port(status_freq=FREQ)
        asyncio.run(scenario(in_port, out_port))
        stop_hub_clean(hub)
    print("subscribe: ok")


if __name__ == "__main__":
    main()
