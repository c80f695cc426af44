# SPDX-License-Identifier: MIT
"""nd-print --format summary against a real nd-hub on 127.0.0.1.

Golden cases: a real nd-sniff replays tests/captures/demo.pcap and
tls-lo.pcap into the hub with the built-in chefs named in each case, and
what `nd-print --format summary --utc` prints is compared line for line
with tests/eaters/golden/print-summary-<case>.txt (nothing is normalised:
the times are the captures', in UTC). Run with --regen to rewrite those
files from what nd-print prints now, then read the diff.

Hostile names: a kitchen written here sends NetwatchChef-shaped dumplings
whose names hold ESC sequences, line feeds and bidirectional overrides; the
summary must show them escaped, one line per dumpling, with no control
character at all in the output. Also: colour only when asked, NO_COLOR,
the generic formatter's truncation, --format errors, --json as an alias."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402

import eatertest  # noqa: E402  (skips without python3-websockets)
from eatertest import FAILURES, check, wait_exit, wait_listed  # noqa: E402

GOLDEN = os.path.join(ndltest.SOURCE, "tests", "eaters", "golden")
CAPTURES = os.path.join(ndltest.SOURCE, "tests", "captures")
REGEN = "--regen" in sys.argv
ENV = dict(os.environ)
ENV.pop("NO_COLOR", None)

# case -> (capture, chefs)
CASES = {
    "demo": ("demo.pcap", ["NetwatchChef", "HTTPRequestChef", "DNSLookupChef", "ARPChef",
                           "FlowChef", "PacketCountChef"]),
    "tls-lo": ("tls-lo.pcap", ["TLSClientHelloChef", "NetwatchChef", "FlowChef",
                               "PacketCountChef"]),
}

def printer(procs, out_port, name, chefs, *args, env=None, wait=True):
    """nd-print with these chefs and options; once the hub lists it (wait)."""
    argv = [ndltest.prog("nd-print"), "-h", f"127.0.0.1:{out_port}", "-n", name]
    for c in chefs:
        argv += ["-c", c]
    p = procs.start(name, argv + list(args), env=env or ENV)
    if wait:
        wait_listed(out_port, name)
    return p


def sniff_count(capture, chefs):
    """How many dumplings nd-sniff makes from capture for chefs."""
    argv = [ndltest.prog("nd-sniff"), "-q", "--stdout", "-r", os.path.join(CAPTURES, capture)]
    for c in chefs:
        argv += ["-c", c]
    r = subprocess.run(argv, capture_output=True, timeout=60, check=True)
    return len(r.stdout.decode().splitlines())


def replay(procs, in_port, capture, chefs):
    argv = [ndltest.prog("nd-sniff"), "-q", "-r", os.path.join(CAPTURES, capture),
            "-h", f"127.0.0.1:{in_port}"]
    for c in chefs:
        argv += ["-c", c]
    k = procs.start("nd-sniff", argv)
    rc = k.wait(60)
    assert rc == 0, f"nd-sniff exited {rc}: {k.read_stderr()}"


def test_golden(procs, in_port, out_port, case):
    capture, chefs = CASES[case]
    n = sniff_count(capture, chefs)
    name = f"summary-{case}"
    p = printer(procs, out_port, name, chefs, "--format", "summary", "--utc",
                "--count", str(n))
    replay(procs, in_port, capture, chefs)
    rc = wait_exit(p)
    out = p.read_stdout()
    path = os.path.join(GOLDEN, f"print-summary-{case}.txt")
    if REGEN:
        with open(path, "w") as f:
            f.write(out)
        print(f"wrote {path} ({out.count(chr(10))} lines)")
        return
    with open(path) as f:
        want = f.read()
    check(rc == 0 and p.read_stderr() == "",
          f"{case}: nd-print exits 0 quietly after {n} lines (rc {rc}): {p.read_stderr()!r}")
    got_lines, want_lines = out.splitlines(), want.splitlines()
    check(len(got_lines) == n, f"{case}: one line per dumpling ({len(got_lines)} for {n})")
    for i, (g, w) in enumerate(zip(got_lines, want_lines)):
        if not check(g == w, f"{case} line {i + 1}:\n  got  {g!r}\n  want {w!r}"):
            break
    check(out == want, f"{case}: the summary is the golden file's, line for line")


# ---------------------------------------------------------------------------
# Dumplings from a kitchen of our own

HOSTILE_NAME = "evil\x1b[2J\x1b[H.example\nFAKE 1999-01-01 00:00:00 - ok\r\x07\u202egnp.exe\x9b31m"


def dumpling(chef, payload, t=1795327895.625414):
    return eatertest.dumpling(chef, payload, t=t, kitchen="hostile-kitchen")


def kitchen(port, frames):
    eatertest.kitchen(port, frames, name="hostile-kitchen")


def netwatch(src_name, dst_name, proto="TCP"):
    return {"time": 1795327895.625414, "proto": proto,
            "src": {"ip": "10.0.0.9", "port": 39676, "name": src_name, "tag": "internal"},
            "dst": {"ip": "93.184.216.34", "port": 443, "name": dst_name, "tag": "external"},
            "direction": "outbound", "summary": "TCP " + str(dst_name)}


def test_hostile(procs, in_port, out_port):
    frames = [
        dumpling("NetwatchChef", netwatch(HOSTILE_NAME, "example.com")),
        dumpling("NetwatchChef", netwatch(None, HOSTILE_NAME, proto="T\x1b[1mCP")),
        dumpling("NetwatchChef", netwatch(None, "\x1b]0;owned\x07title")),
    ]
    p = printer(procs, out_port, "summary-hostile", ["NetwatchChef"], "--format", "summary",
                "--utc", "--color", "--count", str(len(frames)))
    kitchen(in_port, frames)
    rc = wait_exit(p)
    raw = p._out
    raw.seek(0)
    data = raw.read()
    lines = data.decode("utf-8").splitlines()
    check(rc == 0 and len(lines) == 3, f"hostile: three lines for three dumplings (rc {rc}):"
          f" {lines!r}")
    # --color asked: the only ESC bytes are nd-print's own dim/bold/reset.
    stripped = data
    for sgr in (b"\x1b[2m", b"\x1b[1m", b"\x1b[0m"):
        stripped = stripped.replace(sgr, b"")
    bad = [b for b in stripped if b < 0x20 and b != 0x0a or b == 0x7f]
    check(not bad, f"hostile: no control character from a dumpling reaches the terminal: {bad!r}")
    check(not ndltest.sanitizer_reports(p.read_stderr()),
          f"hostile: no sanitizer report: {p.read_stderr()!r}")
    check("\u202e" not in data.decode() and "\u009b" not in data.decode(),
          "hostile: no bidirectional override nor C1 CSI reaches the terminal")
    text = stripped.decode()
    want0 = ("2026-11-22 ... TCP 10.0.0.9(evil\\x1b[2J\\x1b[H.example\\nFAKE 1999-01-01"
             " 00:00:00 - ok\\r\\x07\\u{202e}gnp.exe\\u{009b}31m) --> 93.184.216.34:443"
             "(example.com)")
    got0 = text.splitlines()[0] if lines else ""
    check(got0.split(" - ", 1)[-1] == want0.split(" ... ", 1)[1],
          f"hostile: the name is shown escaped:\n  got  {got0!r}\n  want {want0!r}")
    check(len(lines) > 1 and "T\\x1b[1mCP" in lines[1] and "\\nFAKE" in lines[1],
          f"hostile: a protocol with ESC is escaped too: {lines[1:2]!r}")
    check(len(lines) > 2 and "\\x1b]0;owned\\x07title" in text,
          f"hostile: an OSC title sequence is escaped: {lines[2:3]!r}")


def test_generic_and_color(procs, in_port, out_port):
    big = {"k": "v" * 400, "n": 1}
    frames = [dumpling("SomeOtherChef", big, t=1795327895.0),
              dumpling("SomeOtherChef", {"a": [1, 2], "b": None}, t=1795327896.0)]
    p = printer(procs, out_port, "summary-generic", ["SomeOtherChef"], "--format", "summary",
                "--utc", "--count", "2")
    kitchen(in_port, frames)
    rc = wait_exit(p)
    lines = p.read_stdout().splitlines()
    check(rc == 0 and len(lines) == 2, f"generic: two lines (rc {rc}): {lines!r}")
    if len(lines) == 2:
        head = "2026-11-22 06:11:35 - SomeOtherChef@hostile-kitchen "
        check(lines[0].startswith(head) and lines[0].endswith("...")
              and len(lines[0]) == len(head) + 160 + 3,
              f"generic: chef@kitchen and the payload cut at 160 bytes: {lines[0]!r}")
        check(lines[1] == '2026-11-22 06:11:36 - SomeOtherChef@hostile-kitchen'
              ' {"a":[1,2],"b":null}', f"generic: a short payload whole: {lines[1]!r}")
        check("\x1b" not in p.read_stdout(), "no colour when stdout is not a terminal")
        check(not ndltest.sanitizer_reports(p.read_stderr()),
              f"generic: no sanitizer report: {p.read_stderr()!r}")

    # NO_COLOR does not override an explicit --color; --no-color wins over nothing.
    env = dict(ENV, NO_COLOR="1")
    p = printer(procs, out_port, "summary-color", ["SomeOtherChef"], "--format", "summary",
                "--color", "--count", "1", env=env)
    kitchen(in_port, frames[1:])
    wait_exit(p)
    check("\x1b[1mSomeOtherChef@hostile-kitchen\x1b[0m" in p.read_stdout(),
          f"--color: the chef in bold: {p.read_stdout()!r}")


def test_cli(procs, out_port):
    r = subprocess.run([ndltest.prog("nd-print"), "--format", "fancy"], capture_output=True,
                       timeout=10)
    check(r.returncode == 1 and r.stderr.decode() ==
          "nd-print: --format wants pretty, json or summary, not 'fancy'\n",
          f"--format fancy is refused with one line: {r.stderr!r}")
    r = subprocess.run([ndltest.prog("nd-print"), "--help"], capture_output=True, timeout=10)
    out = r.stdout.decode()
    for opt in ("--format FORMAT", "summary", "pretty", "--utc", "NO_COLOR", "--json"):
        check(opt in out, f"--help explains {opt}")
    # --json and --format json print the same bytes
    outs = []
    for i, flag in enumerate((["--json"], ["--format", "json"])):
        p = printer(procs, out_port, f"json-{i}", [], *flag, "--count", "1", wait=False)
        # the hub's status dumpling reaches both
        wait_exit(p)
        outs.append(json.loads(p.read_stdout())["metadata"]["chef"])
    check(outs == ["SystemStatusChef"] * 2, f"--json is --format json: {outs}")


def test_status_line(procs, out_port):
    p = printer(procs, out_port, "summary-status", ["SystemStatusChef"], "--format", "summary",
                "--count", "1", wait=False)
    rc = wait_exit(p)
    line = p.read_stdout()
    check(rc == 0 and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - HUB up \d\d:\d\d:\d\d,"
                                   r" dumplings in \d+ out \d+, kitchens \d+, eaters \d+\n",
                                   line),
          f"SystemStatusChef: one line with uptime, in/out, kitchens, eaters: {line!r}")


def main():
    try:
        ndltest.prog("nd-hub")
        ndltest.prog("nd-sniff")
    except FileNotFoundError as e:
        print(f"SKIP: {e}", file=sys.stderr)
        sys.exit(77)
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub(status_freq=0.2)
        for case in CASES:
            test_golden(procs, in_port, out_port, case)
        if REGEN:
            return
        test_hostile(procs, in_port, out_port)
        test_generic_and_color(procs, in_port, out_port)
        test_status_line(procs, out_port)
        test_cli(procs, out_port)
    if FAILURES:
        ndltest.fail(f"{len(FAILURES)} check(s) failed")
    print("ok: nd-print --format summary")


main()
