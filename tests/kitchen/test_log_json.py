#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nd-sniff --log-format json: every line it writes on stderr, the
statistics at exit and errors included, is one JSON object with time,
level, program and message; the messages say what the text lines say."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

DEMO = os.path.join(os.environ["NDL_SOURCE_ROOT"], "tests", "captures", "demo.pcap")


def run(*args):
    p = subprocess.run([ndltest.prog("nd-sniff"), *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stderr


def json_lines(err, what):
    lines = err.splitlines()
    if not lines:
        ndltest.fail(f"{what}: nothing on stderr")
    out = []
    for line in lines:
        try:
            d = json.loads(line)
        except ValueError:
            ndltest.fail(f"{what}: not a JSON line: {line!r}")
        if sorted(d) != ["level", "message", "program", "time"] or d["program"] != "nd-sniff":
            ndltest.fail(f"{what}: wrong keys or program: {d}")
        if d["level"] not in ("error", "warning", "info", "debug"):
            ndltest.fail(f"{what}: level {d['level']!r}")
        if not d["time"].endswith("Z") or "T" not in d["time"]:
            ndltest.fail(f"{what}: time {d['time']!r}")
        out.append(d)
    return out


def main():
    # A replay: the statistics at exit, line for line the text ones.
    rc, text = run("-r", DEMO, "--stdout", "-c", "DNSLookupChef", "-c", "PacketCountChef")
    rc2, js = run("-r", DEMO, "--stdout", "-c", "DNSLookupChef", "-c", "PacketCountChef",
                  "--log-format", "json")
    if rc or rc2:
        ndltest.fail(f"replays exited {rc} and {rc2}:\n{text}\n{js}")
    got = [d["message"] for d in json_lines(js, "replay")]
    want = [line.removeprefix("nd-sniff: ") for line in text.splitlines()]
    if got != want:
        ndltest.fail(f"JSON messages differ from the text lines:\n{got}\n{want}")
    if not any("packets (" in m for m in got):
        ndltest.fail(f"no statistics line: {got}")

    # An error: level error, exit 1.
    rc, js = run("-r", DEMO, "--stdout", "-c", "NoSuchChef", "--log-format", "json")
    d = json_lines(js, "unknown chef")
    if rc != 1 or not any(x["level"] == "error" and "NoSuchChef" in x["message"] for x in d):
        ndltest.fail(f"unknown chef: exit {rc}, {d}")

    # A hub that is not there, verbose: warnings and debug lines stay JSON.
    rc, js = run("-r", DEMO, "-h", "127.0.0.1:1", "--no-reconnect", "-v", "-v",
                 "--log-format", "json")
    d = json_lines(js, "no hub")
    if rc == 0 or not any(x["level"] == "error" for x in d):
        ndltest.fail(f"no hub: exit {rc}, {d}")

    # A bad value is refused on the command line.
    rc, err = run("--log-format", "yaml", "-r", DEMO, "--stdout")
    if rc != 2 or "--log-format" not in err:
        ndltest.fail(f"--log-format yaml: exit {rc}: {err}")
    print("ok")


main()
