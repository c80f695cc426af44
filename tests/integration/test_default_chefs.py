#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Which chefs nd-sniff runs without -c: every chef found except the opt-in
ones (NDL_CHEF_F_OPT_IN, the per-packet firehoses), which -l marks and -c
still starts."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

OPT_IN = {"PacketLayersChef", "IPConnChef"}
DEMO = os.path.join(ndltest.SOURCE, "tests", "captures", "demo.pcap")
sniff = ndltest.prog("nd-sniff")

listing = subprocess.run([sniff, "-l"], capture_output=True, text=True, check=True).stdout
chef_lines = {line.split()[0]: line for line in listing.splitlines() if line and not line[0].isspace()}
assert OPT_IN <= set(chef_lines), chef_lines.keys()
for name, line in chef_lines.items():
    assert ("opt-in" in line) == (name in OPT_IN), line


def chefs_run(*args):
    out = subprocess.run([sniff, "--stdout", "-q", "-p", "1", "-r", DEMO, *args],
                         capture_output=True, text=True, check=True).stdout
    return {json.loads(line)["metadata"]["chef"] for line in out.splitlines()}


default = chefs_run()
assert not default & OPT_IN, default
assert {"DNSLookupChef", "ARPChef", "PacketCountChef"} <= default, default
named = chefs_run("-c", "PacketLayersChef", "-c", "IPConnChef")
assert named == OPT_IN, named
print(f"ok: default chefs {sorted(default)}; opt-in {sorted(OPT_IN)} run only when named")
