#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Round trips through a real hub on 127.0.0.1:

  pcap -> nd-sniff -r -c IPConnChef -> nd-hub -> nd-nmsg -> NMSG file
       -> nd-sniff --nmsg FILE --stdout -c IPConnChef

gives the same 5-tuples (and times) as the pcap itself, for plain, zlib +
fragmenting and unbuffered output; base:ipconn and base:encode records read
back by our reader are the dumplings sent (encode: byte for byte); source,
operator and group are written; and nd-nmsg --udp into nd-sniff
--nmsg-listen gives the same 5-tuples again."""

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nmsgtest as nt  # noqa: E402
import ndltest  # noqa: E402

VEC = nt.vectors_dir()
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def stdout_dumplings(pcap, chef):
    r = subprocess.run([nt.ND_SNIFF(), "-r", pcap, "--stdout", "-q", "-n", "rt", "-c", chef],
                       capture_output=True, timeout=120, check=True)
    return r.stdout.decode().splitlines()


def wait_line(proc, text, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.read_stderr():
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited {proc.returncode}:\n{proc.read_stderr()}")
        time.sleep(0.05)
    raise TimeoutError(f"{proc.name} never said '{text}':\n{proc.read_stderr()}")


def through_hub(pcap, chef, count, nmsg_args):
    """Replay pcap with chef into a hub that nd-nmsg eats from; returns
    nd-nmsg's stderr once it has written count dumplings and exited."""
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port()
        eater = procs.start("nd-nmsg", [nt.ND_NMSG(), "-h", f"127.0.0.1:{out_port}", "-c", chef,
                                        "--count", str(count), *nmsg_args])
        wait_line(eater, "connected to the hub")
        k = subprocess.run([nt.ND_SNIFF(), "-r", pcap, "-h", f"127.0.0.1:{in_port}", "-q",
                            "-n", "rt", "-c", chef], capture_output=True, timeout=120)
        check(k.returncode == 0, f"the kitchen exited {k.returncode}: {k.stderr.decode()}")
        try:
            eater.wait(timeout=60)
        except subprocess.TimeoutExpired:
            check(False, f"nd-nmsg did not get {count} dumplings: {eater.read_stderr()}")
        err = eater.read_stderr()
        check(eater.returncode == 0, f"nd-nmsg exited {eater.returncode}: {err}")
        check(nt.sanitizer_clean(err), f"sanitizer report from nd-nmsg:\n{err}")
        return err


pcaps = [os.path.join(VEC, "http.pcap"), os.path.join(VEC, "dns.pcap"),
         os.path.join(ndltest.SOURCE, "tests", "captures", "demo.pcap")]
tmp = tempfile.mkdtemp(prefix="ndl-nmsg-")
variants = {"plain": [], "zlib": ["-z", "--container-size", "200"],
            "unbuffered": ["--unbuffered", "--source", "0xa1b2c3d4", "--operator", "5",
                           "--group", "6"]}
for pcap in pcaps:
    want_lines = stdout_dumplings(pcap, "IPConnChef")
    want = nt.ipconn_of_dumplings(want_lines)
    check(len(want) > 5, f"{pcap}: only {len(want)} IPConnChef dumplings")
    for vname, extra in variants.items():
        if vname != "plain" and "demo" in pcap:
            continue
        out = os.path.join(tmp, f"{os.path.basename(pcap)}.{vname}.nmsg")
        err = through_hub(pcap, "IPConnChef", len(want), ["-w", out, *extra])
        check(f"{len(want)} base:ipconn" in err, f"{pcap} {vname}: {err}")
        # our reader: the records are the dumplings
        recs, stats, rc, derr = nt.dump(out)
        check(rc == 0 and stats["errors"] == 0, f"{pcap} {vname}: reading back: {derr}")
        check(all(r["mname"] == "ipconn" for r in recs), f"{pcap} {vname}: not all ipconn")
        check(nt.expected_ipconn(recs) == want,
              f"{pcap} {vname}: the base:ipconn records differ from the dumplings")
        if vname == "zlib":
            check(stats["zlib"] == stats["containers"] and stats["containers"] > 1,
                  f"{pcap}: -z --container-size 200 wrote no compressed containers: {stats}")
        if vname == "unbuffered":
            check(stats["containers"] == len(want), f"{pcap}: unbuffered gave "
                  f"{stats['containers']} containers for {len(want)} payloads")
            check(all(r.get("source") == "a1b2c3d4" and r.get("operator") == 5 and
                      r.get("group") == 6 for r in recs), f"{pcap}: source/operator/group")
        # the kitchen: the same 5-tuples as the pcap
        r = subprocess.run([nt.ND_SNIFF(), "--nmsg", out, "--stdout", "-c", "IPConnChef"],
                           capture_output=True, timeout=120)
        got = nt.ipconn_of_dumplings(r.stdout.decode().splitlines())
        check(r.returncode == 0 and got == want,
              f"{pcap} {vname}: nd-sniff --nmsg gave {len(got)} 5-tuples, the pcap {len(want)}; "
              f"first difference {next(((a, b) for a, b in zip(got, want) if a != b), None)}")

