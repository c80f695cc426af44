#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Forwarding: what a kitchen sends reaches every eater byte for byte, in
order, exactly once; a client that never said hello gets nothing."""

import asyncio
import json
import time

from hubutil import (check, connect, dumpling, eater, is_status, kitchen, ndltest,
                     next_status, stop_hub_clean)


def make_dumplings():
    out = []
    for i in range(50):
        out.append(dumpling("TestChef", "k1", {"i": i}))
    # Unicode, both escaped and as raw UTF-8, and a string the hub must not touch.
    out.append(dumpling("TestChef", "k1", {"text": "snö ☃ 𝄞 日本語", "i": 50}))
    out.append(dumpling("TestChef", "k1", {"text": "snö ☃ 𝄞 日本語", "i": 51},
                        ensure_ascii=False))
    # Odd but valid spacing: forwarded as sent, never re-serialised.
    out.append('{ "metadata" : {"chef":"TestChef" ,"kitchen":"k1","creation_time":1.0,'
               '"driver":"interval"},\n "payload" : [1, 2.50, {"a": null}] , "i": 52 }')
    nested = {"i": 53}
    cur = nested
    for d in range(40):
        cur["child"] = {"depth": d, "list": [d, str(d), [d, [d]]]}
        cur = cur["child"]
    out.append(dumpling("TestChef", "k1", nested))
    # A 2 MiB dumpling (payload over netdumplings' old 1 MiB limit).
    out.append(dumpling("BigChef", "k1", {"i": 54, "blob": "ab" * (1 << 20)}))
    for i in range(55, 80):
        out.append(dumpling("TestChef", None, {"i": i}, driver="interval"))
    return out


async def drain(ws, n, timeout=60.0):
    got = []
    while len(got) < n:
        msg = await asyncio.wait_for(ws.recv(), timeout)
        if not is_status(msg):
            got.append(msg)
    return got


async def scenario(in_port, out_port):
    e1, _ = await eater(out_port, "eater-one")
    e2, _ = await eater(out_port, "eater-two")
    # A client that connects to the eater port but never says hello.
    silent = await connect(out_port, path="/some/ignored/path")
    k, _ = await kitchen(in_port, "k1")
    # Wait until the hub lists both eaters and the kitchen: from then on
    # every dumpling must reach both eaters.
    await next_status(e1, lambda p: p["dumpling_eater_count"] == 2
                      and p["dumpling_kitchen_count"] == 1)

    sent = make_dumplings()
    for d in sent[:60]:
        await k.send(d)
    # One dumpling split over three WebSocket fragments (RFC 6455 5.4).
    frag = dumpling("TestChef", "k1", {"i": "fragmented", "x": "y" * 5000})
    await k.send([frag[:10], frag[10:3000], frag[3000:]])
    sent.insert(60, frag)
    for d in sent[61:]:
        await k.send(d)

    got1 = await drain(e1, len(sent))
    got2 = await drain(e2, len(sent))
    for name, got in (("eater-one", got1), ("eater-two", got2)):
        check(len(got) == len(sent), f"{name}: {len(got)} dumplings, sent {len(sent)}")
        for i, (a, b) in enumerate(zip(got, sent)):
            check(a == b, f"{name}: dumpling {i} differs: {a[:120]!r} vs {b[:120]!r}")

    # Nothing more than the sent dumplings arrives (only statuses).
    for ws in (e1, e2):
        deadline = time.monotonic() + 1.0
        try:
            while time.monotonic() < deadline:
                msg = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
                check(is_status(msg), f"unexpected extra message {msg[:100]!r}")
        except asyncio.TimeoutError:
            pass

    # The client without a hello got nothing at all.
    try:
        msg = await asyncio.wait_for(silent.recv(), 0.5)
        raise AssertionError(f"a client without hello got {msg[:100]!r}")
    except asyncio.TimeoutError:
        pass

    p = await next_status(e1)
    check(p["total_dumplings_in"] == len(sent),
          f"total_dumplings_in {p['total_dumplings_in']} != {len(sent)}")
    kitchens = p["dumpling_kitchens"]
    check(len(kitchens) == 1 and kitchens[0]["info_from_hub"]["dumplings_in"] == len(sent),
          f"kitchen entry wrong: {kitchens}")
    eaters = {e["info_from_eater"]["eater_name"]: e["info_from_hub"]
              for e in p["dumpling_eaters"]}
    check(set(eaters) == {"eater-one", "eater-two"}, f"eaters listed: {eaters}")
    for name, info in eaters.items():
        check(info["dropped"] == 0, f"{name} dropped {info['dropped']}")
        check(info["sent"] >= len(sent), f"{name} sent {info['sent']} < {len(sent)}")
    # Deliveries: the dumplings twice, plus the statuses each eater got.
    check(p["total_dumplings_out"] >= 2 * len(sent),
          f"total_dumplings_out {p['total_dumplings_out']} < {2 * len(sent)}")
    check(p["total_dumplings_rejected"] == 0, f"rejections: {p['rejections']}")

    # A client may offer the "netdumplings" subprotocol (among others).
    sp = await connect(out_port, subprotocols=["chat", "netdumplings"])
    check(sp.subprotocol in (None, "netdumplings"), f"subprotocol {sp.subprotocol!r}")
    await sp.send(json.dumps({"eater_name": "with-subprotocol"}))
    await next_status(sp, lambda p: any(e["info_from_eater"]["eater_name"] == "with-subprotocol"
                                        for e in p["dumpling_eaters"]))
    for ws in (k, e1, e2, silent, sp):
        await ws.close()


def main():
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port(status_freq=0.3)
        asyncio.run(scenario(in_port, out_port))
        check(hub.poll() is None, "nd-hub died")
        stop_hub_clean(hub)
    print("forwarding: ok")


if __name__ == "__main__":
    main()
