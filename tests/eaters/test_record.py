# SPDX-License-Identifier: MIT
"""nd-record against a real nd-hub on 127.0.0.1, fed by a real nd-sniff
replaying tests/captures/demo.pcap (and, where a longer or paced stream is
needed, by a WebSocket kitchen written here with python3-websockets).

What it records is compared with what `nd-sniff -r demo.pcap --stdout`
makes for the same chefs: JSON Lines byte for byte, CSV cell by cell after
flattening each dumpling as nd-record documents it."""

import asyncio
import csv
import glob
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402

try:
    import websockets  # noqa: E402
except ImportError:
    print("SKIP: python3-websockets is not installed", file=sys.stderr)
    sys.exit(77)
from eatertest import FAILURES, check, wait_exit  # noqa: E402

DEMO = os.path.join(ndltest.SOURCE, "tests", "captures", "demo.pcap")
CHEFS = ["DNSLookupChef", "PacketCountChef"]
ENV = dict(os.environ, TZ="UTC")


# ---------------------------------------------------------------------------
# Helpers


def expected_lines():
    """What nd-sniff makes from demo.pcap for CHEFS, one JSON text a line."""
    argv = [ndltest.prog("nd-sniff"), "-q", "--stdout", "-r", DEMO]
    for c in CHEFS:
        argv += ["-c", c]
    r = subprocess.run(argv, capture_output=True, timeout=60, check=True)
    lines = r.stdout.decode().splitlines()
    assert len(lines) > 10, f"nd-sniff --stdout made only {len(lines)} dumplings"
    return lines


def replay(procs, in_port):
    """Replay demo.pcap into the hub with the same chefs; wait for the end."""
    argv = [ndltest.prog("nd-sniff"), "-q", "-r", DEMO, "-h", f"127.0.0.1:{in_port}"]
    for c in CHEFS:
        argv += ["-c", c]
    k = procs.start("nd-sniff", argv)
    rc = k.wait(60)
    assert rc == 0, f"nd-sniff exited {rc}: {k.read_stderr()}"


def recorder(procs, out_port, name, *args, chefs=True):
    argv = [ndltest.prog("nd-record"), "-h", f"127.0.0.1:{out_port}", "-n", name]
    if chefs:
        for c in CHEFS:
            argv += ["-c", c]
    return procs.start(name, argv + list(args), env=ENV)


async def _eater_info(port, name, pred, timeout):
    """info_from_hub of eater `name` in the first status where pred(info)."""
    deadline = time.monotonic() + timeout
    info = None
    async with websockets.connect(f"ws://127.0.0.1:{port}", max_size=None) as ws:
        await ws.send(json.dumps({"eater_name": "record-probe",
                                  "subscribe": {"chefs": ["SystemStatusChef"]}}))
        while time.monotonic() < deadline:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if msg["metadata"]["chef"] != "SystemStatusChef":
                continue
            for e in msg["payload"].get("dumpling_eaters", []):
                if e["info_from_eater"].get("eater_name") == name:
                    info = e["info_from_hub"]
                    if pred(info):
                        return info
    raise TimeoutError(f"eater {name} never reached the state wanted; last {info}")


def eater_info(port, name, pred=lambda i: True, timeout=15.0):
    return asyncio.run(_eater_info(port, name, pred, timeout))


def stop(p):
    """SIGTERM and the exit status."""
    p.signal(signal.SIGTERM)
    return wait_exit(p)


SUMMARY = re.compile(r"nd-record: received (\d+) dumplings \((\d+) after filters\), wrote (\d+) to"
                     r" (\d+) ")


def summary(p):
    """(received, delivered, written, files) from the summary on stderr."""
    m = SUMMARY.search(p.read_stderr())
    return tuple(int(x) for x in m.groups()) if m else None


def files(d, pattern="*"):
    """The files in d matching pattern, in name order, without .part files."""
    return sorted(f for f in glob.glob(os.path.join(d, pattern)) if not f.endswith(".part"))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def no_part_files(d, what):
    parts = glob.glob(os.path.join(d, "*.part"))
    check(not parts, f"{what}: no .part file left: {parts}")