# base:encode: any dumpling, byte for byte
pcap = os.path.join(VEC, "dns.pcap")
want_lines = stdout_dumplings(pcap, "DNSLookupChef")
check(len(want_lines) > 3, f"only {len(want_lines)} DNSLookupChef dumplings")
for vname, extra in (("fragments", ["-z", "--container-size", "128"]), ("plain", [])):
    out = os.path.join(tmp, f"encode.{vname}.nmsg")
    err = through_hub(pcap, "DNSLookupChef", len(want_lines), ["-w", out, *extra])
    recs, stats, rc, derr = nt.dump(out)
    check(rc == 0 and stats["errors"] == 0, f"encode {vname}: reading back: {derr}")
    check(all(r["mname"] == "encode" and r["message"]["type"] == "JSON" for r in recs),
          f"encode {vname}: not all base:encode JSON")
    got = [base64.b64decode(r["message"]["payload"]).decode() for r in recs]
    check(got == want_lines, f"encode {vname}: {len(got)} payloads; first difference: "
          f"{next(((a, b) for a, b in zip(got, want_lines) if a != b), None)}")
    if extra:
        check(stats["reassembled"] > 0 and stats["zlib"] > 0,
              f"encode: -z --container-size 128 wrote no compressed fragments: {stats}")
for r, line in zip(recs, want_lines):
    t = json.loads(line)["metadata"]["creation_time"]
    s, ns = nt.record_seconds(r)
    check(abs(s + ns / 1e9 - t) < 1e-6, f"encode: time {r['time']} is not {t}")
    break
# the kitchen reads base:encode as no packet: skipped, counted
r = subprocess.run([nt.ND_SNIFF(), "--nmsg", out, "--stdout", "-c", "IPConnChef"],
                   capture_output=True, timeout=60)
check(r.returncode == 0 and f"{len(want_lines)} skipped" in r.stderr.decode(),
      f"encode into the kitchen: {r.stderr.decode()}")

# UDP: nd-nmsg --udp into nd-sniff --nmsg-listen
pcap = os.path.join(VEC, "http.pcap")
want = nt.ipconn_of_dumplings(stdout_dumplings(pcap, "IPConnChef"))
port = nt.free_udp_port()
with ndltest.Procs() as procs:
    listener = procs.start("nd-sniff", [nt.ND_SNIFF(), "--nmsg-listen", f"127.0.0.1/{port}",
                                        "--stdout", "-c", "IPConnChef"])
    nt.wait_udp_bound(port, listener)
    err = through_hub(pcap, "IPConnChef", len(want),
                      ["--udp", f"127.0.0.1/{port}", "--container-size", "300"])
    time.sleep(1.5)
    listener.signal(signal.SIGTERM)
    listener.wait(timeout=30)
    lerr = listener.read_stderr()
    got = nt.ipconn_of_dumplings(listener.read_stdout().splitlines())
    check(got == want, f"UDP: {len(got)} 5-tuples, the pcap {len(want)}:\n{lerr}")
    check("0 sequence gaps" in lerr, f"UDP: sequence gaps on loopback:\n{lerr}")
    check(nt.sanitizer_clean(lerr), f"sanitizer report:\n{lerr}")

# usage errors are clear
for argv, needle in ((["-h", "127.0.0.1:1"], "say where to write"),
                     (["-w", "x", "--udp", "127.0.0.1/1"], "say where to write"),
                     (["--udp", "localhost"], "--udp wants ADDR/PORT"),
                     (["-w", "x", "--container-size", "10"], "--container-size wants"),
                     (["-w", "x", "--source", "-1"], "--source wants"),
                     (["-w", "/nonexistent/dir/x"], "cannot write")):
    r = subprocess.run([nt.ND_NMSG(), *argv], capture_output=True, timeout=30)
    check(r.returncode == 1 and needle in r.stderr.decode(),
          f"nd-nmsg {argv}: exit {r.returncode}: {r.stderr.decode()}")

for f in os.listdir(tmp):
    os.unlink(os.path.join(tmp, f))
os.rmdir(tmp)
if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print(f"ok: {len(pcaps)} captures round-tripped")
