#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lagging eaters (docs/protocol.md section 11). An eater that stops
reading fills its queue in the hub. Under --lag-policy drop-oldest (the
default) the hub drops its oldest dumplings and, right where they are
missing from its stream, sends it a SystemDropsChef notice saying how many:
the eater can account for every dumpling the kitchen sent. Under
--lag-policy disconnect it is closed with 4103. Either way a fast eater
beside it gets everything."""

import asyncio
import json
import socket

from hubutil import RawWS, check, eater, kitchen, ndltest, stop_hub_clean

N = 3000
PAD = 4000
QUEUE = 400


def text(i):
    return json.dumps({"metadata": {"chef": "LagChef", "kitchen": "lk", "creation_time": 1.0,
                                    "driver": "packet"},
                       "payload": {"i": i, "pad": "z" * PAD}})


async def run(policy):
    with ndltest.Procs() as procs:
        # One status dumpling, at start-up: none can be lost in the middle.
        hub, in_port, out_port = procs.hub_any_port(
            "--eater-queue", str(QUEUE), "--lag-policy", policy, status_freq=3600)
        slow = RawWS(out_port, rcvbuf=4096)
        slow.send_text(json.dumps({"eater_name": "paused"}))
        fast, _ = await eater(out_port, "fast")
        k, _ = await kitchen(in_port, "lk")
        await asyncio.sleep(0.3)

        async def fast_reader():
            got = []
            while len(got) < N:
                d = json.loads(await asyncio.wait_for(fast.recv(), 60))
                if d["metadata"]["chef"] == "LagChef":
                    got.append(d["payload"]["i"])
            return got

        reader = asyncio.create_task(fast_reader())
        # Paced (about 4,000/s) so that the fast eater keeps up with a
        # queue of QUEUE; the paused one cannot.
        for i in range(N):
            await k.send(text(i))
            if i % 20 == 19:
                await asyncio.sleep(0.005)
        got = await reader
        check(got == list(range(N)), "the fast eater missed or reordered dumplings")

        # Now the paused eater reads what the hub kept for it.
        seen, notices, code = [], [], None
        slow.s.settimeout(10 if policy == "drop-oldest" else 15)
        try:
            while not seen or seen[-1] != N - 1:
                op, body = slow.recv_frame()
                if op == 0x8:
                    code = int.from_bytes(body[:2], "big") if len(body) >= 2 else None
                    break
                d = json.loads(body)
                chef = d["metadata"]["chef"]
                if chef == "SystemDropsChef":
                    notices.append((len(seen), d["payload"]))
                elif chef == "LagChef":
                    seen.append(d["payload"]["i"])
        except (ConnectionError, socket.timeout, OSError):
            pass
        slow.close()
        return hub, fast, k, seen, notices, code


async def drop_oldest():
    hub, fast, k, seen, notices, _ = await run("drop-oldest")
    check(notices, "no drop notice reached the paused eater")
    check(seen and seen[-1] == N - 1, "the newest dumpling did not reach the paused eater")
    check(seen == sorted(set(seen)), "the paused eater's dumplings are out of order")
    # Every gap in the stream is announced, exactly, right where it is.
    total, prev, at = 0, -1, dict()
    for pos, p in notices:
        at[pos] = at.get(pos, 0) + p["dropped"]
        total += p["dropped"]
        check(p["total_dropped"] == total and p["policy"] == "drop-oldest",
              f"notice {p} after {total} dropped")
    for pos, i in enumerate(seen):
        check(i - prev - 1 == at.get(pos, 0),
              f"gap of {i - prev - 1} before dumpling {i}, notices say {at.get(pos, 0)}")
        prev = i
    check(len(seen) + total == N, f"{len(seen)} seen + {total} dropped != {N}")
    await fast.close()
    await k.close()
    stop_hub_clean(hub)
    print(f"drop-oldest: paused eater got {len(seen)}, {len(notices)} notices for {total} drops")


async def disconnect():
    hub, fast, k, seen, notices, code = await run("disconnect")
    check(not notices, "a drop notice under --lag-policy disconnect")
    check(seen == list(range(len(seen))), "the paused eater's stream has a hole before the end")
    check(len(seen) < N, "the paused eater got everything: it was never too slow")
    check(code in (4103, None), f"closed with {code}, want 4103")
    await fast.close()
    await k.close()
    err = stop_hub_clean(hub)
    check("eater_too_slow" in err, "the hub did not log the slow eater:\n" + err[-2000:])
    print(f"disconnect: paused eater got {len(seen)} then close code {code}")


async def main():
    await drop_oldest()
    await disconnect()
    print("ok")


asyncio.run(main())