# The flattening nd-record documents (eaters/record_csv.h, docs/eaters.md).
def esc(key):
    return key.replace("\\", "\\\\").replace(".", "\\.")


def leaf(v):
    return v


def flatten(d):
    """A dumpling as {column: value}."""
    out = {}
    chef = d["metadata"]["chef"]

    def walk(v, path, sep):
        if isinstance(v, dict) and v:
            for k, c in v.items():
                walk(c, path + ("." if sep else "") + esc(k), True)
        else:
            out[path] = v

    for k, v in d.items():
        if k == "payload":
            walk(v, chef + "_", False)
        else:
            walk(v, esc(k), True)
    return out


def cell_matches(cell, v):
    if v is None:
        return cell == ""
    if isinstance(v, bool):
        return cell == ("true" if v else "false")
    if isinstance(v, int):
        return cell == str(v)
    if isinstance(v, float):
        try:
            return float(cell) == v
        except ValueError:
            return False
    if isinstance(v, str):
        return cell == v
    try:
        return json.loads(cell) == v
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# A paced kitchen of our own


def frame(i, chef="PaceChef", kitchen="pace-kitchen"):
    return json.dumps({"metadata": {"chef": chef, "kitchen": kitchen,
                                    "creation_time": 1700000000.0 + i / 1000,
                                    "driver": "packet", "seq": i},
                       "payload": {"i": i, "pad": "x" * 40}}, separators=(",", ":"))


async def _kitchen(port, bursts, pause, stop_event):
    async with websockets.connect(f"ws://127.0.0.1:{port}") as ws:
        await ws.send(json.dumps({"kitchen_name": "pace-kitchen", "interface": "lo",
                                  "filter": "", "chefs": ["PaceChef"], "poke_interval": 5.0}))
        for n, burst in enumerate(bursts):
            if stop_event is not None and stop_event.is_set():
                break
            if n:
                await asyncio.sleep(pause)
            for f in burst:
                await ws.send(f)
        await asyncio.sleep(0.3)


def kitchen(port, bursts, pause=0.0, stop_event=None):
    """Connect as a kitchen and send the bursts, pause seconds apart (until
    stop_event is set)."""
    asyncio.run(_kitchen(port, bursts, pause, stop_event))


# ---------------------------------------------------------------------------
# Tests


def test_jsonl(procs, in_port, out_port, want, tmp):
    """Default format: every dumpling exactly as nd-sniff --stdout makes it."""
    d = os.path.join(tmp, "jsonl")
    os.mkdir(d)
    p = recorder(procs, out_port, "rec-jsonl", "-o", os.path.join(d, "rec-%Y%m%d-{n}.jsonl"))
    eater_info(out_port, "rec-jsonl")
    replay(procs, in_port)
    info = eater_info(out_port, "rec-jsonl",
                      lambda i: i["sent"] >= len(want) and i["queued"] == 0)
    rc = stop(p)
    check(info["sent"] == len(want) and info["dropped"] == 0,
          f"jsonl: the hub sent the recorder the {len(want)} dumplings: {info}")
    fs = files(d)
    got = b"".join(read(f) for f in fs).decode()
    check(rc == 0, f"jsonl: exit 0 on SIGTERM (got {rc}): {p.read_stderr()}")
    check(len(fs) == 1 and re.search(r"rec-\d{8}-000001\.jsonl$", fs[0]),
          f"jsonl: one file named from the pattern: {fs}")
    check(got.splitlines() == want,
          f"jsonl: the file holds nd-sniff's dumplings byte for byte "
          f"({len(got.splitlines())} lines, want {len(want)})")
    check([json.loads(x) for x in got.splitlines()] == [json.loads(x) for x in want],
          "jsonl: and parsed, the same values in the same order")
    check(summary(p) == (len(want), len(want), len(want), 1),
          f"jsonl: summary says received and wrote {len(want)} in 1 file: {summary(p)}")
    err = p.read_stderr()
    for c in CHEFS:
        n = sum(1 for x in want if json.loads(x)["metadata"]["chef"] == c)
        check(f"nd-record:   {c}: {n} dumplings" in err, f"jsonl: summary counts {n} for {c}")
    check("hub dropped 0" in err and "0 gaps" in err, f"jsonl: drops and gaps reported: {err}")
    no_part_files(d, "jsonl")


