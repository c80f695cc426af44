# SPDX-License-Identifier: MIT
"""Smoke test of the fan-out benchmark's load programs against nd-hub:
two kitchens send 4000 numbered dumplings each, paced over about two
seconds, to ten eaters. Every eater must get every dumpling, in order,
none lost; the hub's CPU time must be readable; the hub must exit 0.
The batch-mode run is skipped (and says so) while the hub does not offer
netdumplings.batch.v1.

usage: smoke.py ND_HUB ND_BENCH_KITCHEN ND_BENCH_EATERS"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

EATERS = 10
KITCHENS = 2
COUNT = 4000
RATE = 4000      # in all: two seconds


def check(cond, what, res):
    if not cond:
        print(f"FAIL: {what}\nresult: {res}", file=sys.stderr)
        sys.exit(1)


def one_run(nd_hub, kitchen, eaters, batch):
    hub, pin, pout = benchlib.start_hub("ours", nd_hub=nd_hub, extra=["-f", "1"])
    try:
        res, kres = benchlib.run_load(hub, pin, pout, kitchen, eaters, n_eaters=EATERS,
                                      kitchens=KITCHENS, batch=batch, rate=RATE,
                                      count=COUNT, warmup=0, duration=60, expect=COUNT,
                                      timeout=40, idle=3)
    finally:
        status = hub.stop(timeout=15)
        hub_err = hub.stderr_text()
        hub.close()
    mode = "batch" if batch else "per-message"
    print(f"{mode}: {res['received_total']} received, {res['deliveries']} in the window, "
          f"{res['rate']:.0f}/s, p50 {res['lat_p50_us']:.0f} us, p99 "
          f"{res['lat_p99_us']:.0f} us, hub CPU {res['hub_cpu_s']:.2f} s")
    check(status == 0, f"nd-hub exited with {status}:\n{hub_err}", res)
    check(res["eaters_status"] == 0, "nd-bench-eaters failed:\n" + res["eaters_stderr"], res)
    check(res["kitchen_status"] == 0, "nd-bench-kitchen failed:\n" + res["kitchen_stderr"],
          res)
    check(kres is not None and kres["generated"] == KITCHENS * COUNT,
          f"the kitchens sent {kres and kres['generated']}, not {KITCHENS * COUNT}", res)
    check(res["complete"] == EATERS, "not every eater got every dumpling", res)
    check(res["received_total"] == EATERS * KITCHENS * COUNT,
          f"{res['received_total']} dumplings received, not {EATERS * KITCHENS * COUNT}", res)
    check(res["lost"] == 0, f"{res['lost']} dumplings lost", res)
    check(res["out_of_order"] == 0, f"{res['out_of_order']} dumplings out of order", res)
    check(res["deliveries"] > 0, "no delivery inside the measurement window", res)
    check(res["malformed"] == 0, "batch messages without a final line feed", res)
    check(res["other"] >= EATERS, "the status dumplings did not reach every eater", res)
    check(res["hub_cpu_s"] >= 0, "the hub's CPU time could not be read", res)
    check(res["gone"] == 0, "an eater's connection closed during the run", res)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    nd_hub, kitchen, eaters = sys.argv[1:]
    one_run(nd_hub, kitchen, eaters, batch=False)
    try:
        one_run(nd_hub, kitchen, eaters, batch=True)
    except benchlib.NoBatch as e:
        print(f"batch: skipped, the hub does not offer netdumplings.batch.v1 ({e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
