# SPDX-License-Identifier: MIT
"""Helpers shared by the eater tests that need a kitchen of their own or
must know when an eater is listed by the hub."""

import asyncio
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402

import websockets  # noqa: E402  (the callers skip when it is missing)


def wait_exit(p, timeout=30):
    """The exit status of p, or None (and p stopped) after timeout seconds."""
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.stop()
        return None


def wait_listed(out_port, name, timeout=15.0):
    """Wait until the hub's status (read with nd-hubdetails --json) lists an
    eater with this name, so that what a kitchen sends next reaches it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run([ndltest.prog("nd-hubdetails"), "--json", "-h",
                            f"127.0.0.1:{out_port}"], capture_output=True, timeout=15)
        if r.returncode == 0:
            status = json.loads(r.stdout)["payload"]
            if any(e["info_from_eater"].get("eater_name") == name
                   for e in status.get("dumpling_eaters", [])):
                return
        time.sleep(0.05)
    raise TimeoutError(f"eater {name} never appeared in the hub's status")


def dumpling(chef, payload, t=1795327895.625414, kitchen="test-kitchen", driver="packet",
             seq=None):
    """One dumpling as a kitchen sends it."""
    md = {"chef": chef, "kitchen": kitchen, "creation_time": t, "driver": driver}
    if seq is not None:
        md["seq"] = seq
    return json.dumps({"metadata": md, "payload": payload})


async def _kitchen(port, name, chefs, frames):
    async with websockets.connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.send(json.dumps({"kitchen_name": name, "interface": "lo", "filter": "",
                                  "chefs": chefs, "poke_interval": 5.0}))
        for f in frames:
            await ws.send(f)
        await asyncio.sleep(0.3)


def kitchen(port, frames, name="test-kitchen", chefs=("NetwatchChef",)):
    """Connect to the hub's kitchen port as kitchen `name` and send frames."""
    asyncio.run(_kitchen(port, name, list(chefs), frames))