def csv_rows(paths):
    """[(header, [row dict...]) per file], read with Python's csv (RFC 4180)."""
    out = []
    for path in paths:
        with open(path, newline="") as f:
            text = f.read()
        check(text.endswith("\r\n"), f"csv: {path} ends with CRLF")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        header, body = rows[0], rows[1:]
        for r in body:
            check(len(r) == len(header), f"csv: {path}: a row of {len(r)} cells under "
                  f"{len(header)} columns")
        out.append((header, [dict(zip(header, r)) for r in body]))
    return out


def test_csv(procs, in_port, out_port, want, tmp):
    """CSV: one set of files per chef; every flattened field in its column."""
    d = os.path.join(tmp, "csv")
    os.mkdir(d)
    p = recorder(procs, out_port, "rec-csv", "-f", "csv",
                 "-o", os.path.join(d, "rec-{chef}-{n}.csv"))
    eater_info(out_port, "rec-csv")
    replay(procs, in_port)
    eater_info(out_port, "rec-csv", lambda i: i["sent"] >= len(want) and i["queued"] == 0)
    rc = stop(p)
    check(rc == 0, f"csv: exit 0 on SIGTERM (got {rc}): {p.read_stderr()}")
    no_part_files(d, "csv")
    parsed = [json.loads(x) for x in want]
    total_files = 0
    for chef in CHEFS:
        fs = sorted(files(d, f"rec-{chef}-*.csv"),
                    key=lambda f: int(re.search(r"-(\d+)\.csv$", f).group(1)))
        total_files += len(fs)
        exp = [flatten(x) for x in parsed if x["metadata"]["chef"] == chef]
        per_file = csv_rows(fs)
        rows = [r for _, body in per_file for r in body]
        check(len(rows) == len(exp), f"csv: {chef}: {len(rows)} rows, want {len(exp)}")
        prev = []
        for header, _ in per_file:
            check(header[:len(prev)] == prev, f"csv: {chef}: a later header extends the one "
                  f"before: {prev} -> {header}")
            check(len(set(header)) == len(header), f"csv: {chef}: no column twice")
            check(all(h.startswith("metadata.") or h.startswith(chef + "_") for h in header),
                  f"csv: {chef}: columns are metadata.* or {chef}_*: {header}")
            prev = header
        for n, (row, e) in enumerate(zip(rows, exp)):
            for col, v in e.items():
                if not check(col in row and cell_matches(row[col], v),
                             f"csv: {chef} row {n}: column {col} is {row.get(col)!r}, "
                             f"the dumpling has {v!r}"):
                    break
            extra = [c for c in row if c not in e and row[c] != ""]
            check(not extra, f"csv: {chef} row {n}: cells not in the dumpling: {extra}")
    # The chefs' fields named as documented.
    h = csv_rows(files(d, "rec-DNSLookupChef-*.csv"))[-1][0]
    for col in ("metadata.chef", "metadata.seq", "DNSLookupChef_lookup.hostname",
                "DNSLookupChef_lookup.answers",
                "DNSLookupChef_lookups_seen.www\\.example\\.test.count"):
        check(col in h, f"csv: DNSLookupChef header has {col}: {h}")
    h = csv_rows(files(d, "rec-PacketCountChef-*.csv"))[-1][0]
    check("PacketCountChef_packet_counts.UDP" in h and "PacketCountChef_packet_counts.ARP" in h,
          f"csv: PacketCountChef header has the counts, ARP included once it appeared: {h}")
    s = summary(p)
    check(s == (len(want), len(want), len(want), total_files),
          f"csv: summary: received/wrote {len(want)} in {total_files} files: {s}")
    check("not written: 0 dumplings, 0 fields" in p.read_stderr(), "csv: nothing left out")


