# SPDX-License-Identifier: MIT
"""What the eater tests share: checks that collect failures, waiting
for a program's exit or for the hub to list an eater, and a kitchen of the
test's own. Importing it skips the test (exit 77) without
python3-websockets."""

import asyncio
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402

try:
    import websockets  # noqa: E402
except ImportError:
    print("SKIP: python3-websockets is not installed", file=sys.stderr)
    sys.exit(77)

FAILURES = []


def check(cond, what):
    """Note what failed (and say it) unless cond; returns cond."""
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def wait_exit(p, timeout=20):
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
