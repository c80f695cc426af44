#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Backpressure: an eater that stops reading while a kitchen sends a lot.
Its queue stays bounded (new dumplings are dropped and counted for it), a
reading eater still gets everything, and the hub's memory stays bounded."""

import asyncio
import json
import os
import threading
import time

from hubutil import (RawWS, check, dumpling, eater, is_status, kitchen, ndltest,
                     next_status, stop_hub_clean)

QUEUE = 64
SIZE = 8 * 1024               # payload bytes per dumpling
BATCH = 32                    # the fast eater reads each batch before the next
TOTAL = 6144                  # 48 MiB through the hub
RSS_GROWTH_LIMIT_KIB = 24 * 1024


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, ndltest.vmrss_kib(self.pid))
            except (OSError, RuntimeError):
                return
            time.sleep(0.02)


async def scenario(in_port, out_port, hub):
    # The stuck eater: a raw socket with a small receive buffer that says
    # hello and then never reads again.
    stuck = RawWS(out_port, rcvbuf=16384)
    stuck.send_text(json.dumps({"eater_name": "stuck"}))
    fast, _ = await eater(out_port, "fast")
    k, _ = await kitchen(in_port, "firehose")
    await next_status(fast, lambda p: p["dumpling_eater_count"] == 2
                      and p["dumpling_kitchen_count"] == 1)

    baseline = ndltest.vmrss_kib(hub.pid)
    sampler = RssSampler(hub.pid)
    sampler.start()
    blob = "q" * SIZE
    got = 0
    for start in range(0, TOTAL, BATCH):
        for i in range(start, start + BATCH):
            await k.send(dumpling("FirehoseChef", "firehose", {"i": i, "blob": blob}))
        while got < start + BATCH:
            msg = await asyncio.wait_for(fast.recv(), 30)
            if is_status(msg):
                continue
            i = json.loads(msg)["payload"]["i"]
            check(i == got, f"fast eater got dumpling {i}, expected {got}")
            got += 1
    sampler.stop.set()
    sampler.join()
    check(got == TOTAL, f"fast eater got {got} of {TOTAL}")

    p = await next_status(fast, lambda p: p["total_dumplings_in"] == TOTAL)
    eaters = {e["info_from_eater"]["eater_name"]: e["info_from_hub"]
              for e in p["dumpling_eaters"]}
    s, f = eaters["stuck"], eaters["fast"]
    statuses_so_far = int(p["server_uptime"] / 0.5) + 2
    check(f["dropped"] == 0, f"fast eater dropped {f['dropped']}")
    check(s["queued"] <= QUEUE, f"stuck eater queued {s['queued']} > {QUEUE}")
    check(s["dropped"] > TOTAL // 2, f"stuck eater dropped only {s['dropped']} of {TOTAL}")
    accounted = s["sent"] + s["queued"] + s["dropped"]
    check(TOTAL <= accounted <= TOTAL + statuses_so_far,
          f"stuck eater: sent {s['sent']} + queued {s['queued']} + dropped {s['dropped']}"
          f" = {accounted}, expected {TOTAL}..{TOTAL + statuses_so_far}")
    check(p["total_dumplings_dropped"] == s["dropped"],
          f"total dropped {p['total_dumplings_dropped']} != {s['dropped']}")
    growth = sampler.peak - baseline
    print(f"backpressure: RSS baseline {baseline} KiB, peak {sampler.peak} KiB, "
          f"stuck eater dropped {s['dropped']}, sent {s['sent']}")
    check(growth < RSS_GROWTH_LIMIT_KIB,
          f"hub RSS grew by {growth} KiB while {TOTAL * SIZE // 1024} KiB went through")

    # The drop counter keeps rising while the eater stays stuck.
    for i in range(TOTAL, TOTAL + 100):
        await k.send(dumpling("FirehoseChef", "firehose", {"i": i}))
    p2 = await next_status(fast, lambda p: p["total_dumplings_in"] == TOTAL + 100)
    s2 = {e["info_from_eater"]["eater_name"]: e["info_from_hub"]
          for e in p2["dumpling_eaters"]}["stuck"]
    check(s2["dropped"] >= s["dropped"] + 100, f"drops {s['dropped']} -> {s2['dropped']}")

    stuck.close()
    await k.close()
    await fast.close()


def main():
    env = dict(os.environ)
    # A small ASan quarantine, so RSS measures the hub and not freed memory
    # the sanitizer keeps poisoned (no effect on the plain build).
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--eater-queue", str(QUEUE),
                                                    status_freq=0.5, env=env)
        asyncio.run(scenario(in_port, out_port, hub))
        err = stop_hub_clean(hub)
        check("eater 'stuck'" in err and "dropped" in err, "no disconnect log for stuck eater")
    print("backpressure: ok")


if __name__ == "__main__":
    main()