def test_rotate_size(procs, in_port, out_port, want, tmp):
    d = os.path.join(tmp, "size")
    os.mkdir(d)
    limit = 2000
    p = recorder(procs, out_port, "rec-size", "--rotate-size", str(limit),
                 "-o", os.path.join(d, "part-{n}.jsonl"))
    eater_info(out_port, "rec-size")
    replay(procs, in_port)
    eater_info(out_port, "rec-size", lambda i: i["sent"] >= len(want) and i["queued"] == 0)
    rc = stop(p)
    fs = files(d)
    blobs = [read(f) for f in fs]
    check(rc == 0, f"rotate-size: exit 0 (got {rc})")
    check(len(fs) >= 3, f"rotate-size: several files: {len(fs)}")
    check(all(len(b) <= limit for b in blobs), f"rotate-size: each at most {limit} bytes: "
          f"{[len(b) for b in blobs]}")
    check(all(b.endswith(b"\n") and b.count(b"\n") >= 1 for b in blobs),
          "rotate-size: every file ends with a whole line")
    check(b"".join(blobs).decode().splitlines() == want,
          "rotate-size: the files put together are the whole stream")
    no_part_files(d, "rotate-size")


def test_rotate_time(procs, in_port, out_port, tmp):
    """Three bursts 1.6 s apart with --rotate-every 1: a file per burst, each
    closed (named) once a second old even while nothing arrives."""
    d = os.path.join(tmp, "time")
    os.mkdir(d)
    p = recorder(procs, out_port, "rec-time", "--rotate-every", "1",
                 "-o", os.path.join(d, "t-{n}.jsonl"), chefs=False)
    eater_info(out_port, "rec-time")
    p2 = recorder(procs, out_port, "rec-time-k", "-k", "pace-kitchen",
                  "--rotate-every", "1", "-o", os.path.join(d, "k-{n}.jsonl"), chefs=False)
    eater_info(out_port, "rec-time-k")
    bursts = [[frame(b * 100 + i) for i in range(1, 51)] for b in range(3)]
    kitchen(in_port, bursts, pause=1.6)
    time.sleep(1.6)
    named = files(d, "k-*.jsonl")
    parts = glob.glob(os.path.join(d, "k-*.part"))
    check(len(named) == 3 and not parts,
          f"rotate-every: the last file is named a second later, idle: {named} {parts}")
    rc = stop(p2)
    stop(p)
    blobs = [read(f) for f in files(d, "k-*.jsonl")]
    check(rc == 0 and len(blobs) == 3, f"rotate-every: a file per burst: {len(blobs)} (rc {rc})")
    check([b.decode().splitlines() for b in blobs] == bursts,
          "rotate-every: each file holds its burst, whole, in order")
    # The other recorder also got the hub's status dumplings (no filter).
    lines = b"".join(read(f) for f in files(d, "t-*.jsonl")).decode().splitlines()
    chefs = {json.loads(x)["metadata"]["chef"] for x in lines}
    check(chefs == {"PaceChef", "SystemStatusChef"} and len(files(d, "t-*.jsonl")) >= 3,
          f"rotate-every: without filters status dumplings are recorded too: {chefs}")
    no_part_files(d, "rotate-every")


def test_stop_after(procs, in_port, out_port, want, tmp):
    for fmt, n in (("jsonl", 10), ("csv", 7)):
        d = os.path.join(tmp, "stop-" + fmt)
        os.mkdir(d)
        p = recorder(procs, out_port, "rec-stop-" + fmt, "--stop-after", str(n), "-f", fmt,
                     "-o", os.path.join(d, "s-{n}." + fmt))
        eater_info(out_port, "rec-stop-" + fmt)
        replay(procs, in_port)
        rc = wait_exit(p)
        check(rc == 0, f"--stop-after {n} ({fmt}): exits 0 by itself (got {rc}): "
              f"{p.read_stderr()}")
        s = summary(p)
        check(s is not None and s[2] == n, f"--stop-after {n} ({fmt}): wrote {n}: {s}")
        if fmt == "jsonl":
            got = b"".join(read(f) for f in files(d)).decode().splitlines()
            check(got == want[:n], f"--stop-after {n}: exactly the first {n} dumplings "
                  f"({len(got)})")
        else:
            rows = [r for _, body in csv_rows(files(d)) for r in body]
            check(len(rows) == n, f"--stop-after {n} (csv): {len(rows)} rows")
            names = [os.path.basename(f) for f in files(d)]
            check(names and all(re.fullmatch(r"s-\d{6}-(DNSLookupChef|PacketCountChef)\.csv", x)
                                for x in names),
                  f"csv without {{chef}} in -o: the chef goes before the extension: {names}")
        no_part_files(d, "--stop-after")


