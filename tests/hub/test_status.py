#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Status dumplings: netdumplings 0.5.1's envelope and payload, at the
configured frequency (the first at start-up), listing each kitchen and eater
with its hello and address, with right counts, and forgetting clients as
soon as they leave."""

import asyncio
import json
import time

from hubutil import (ORIGINAL_STATUS_KEYS, STATUS_CHEF, check, dumpling, eater, is_status,
                     kitchen, ndltest, next_status, stop_hub_clean)

FREQ = 1.0


async def collect_statuses(ws, seconds):
    """[(arrival monotonic, creation_time, document)] for seconds."""
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
        if is_status(msg):
            doc = json.loads(msg)
            out.append((time.monotonic(), doc["metadata"]["creation_time"], doc))


def check_envelope(doc):
    md = doc["metadata"]
    check(list(doc.keys()) == ["metadata", "payload"], f"envelope keys {list(doc)}")
    check(md["chef"] == STATUS_CHEF, f"chef {md['chef']}")
    check(md["kitchen"] is None, f"kitchen {md['kitchen']!r}")
    check(md["driver"] == "interval", f"driver {md['driver']!r}")
    check(isinstance(md["creation_time"], float), "creation_time is not a float")
    check(abs(md["creation_time"] - time.time()) < 5, f"creation_time {md['creation_time']}")
    p = doc["payload"]
    check(list(p.keys())[:len(ORIGINAL_STATUS_KEYS)] == ORIGINAL_STATUS_KEYS,
          f"payload keys start {list(p.keys())}")
    for k in ("total_dumplings_rejected", "total_dumplings_dropped", "rejections"):
        check(k in p, f"payload lacks {k}")
    check(isinstance(p["server_uptime"], float), "server_uptime is not a float")
    check(p["dumpling_kitchen_count"] == len(p["dumpling_kitchens"]), "kitchen count mismatch")
    check(p["dumpling_eater_count"] == len(p["dumpling_eaters"]), "eater count mismatch")
    check(p["total_dumplings_rejected"] == sum(p["rejections"].values()), "rejections sum")
    return p


async def scenario(in_port, out_port):
    watcher, w_hello = await eater(out_port, "watcher")
    stats = await collect_statuses(watcher, 3.6)
    check(3 <= len(stats) <= 5, f"{len(stats)} status dumplings in 3.6 s at -f {FREQ}")
    for a, b in zip(stats, stats[1:]):
        gap = b[0] - a[0]
        check(0.6 * FREQ < gap < 1.6 * FREQ, f"status gap {gap:.2f} s at -f {FREQ}")
        ct_gap = b[1] - a[1]
        check(0.8 * FREQ < ct_gap < 1.2 * FREQ, f"creation_time gap {ct_gap:.3f}")
    uptimes = []
    for _, _, doc in stats:
        p = check_envelope(doc)
        uptimes.append(p["server_uptime"])
        # The first status goes out at start-up, so they come at whole periods.
        frac = (p["server_uptime"] / FREQ) % 1.0
        check(frac < 0.25 or frac > 0.95, f"uptime {p['server_uptime']} off the period grid")
    check(uptimes == sorted(uptimes), f"uptime not increasing: {uptimes}")
    p = stats[-1][2]["payload"]
    check(p["dumpling_kitchen_count"] == 0 and p["dumpling_eater_count"] == 1,
          f"counts {p['dumpling_kitchen_count']} {p['dumpling_eater_count']}")
    entry = p["dumpling_eaters"][0]
    check(list(entry.keys()) == ["info_from_eater", "info_from_hub"], f"eater entry {entry}")
    check(entry["info_from_eater"] == w_hello, f"eater hello {entry['info_from_eater']}")
    hub_info = entry["info_from_hub"]
    check(hub_info["host"] == "127.0.0.1", f"host {hub_info['host']}")
    check(hub_info["port"] == watcher.local_address[1],
          f"port {hub_info['port']} != {watcher.local_address[1]}")
    check(list(hub_info.keys())[:2] == ["host", "port"], f"info_from_hub keys {list(hub_info)}")

    # A kitchen (with extra hello fields, kept verbatim) and a second eater.
    k, k_hello = await kitchen(in_port, "status-kitchen", extra={"nested": [1, {"a": "ö"}]})
    e2, e2_hello = await eater(out_port, "second")
    for i in range(7):
        await k.send(dumpling("CountChef", "status-kitchen", {"i": i}))
    p = await next_status(watcher, lambda p: p["total_dumplings_in"] == 7
                          and p["dumpling_eater_count"] == 2, timeout=5 * FREQ)
    check_envelope({"metadata": {"chef": STATUS_CHEF, "kitchen": None, "driver": "interval",
                                 "creation_time": time.time()}, "payload": p})
    check(p["dumpling_kitchen_count"] == 1, f"kitchens {p['dumpling_kitchens']}")
    ke = p["dumpling_kitchens"][0]
    check(list(ke.keys()) == ["info_from_kitchen", "info_from_hub"], f"kitchen entry {ke}")
    check(ke["info_from_kitchen"] == k_hello, f"kitchen hello {ke['info_from_kitchen']}")
    check(ke["info_from_hub"]["host"] == "127.0.0.1", "kitchen host")
    check(ke["info_from_hub"]["port"] == k.local_address[1], "kitchen port")
    check(ke["info_from_hub"]["dumplings_in"] == 7, f"dumplings_in {ke['info_from_hub']}")
    names = [e["info_from_eater"]["eater_name"] for e in p["dumpling_eaters"]]
    check(names == ["watcher", "second"], f"eaters in hello order: {names}")
    by_name = {e["info_from_eater"]["eater_name"]: e for e in p["dumpling_eaters"]}
    check(by_name["second"]["info_from_eater"] == e2_hello, "second eater hello")
    for e in p["dumpling_eaters"]:
        info = e["info_from_hub"]
        for key in ("queued", "dropped", "sent"):
            check(isinstance(info.get(key), int), f"eater info lacks {key}: {info}")
    # Every dumpling went to both eaters; statuses count as deliveries too,
    # as in netdumplings, so out is the sum of what each eater was sent
    # (this status itself is not counted yet).
    sent_sum = sum(e["info_from_hub"]["sent"] for e in p["dumpling_eaters"])
    check(p["total_dumplings_out"] == sent_sum,
          f"total_dumplings_out {p['total_dumplings_out']} != sum of sent {sent_sum}")
    check(by_name["second"]["info_from_hub"]["sent"] >= 7, "second eater sent count")
    check(p["total_dumplings_out"] >= 14, f"total_dumplings_out {p['total_dumplings_out']}")
    check(p["total_dumplings_rejected"] == 0 and p["total_dumplings_dropped"] == 0,
          "nothing rejected or dropped")

    # The kitchen and the second eater leave: the next status forgets both.
    await k.close()
    await e2.close()
    p = await next_status(watcher, lambda p: p["dumpling_kitchen_count"] == 0
                          and p["dumpling_eater_count"] == 1, timeout=5 * FREQ)
    check(p["dumpling_kitchens"] == [], f"ghost kitchens {p['dumpling_kitchens']}")
    check([e["info_from_eater"]["eater_name"] for e in p["dumpling_eaters"]] == ["watcher"],
          f"ghost eaters {p['dumpling_eaters']}")
    check(p["total_dumplings_in"] == 7, "total_dumplings_in kept after the kitchen left")
    check(p["rejections"]["closed_before_hello"] == 0, "clean clients are not rejections")
    await watcher.close()


def main():
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port(status_freq=FREQ)
        asyncio.run(scenario(in_port, out_port))
        err = stop_hub_clean(hub)
        for needle in ("kitchen 'status-kitchen' from 127.0.0.1:", "eater 'second' from",
                       "disconnected (code 1000)"):
            check(needle in err, f"log lacks {needle!r}:\n{err}")
    print("status: ok")


if __name__ == "__main__":
    main()
