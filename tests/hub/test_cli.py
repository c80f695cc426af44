#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Command line and start-up: a port already in use is a one-line
"hub error:" and exit 1; bad options exit 2 naming the option; --help,
--version; numeric IPv6 and the default host name localhost."""

import asyncio
import json
import signal
import socket
import subprocess
import time

from hubutil import check, eater, ndltest, next_status, stop_hub_clean

import websockets


def run(*args, timeout=20):
    r = subprocess.run([ndltest.prog("nd-hub"), *args], capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def check_no_sanitizer(err):
    reports = ndltest.sanitizer_reports(err)
    check(not reports, "sanitizer reports:\n" + err)


def bind_failures():
    with ndltest.Procs() as procs:
        first, in_port, out_port = procs.hub_any_port()
        for argv, port, what in (
                (["-i", str(in_port), "-o", "0"], in_port, "kitchens"),
                (["-i", "0", "-o", str(out_port)], out_port, "eaters")):
            rc, out, err = run("-a", "127.0.0.1", *argv)
            check(rc == 1, f"second hub on a used port exited {rc}:\n{err}")
            lines = [ln for ln in err.splitlines() if ln.startswith("hub error:")]
            check(len(lines) == 1, f"expected one 'hub error:' line:\n{err}")
            check(f"127.0.0.1:{port}" in lines[0] and what in lines[0]
                  and "in use" in lines[0], f"unclear bind error: {lines[0]}")
            check_no_sanitizer(err)
        check(first.poll() is None, "the first hub died")
        stop_hub_clean(first)

    # A port held by something else than a hub.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        rc, _, err = run("-a", "127.0.0.1", "-i", "0", "-o", str(port))
        check(rc == 1 and "hub error:" in err, f"exit {rc}:\n{err}")
        check_no_sanitizer(err)


def bad_options():
    cases = [
        (["-i", "70000"], "--in-port"),
        (["-o", "http"], "--out-port"),
        (["-f", "0"], "--status-freq"),
        (["-f", "-1"], "--status-freq"),
        (["--max-frame", "12Q"], "--max-frame"),
        (["--eater-queue", "0"], "--eater-queue"),
        (["-h"], "--help"),
        (["--no-such-option"], "--no-such-option"),
        (["-i"], "-i"),
        (["stray"], "stray"),
    ]
    for argv, needle in cases:
        rc, out, err = run(*argv)
        check(rc == 2, f"{argv}: exit {rc}, expected 2:\n{err}")
        check(needle in err and err.count("\n") == 1, f"{argv}: unclear message: {err!r}")

    rc, out, err = run("--help")
    check(rc == 0, f"--help exit {rc}")
    for opt in ("--address", "--in-port", "--out-port", "--status-freq", "--max-frame",
                "--eater-queue", "--eater-queue-bytes", "--quiet", "--verbose", "--version",
                "--help", "11347", "11348"):
        check(opt in out, f"--help does not mention {opt}")
    rc, out, err = run("--version")
    check(rc == 0 and out.startswith("nd-hub ") and out.count("\n") == 1,
          f"--version: {rc} {out!r}")


async def talk(host, out_port):
    ws = await websockets.connect(f"ws://{host}:{out_port}/", ping_interval=None)
    await ws.send(json.dumps({"eater_name": f"via {host}"}))
    p = await next_status(ws, lambda p: p["dumpling_eater_count"] == 1)
    await ws.close()
    return p["dumpling_eaters"][0]["info_from_hub"]["host"]


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def addresses():
    if ipv6_available():
        with ndltest.Procs() as procs:
            hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "-a", "::1", "-i", "0",
                                         "-o", "0", "-f", "0.2"])
            _, out_port = ndltest.hub_listening_ports(hub)
            check("kitchens on [::1]:" in hub.read_stderr(), "IPv6 listening line")
            host = asyncio.run(talk("[::1]", out_port))
            check(host == "::1", f"IPv6 peer host {host!r}")
            stop_hub_clean(hub)
    else:
        print("cli: no IPv6 loopback here, skipping the ::1 case")

    # The default address is the name localhost, resolved.
    with ndltest.Procs() as procs:
        hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "-i", "0", "-o", "0", "-f", "0.2"])
        _, out_port = ndltest.hub_listening_ports(hub)
        host = asyncio.run(talk("127.0.0.1", out_port))
        check(host == "127.0.0.1", f"IPv4 peer host {host!r}")
        stop_hub_clean(hub)

    # -q keeps the log to errors: not even the listening line.
    with ndltest.Procs() as procs:
        hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "-q", "-a", "127.0.0.1",
                                     "-i", "0", "-o", "0"])
        time.sleep(1)
        check(hub.poll() is None, "quiet hub died")
        hub.signal(signal.SIGTERM)
        rc = hub.wait(20)
        err = hub.read_stderr()
        check(rc == 0, f"quiet hub exit {rc}:\n{err}")
        check(err.strip() == "", f"-q printed: {err!r}")


async def shutdown_scenario():
    """SIGTERM with clients connected: each gets 1001, the hub exits 0."""
    from hubutil import RawWS, close_code_of, dumpling, kitchen
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port(status_freq=0.2)
        e, _ = await eater(out_port, "stays")
        k, _ = await kitchen(in_port, "stays-too")
        pending = await websockets.connect(f"ws://127.0.0.1:{in_port}/", ping_interval=None)
        stuck = RawWS(out_port, rcvbuf=8192)
        stuck.send_text(json.dumps({"eater_name": "stuck"}))
        await next_status(e, lambda p: p["dumpling_eater_count"] == 2
                          and p["dumpling_kitchen_count"] == 1)
        for i in range(300):
            await k.send(dumpling("C", "stays-too", {"i": i, "pad": "p" * 4000}))
        await asyncio.sleep(0.3)
        hub.signal(signal.SIGTERM)
        codes = await asyncio.gather(close_code_of(e), close_code_of(k),
                                     close_code_of(pending))
        check(codes == [1001, 1001, 1001], f"close codes on shutdown: {codes}")
        rc = hub.wait(20)
        err = hub.read_stderr()
        stuck.close()
        check_no_sanitizer(err)
        check(rc == 0, f"exit {rc} on SIGTERM with clients:\n{err}")
        check("stopped" in err, "no clean stop logged")


def main():
    asyncio.run(shutdown_scenario())
    bind_failures()
    bad_options()
    addresses()
    print("cli: ok")


if __name__ == "__main__":
    main()