def test_sigterm_midstream(procs, in_port, out_port, tmp):
    """SIGTERM while dumplings pour in: every dumpling nd-record received
    (the SDK's count in the summary) is in the files, in order, and every
    file ends with a whole line."""
    for fmt in ("jsonl", "csv"):
        d = os.path.join(tmp, "term-" + fmt)
        os.mkdir(d)
        name = "rec-term-" + fmt
        p = recorder(procs, out_port, name, "-f", fmt, "--rotate-size", "64K",
                     "-k", "pace-kitchen", "-o", os.path.join(d, "m-{n}." + fmt), chefs=False)
        eater_info(out_port, name)
        total = 40000
        frames = [frame(i) for i in range(1, total + 1)]
        bursts = [frames[i:i + 100] for i in range(0, total, 100)]
        enough = threading.Event()
        th = threading.Thread(target=kitchen, args=(in_port, bursts, 0.02, enough))
        th.start()
        try:
            # mid-stream: once the first 64 KiB file is complete
            deadline = time.monotonic() + 30
            while not files(d) and time.monotonic() < deadline:
                time.sleep(0.02)
            rc = stop(p)
        finally:
            enough.set()
            th.join(120)
        s = summary(p)
        check(rc == 0, f"SIGTERM mid-stream ({fmt}): exit 0 (got {rc}): {p.read_stderr()}")
        if not check(s is not None, f"SIGTERM ({fmt}): a summary: {p.read_stderr()}"):
            continue
        received, delivered, written, _ = s
        check(200 <= received < total and received == delivered == written,
              f"SIGTERM ({fmt}): stopped mid-stream and wrote all it received: {s}")
        check("not handed over" not in p.read_stderr(),
              f"SIGTERM ({fmt}): the hub was asked for nothing more before the close, so"
              f" nothing under way was left unread: {p.read_stderr()}")
        fs = files(d)
        blobs = [read(f) for f in fs]
        if fmt == "jsonl":
            check(all(b.endswith(b"\n") for b in blobs), f"SIGTERM ({fmt}): whole last lines")
            lines = b"".join(blobs).decode().splitlines()
            check(lines == frames[:received],
                  f"SIGTERM ({fmt}): the files hold the first {received} dumplings exactly "
                  f"({len(lines)} lines)")
        else:
            check(all(b.endswith(b"\r\n") for b in blobs), f"SIGTERM ({fmt}): whole last rows")
            rows = [r for _, body in csv_rows(fs) for r in body]
            seqs = [int(r["metadata.seq"]) for r in rows]
            check(seqs == list(range(1, received + 1)),
                  f"SIGTERM ({fmt}): rows for seq 1..{received} in order ({len(seqs)} rows)")
            check(all(r["PaceChef_i"] == r["metadata.seq"] for r in rows),
                  f"SIGTERM ({fmt}): payload columns line up")
        check(len(fs) >= 2, f"SIGTERM ({fmt}): rotated at 64 KiB meanwhile: {len(fs)} files")
        no_part_files(d, f"SIGTERM ({fmt})")


def test_stdout_and_fsync(procs, in_port, out_port, want, tmp):
    p = recorder(procs, out_port, "rec-stdout", "-o", "-", "--stop-after", str(len(want)))
    eater_info(out_port, "rec-stdout")
    d = os.path.join(tmp, "fsync")
    os.mkdir(d)
    q = recorder(procs, out_port, "rec-fsync", "--fsync", "-o", os.path.join(d, "f.jsonl"),
                 "--stop-after", str(len(want)))
    eater_info(out_port, "rec-fsync")
    replay(procs, in_port)
    rc, rq = wait_exit(p), wait_exit(q)
    check(rc == 0 and p.read_stdout().splitlines() == want,
          f"-o -: JSON Lines on stdout as nd-sniff makes them (rc {rc})")
    check(rq == 0 and read(os.path.join(d, "f.jsonl")).decode().splitlines() == want,
          f"--fsync: the same file (rc {rq})")


