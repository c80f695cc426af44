#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Batch mode (docs/protocol.md section 10): the subprotocol is chosen only
for clients that offer it; a batch kitchen's JSON Lines reach per-message
eaters one dumpling per message and batch eaters as lines, byte for byte,
in order, filtered by subscriptions and counted once each; bad lines are
dropped and counted without losing the rest of the batch; batches written
to eaters respect --batch-bytes and never split a dumpling."""

import asyncio
import json

from hubutil import (check, connect, dumpling, is_status, kitchen, ndltest, next_status,
                     stop_hub_clean)

BATCH = "netdumplings.batch.v1"
FREQ = 0.5


def line(chef, kit, i, pad=0):
    return json.dumps({"metadata": {"chef": chef, "kitchen": kit, "creation_time": 1.5,
                                    "driver": "packet", "seq": i + 1},
                       "payload": {"i": i, "pad": "x" * pad}}, separators=(",", ":"))


async def hello(ws, **h):
    await ws.send(json.dumps(h))
    return ws


async def collect(ws, want, batch, timeout=15.0):
    """Non-status dumplings as text, until `want` of them; and the messages."""
    out, msgs = [], []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(out) < want:
        msg = await asyncio.wait_for(ws.recv(), deadline - loop.time())
        msgs.append(msg)
        if batch:
            check(msg.endswith("\n"), f"batch message does not end with LF: {msg[-80:]!r}")
            parts = msg.split("\n")[:-1]
        else:
            parts = [msg]
        out += [p for p in parts if not is_status(p)]
    return out, msgs


async def negotiation(port):
    ws = await connect(port, subprotocols=[BATCH])
    check(ws.subprotocol == BATCH, f"batch not chosen: {ws.subprotocol!r}")
    await ws.close()
    ws = await connect(port, subprotocols=["netdumplings"])
    check(ws.subprotocol == "netdumplings", f"got {ws.subprotocol!r}")
    await ws.close()
    ws = await connect(port)
    check(ws.subprotocol is None, f"a client offering nothing got {ws.subprotocol!r}")
    await ws.close()
    ws = await connect(port, subprotocols=[BATCH, "netdumplings"])
    check(ws.subprotocol == BATCH, f"first offered not chosen: {ws.subprotocol!r}")
    await ws.close()


async def routing(in_port, out_port):
    per_msg = await hello(await connect(out_port), eater_name="plain")
    batch = await hello(await connect(out_port, subprotocols=[BATCH]), eater_name="batch")
    subbed = await hello(await connect(out_port, subprotocols=[BATCH]), eater_name="sub",
                         subscribe={"chefs": ["BChef"]})
    k = await connect(in_port, subprotocols=[BATCH])
    await k.send(json.dumps({"kitchen_name": "bk"}))
    await next_status(per_msg, lambda p: p["dumpling_eater_count"] == 3
                      and p["dumpling_kitchen_count"] == 1)

    lines = [line("AChef" if i % 3 else "BChef", "bk", i) for i in range(300)]
    # 30 batches of 10 lines; one has three bad lines in the middle.
    for b in range(30):
        chunk = lines[b * 10:(b + 1) * 10]
        if b == 7:
            chunk = chunk[:5] + ['{"payload":1}', '{"metadata":[1]}',
                                 '{"metadata":{"kitchen":"bk"},"payload":{}}'] + chunk[5:]
        await k.send("".join(x + "\n" for x in chunk))
    # A message whose last line has no line feed: that line is dropped too.
    await k.send(line("AChef", "bk", 999))

    got_plain, _ = await collect(per_msg, 300, batch=False)
    check(got_plain == lines, "per-message eater did not get every line, in order, unchanged")
    got_batch, msgs = await collect(batch, 300, batch=True)
    check(got_batch == lines, "batch eater did not get every line, in order, unchanged")
    check(len(msgs) < 300, f"batch eater got {len(msgs)} messages for 300 dumplings")
    want_b = [x for x in lines if '"BChef"' in x]
    got_sub, _ = await collect(subbed, len(want_b), batch=True)
    check(got_sub == want_b, "subscribed batch eater got the wrong dumplings")

    p = await next_status(per_msg, lambda p: p["total_dumplings_in"] == 300
                          and p["rejections"]["not_a_dumpling"] == 4)
    kinfo = p["dumpling_kitchens"][0]["info_from_hub"]
    check(kinfo["dumplings_in"] == 300 and kinfo["batch"] is True, f"kitchen info {kinfo}")
    check(kinfo["bad_lines"] == 4, f"bad_lines {kinfo['bad_lines']}, want 4")
    eaters = {e["info_from_eater"]["eater_name"]: e["info_from_hub"]
              for e in p["dumpling_eaters"]}
    check(eaters["batch"]["batch"] is True and eaters["plain"]["batch"] is False,
          f"eater modes {eaters}")
    check(eaters["batch"]["sent"] >= 300 and eaters["sub"]["not_subscribed"] >= 200,
          f"eater counts {eaters}")
    for ws in (per_msg, batch, subbed, k):
        await ws.close()


async def sizes(in_port, out_port, limit):
    """A per-message kitchen's dumplings joined for a batch eater, each
    message at most `limit` bytes unless one dumpling alone is larger."""
    e = await hello(await connect(out_port, subprotocols=[BATCH]), eater_name="sizes",
                    subscribe={"chefs": ["SizeChef"]})
    k, _ = await kitchen(in_port, "sk")
    await asyncio.sleep(0.3)   # both hellos handled before the first dumpling
    texts = [dumpling("SizeChef", "sk", {"i": i, "pad": "y" * (300 if i != 50 else 3 * limit)})
             for i in range(200)]
    for t in texts:
        await k.send(t)
    # A pretty-printed dumpling is still one line.
    pretty = json.dumps({"metadata": {"chef": "SizeChef", "kitchen": "sk", "driver": "packet"},
                         "payload": {"i": 200, "s": "two\nlines"}}, indent=2)
    await k.send(pretty)
    texts.append(pretty.replace("\n", " "))
    got, msgs = await collect(e, 201, batch=True)
    check(got == texts, "joined dumplings differ from what the kitchen sent")
    check(json.loads(got[-1]) == json.loads(pretty), "the pretty dumpling changed meaning")
    big = [m for m in msgs if len(m) > limit]
    check(len(big) == 1 and big[0].count("\n") == 1,
          f"{len(big)} messages over {limit} bytes; only the one outsized dumpling may be")
    check(len(msgs) < 200, f"{len(msgs)} messages: nothing was joined")
    await e.close()
    await k.close()


async def main():
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--batch-bytes", "4K", status_freq=FREQ)
        await negotiation(in_port)
        await negotiation(out_port)
        await routing(in_port, out_port)
        await sizes(in_port, out_port, 4096)
        stop_hub_clean(hub)
    print("ok")


asyncio.run(main())