def test_jsonl_per_chef(procs, in_port, out_port, want, tmp):
    """{chef} in a JSON Lines pattern: each chef its own files, its lines in order."""
    d = os.path.join(tmp, "per-chef")
    os.mkdir(d)
    p = recorder(procs, out_port, "rec-per-chef", "-o", os.path.join(d, "j-{chef}-{n}.jsonl"),
                 "--stop-after", str(len(want)))
    eater_info(out_port, "rec-per-chef")
    replay(procs, in_port)
    rc = wait_exit(p)
    check(rc == 0, f"jsonl per chef: exit 0 (got {rc})")
    for c in CHEFS:
        got = b"".join(read(f) for f in files(d, f"j-{c}-*.jsonl")).decode().splitlines()
        mine = [x for x in want if json.loads(x)["metadata"]["chef"] == c]
        check(got == mine, f"jsonl per chef: {c}'s file holds its {len(mine)} dumplings "
              f"({len(got)})")
    check(len(files(d)) == len(CHEFS), f"jsonl per chef: one file each: {files(d)}")


def test_gaps_reported(procs, in_port, out_port, tmp):
    """Dumplings missing from a kitchen's seq are said and summed at exit."""
    d = os.path.join(tmp, "gaps")
    os.mkdir(d)
    p = recorder(procs, out_port, "rec-gaps", "-k", "pace-kitchen", "--stop-after", "3",
                 "-o", os.path.join(d, "g.jsonl"), chefs=False)
    eater_info(out_port, "rec-gaps")
    kitchen(in_port, [[frame(1), frame(2), frame(5)]])
    rc = wait_exit(p)
    err = p.read_stderr()
    check(rc == 0 and "2 dumplings from kitchen pace-kitchen never arrived" in err
          and "1 gaps, 2 dumplings missing" in err,
          f"gaps: said when seen and in the summary (rc {rc}): {err!r}")
    check(read(os.path.join(d, "g.jsonl")).decode().splitlines() ==
          [frame(1), frame(2), frame(5)], "gaps: what came is written")


def test_line_feeds(procs, in_port, out_port, tmp):
    """A dumpling sent pretty-printed (line feeds between tokens) is written
    compact on one line, the same JSON; one without keeps its bytes."""
    d = os.path.join(tmp, "lf")
    os.mkdir(d)
    # one dumpling per message: in batch mode the hub's JSON Lines cannot
    # carry a multi-line dumpling
    p = recorder(procs, out_port, "rec-lf", "-k", "lf-kitchen", "--no-batch",
                 "--stop-after", "2", "-o", os.path.join(d, "lf.jsonl"), chefs=False)
    eater_info(out_port, "rec-lf")
    dump = {"metadata": {"chef": "LfChef", "kitchen": "lf-kitchen", "creation_time": 1.5,
                         "driver": "packet"}, "payload": {"a": [1, 2], "s": "x\ny"}}
    pretty, plain = json.dumps(dump, indent=2), json.dumps(dump)

    async def send():
        async with websockets.connect(f"ws://127.0.0.1:{in_port}") as ws:
            await ws.send(json.dumps({"kitchen_name": "lf-kitchen", "interface": "lo",
                                      "filter": "", "chefs": [], "poke_interval": 5.0}))
            await ws.send(pretty)
            await ws.send(plain)
            await asyncio.sleep(0.3)
    asyncio.run(send())
    rc = wait_exit(p)
    lines = read(os.path.join(d, "lf.jsonl")).decode().split("\n")
    check(rc == 0 and len(lines) == 3 and lines[2] == "" and json.loads(lines[0]) == dump
          and "\n" not in lines[0] and lines[1] == plain,
          f"line feeds: compact line, then the plain one as sent (rc {rc}): {lines}")
    check("1 dumplings held line feeds and were written compact" in p.read_stderr(),
          f"line feeds: counted in the summary: {p.read_stderr()}")


def test_max_open_files(procs, in_port, out_port, want, tmp):
    """--max-open-files 1 with two chefs: a chef's file is closed (complete)
    when the other needs one, and every row is still written."""
    d = os.path.join(tmp, "open1")
    os.mkdir(d)
    p = recorder(procs, out_port, "rec-open1", "-f", "csv", "--max-open-files", "1",
                 "--stop-after", str(len(want)), "-o", os.path.join(d, "o-{chef}-{n}.csv"))
    eater_info(out_port, "rec-open1")
    replay(procs, in_port)
    rc = wait_exit(p)
    parsed = [json.loads(x) for x in want]
    for chef in CHEFS:
        rows = [r for _, body in csv_rows(files(d, f"o-{chef}-*.csv")) for r in body]
        seqs = [int(r["metadata.seq"]) for r in rows]
        check(seqs == [x["metadata"]["seq"] for x in parsed if x["metadata"]["chef"] == chef],
              f"--max-open-files 1: {chef}'s rows all there, in order: {seqs}")
    check(rc == 0 and len(files(d)) > 6, f"--max-open-files 1: files closed and begun again "
          f"as chefs alternate (rc {rc}, {len(files(d))} files)")
    no_part_files(d, "--max-open-files")


def test_no_overwrite_and_columns(procs, in_port, out_port, want, tmp):
    d = os.path.join(tmp, "keep")
    os.mkdir(d)
    with open(os.path.join(d, "fixed.jsonl"), "w") as f:
        f.write("precious\n")
    p = recorder(procs, out_port, "rec-keep", "-o", os.path.join(d, "fixed.jsonl"),
                 "--stop-after", "3")
    eater_info(out_port, "rec-keep")
    q = recorder(procs, out_port, "rec-cols", "-f", "csv", "--max-columns", "8",
                 "-o", os.path.join(d, "c-{n}.csv"), "--stop-after", str(len(want)))
    eater_info(out_port, "rec-cols")
    replay(procs, in_port)
    rc, rq = wait_exit(p), wait_exit(q)
    check(rc == 0 and read(os.path.join(d, "fixed.jsonl")) == b"precious\n",
          "an existing file is never overwritten")
    check(read(os.path.join(d, "fixed-1.jsonl")).decode().splitlines() == want[:3],
          "the new file gets -1 before the extension")
    err = q.read_stderr()
    m = re.search(r"not written: 0 dumplings, (\d+) fields", err)
    lost = sum(max(0, len(flatten(json.loads(x))) - 8) for x in want
               if json.loads(x)["metadata"]["chef"] == "DNSLookupChef")
    check(rq == 0 and m is not None and int(m.group(1)) > 0 and "has more than 8 columns" in err,
          f"--max-columns 8: fields past it counted and said (rc {rq}): {err}")
    check(m is None or int(m.group(1)) >= lost,
          f"--max-columns 8: at least {lost} DNSLookupChef fields counted: {err}")
    for _, body in csv_rows(files(d, "c-*.csv")):
        for r in body:
            check(len(r) <= 8, "--max-columns 8: no file has more columns")


def test_cli(procs, tmp):
    r = subprocess.run([ndltest.prog("nd-record"), "--help"], capture_output=True, timeout=10)
    out = r.stdout.decode()
    for opt in ("--hub", "--chef", "--kitchen", "--token-file", "--hub-ca", "--format",
                "--output", "--rotate-size", "--rotate-every", "--stop-after", "--fsync",
                "--max-columns", "--max-open-files", "{chef}", "{n}"):
        check(opt in out, f"--help explains {opt}")
    check(r.returncode == 0, "--help exits 0")

    afile = os.path.join(tmp, "a-file")
    with open(afile, "w") as f:
        f.write("x")
    cases = [
        (["-o", os.path.join(tmp, "no", "such", "dir", "x.jsonl")],
         os.path.join(tmp, "no", "such", "dir"), "No such file or directory"),
        (["-o", os.path.join(afile, "x.jsonl")], afile, "not a directory"),
        (["-f", "csv", "-o", "-"], "jsonl only", ""),
        (["-f", "xml"], "jsonl or csv", "'xml'"),
        (["--rotate-size", "0"], "--rotate-size", "'0'"),
        (["--rotate-every", "soon"], "--rotate-every", "'soon'"),
        (["--stop-after", "-2"], "--stop-after", "'-2'"),
        (["-o", "-", "--rotate-size", "1M"], "standard output cannot be rotated", ""),
    ]
    for args, want1, want2 in cases:
        # an unreachable hub: a bad option must be found before connecting
        r = subprocess.run([ndltest.prog("nd-record"), "-h", "127.0.0.1:1"] + args,
                           capture_output=True, timeout=10, env=ENV)
        err = r.stderr.decode()
        check(r.returncode == 1 and want1 in err and want2 in err and err.count("\n") <= 2,
              f"nd-record {' '.join(args)}: exit 1 naming '{want1}' ({r.returncode}): {err!r}")
    r = subprocess.run([ndltest.prog("nd-record"), "-h", f"127.0.0.1:{ndltest.free_port()}",
                        "-o", os.path.join(tmp, "never-{n}.jsonl")],
                       capture_output=True, timeout=20, env=ENV)
    err = r.stderr.decode()
    check(r.returncode == 1 and "cannot connect" in err and "received 0 dumplings" in err
          and not glob.glob(os.path.join(tmp, "never-*")),
          f"unreachable hub: exit 1, a summary, no file ({r.returncode}): {err!r}")


def test_cannot_create_midway(procs, in_port, out_port, tmp):
    """The directory goes away while recording: exit 1 with the path and
    the reason, and the summary counts what was not written."""
    d = os.path.join(tmp, "gone")
    os.mkdir(d)
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    p = recorder(procs, out_port, "rec-gone", "-k", "pace-kitchen", "--rotate-every", "0.2",
                 "-o", os.path.join(sub, "g-{n}.jsonl"), chefs=False)
    eater_info(out_port, "rec-gone")
    kitchen(in_port, [[frame(1)]])
    time.sleep(0.8)  # the first file is complete (named) by now
    first = files(sub)
    os.rename(sub, os.path.join(d, "moved"))
    kitchen(in_port, [[frame(2), frame(3)]])
    rc = wait_exit(p)
    err = p.read_stderr()
    check(len(first) == 1, f"midway: the first file was finished: {first}")
    check(rc == 1 and f"cannot create file '{os.path.join(sub, 'g-000002.jsonl.part')}'" in err
          and "No such file or directory" in err,
          f"midway: exit 1 with the path and the reason (rc {rc}): {err!r}")
    m = re.search(r"not written: (\d+) dumplings", err)
    check(m is not None and int(m.group(1)) >= 1, f"midway: not written counted: {err!r}")


def timed(f, *args):
    t = time.monotonic()
    f(*args)
    print(f"{f.__name__}: {time.monotonic() - t:.1f} s", file=sys.stderr)


def main():
    try:
        ndltest.prog("nd-hub")
        ndltest.prog("nd-sniff")
        ndltest.prog("nd-record")
    except FileNotFoundError as e:
        print(f"SKIP: {e}", file=sys.stderr)
        sys.exit(77)
    want = expected_lines()
    with tempfile.TemporaryDirectory(prefix="nd-record-test-") as tmp, ndltest.Procs() as procs:
        timed(test_cli, procs, tmp)
        hub, in_port, out_port = procs.hub(status_freq=0.1)
        timed(test_jsonl, procs, in_port, out_port, want, tmp)
        timed(test_csv, procs, in_port, out_port, want, tmp)
        timed(test_rotate_size, procs, in_port, out_port, want, tmp)
        timed(test_rotate_time, procs, in_port, out_port, tmp)
        timed(test_stop_after, procs, in_port, out_port, want, tmp)
        timed(test_stdout_and_fsync, procs, in_port, out_port, want, tmp)
        timed(test_jsonl_per_chef, procs, in_port, out_port, want, tmp)
        timed(test_max_open_files, procs, in_port, out_port, want, tmp)
        timed(test_no_overwrite_and_columns, procs, in_port, out_port, want, tmp)
        timed(test_gaps_reported, procs, in_port, out_port, tmp)
        timed(test_line_feeds, procs, in_port, out_port, tmp)
        timed(test_sigterm_midstream, procs, in_port, out_port, tmp)
        timed(test_cannot_create_midway, procs, in_port, out_port, tmp)
        for p in procs.procs:
            reports = ndltest.sanitizer_reports(p.read_stderr())
            check(not reports, f"{p.name}: no sanitizer reports: {reports[:3]}")
    if FAILURES:
        ndltest.fail(f"{len(FAILURES)} check(s) failed")
    print("ok: nd-record")


main()
