# SPDX-License-Identifier: MIT
"""What the NMSG tests share: where the reference vectors are, our programs,
reading pcaps and IP headers, and comparing with nmsgtool's JSON."""

import base64
import json
import os
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402,F401

BUILD = ndltest.BUILD


def vectors_dir():
    """The reference vectors folder, or exit 77 (skipped) with the reason."""
    d = os.environ.get("NDL_SHARED_NMSG", "")
    if not d and ndltest.SHARED_PCAPS:
        d = os.path.join(ndltest.SHARED_PCAPS, "..", "..", "nmsg")
    if not d or not os.path.isdir(os.path.join(d, "expected")):
        print(f"SKIP: no NMSG reference vectors at '{d}' (set NDL_SHARED_NMSG)")
        sys.exit(77)
    return os.path.abspath(d)


def bin_path(*parts):
    p = os.path.join(BUILD, *parts)
    if not os.access(p, os.X_OK):
        raise FileNotFoundError(f"{p} is not built")
    return p


NMSG_DUMP = lambda: bin_path("tests", "nmsg", "nmsg-dump")  # noqa: E731
ND_NMSG = lambda: bin_path("nmsg", "eater", "nd-nmsg")  # noqa: E731
ND_SNIFF = lambda: bin_path("kitchen", "nd-sniff")  # noqa: E731


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def normalize(rec):
    """A record of nmsgtool -J or nmsg-dump in one comparable form: encode
    payloads as base64 (nmsgtool prints JSON ones as {"val", "b64"})."""
    rec = json.loads(json.dumps(rec))
    msg = rec.get("message", {})
    if rec.get("mname") == "encode" and isinstance(msg.get("payload"), dict):
        msg["payload"] = msg["payload"]["b64"]
    return rec


def dump(path, *extra, check=True):
    """nmsg-dump's records, its counters and exit status."""
    r = subprocess.run([NMSG_DUMP(), *extra, path], capture_output=True, timeout=60)
    lines = r.stdout.decode().splitlines()
    err = r.stderr.decode()
    stats = json.loads(err.strip().splitlines()[-1])
    return [json.loads(line) for line in lines if line.strip()], stats, r.returncode, err


def udp_datagrams(pcap):
    """(src port, dst port, payload) of every UDP datagram in a pcap file."""
    d = open(pcap, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(e + "I", d[20:24])[0]
    i, out = 24, []
    while i + 16 <= len(d):
        _, _, caplen, _ = struct.unpack(e + "IIII", d[i:i + 16])
        i += 16
        p = d[i:i + caplen]
        i += caplen
        p = {1: p[14:], 0: p[4:], 108: p[4:], 113: p[16:], 101: p, 12: p}[linktype]
        if p[0] >> 4 == 4:
            proto, l4 = p[9], p[(p[0] & 15) * 4:]
        else:
            proto, l4 = p[6], p[40:]
        if proto != 17:
            continue
        sport, dport, ulen = struct.unpack(">HHH", l4[:6])
        out.append((sport, dport, l4[8:ulen]))
    return out


def five_tuple_of_ip(raw):
    """(proto, srcip, srcport, dstip, dstport) of a TCP/UDP IP packet, else None."""
    v = raw[0] >> 4
    if v == 4:
        ihl = (raw[0] & 15) * 4
        proto = raw[9]
        src, dst = socket.inet_ntop(socket.AF_INET, raw[12:16]), socket.inet_ntop(
            socket.AF_INET, raw[16:20])
        frag = struct.unpack(">H", raw[6:8])[0] & 0x1FFF
        l4 = raw[ihl:]
        if frag:
            return None
    elif v == 6:
        proto = raw[6]
        src, dst = socket.inet_ntop(socket.AF_INET6, raw[8:24]), socket.inet_ntop(
            socket.AF_INET6, raw[24:40])
        l4 = raw[40:]
    else:
        return None
    if proto not in (6, 17) or len(l4) < 4:
        return None
    sport, dport = struct.unpack(">HH", l4[:4])
    return (proto, src, sport, dst, dport)


def ip_of_record(rec):
    """The IP packet an nmsgtool record of base:packet or base:pkt carries."""
    raw = base64.b64decode(rec["message"]["payload"])
    if rec["mname"] == "pkt":
        ethertype = struct.unpack(">H", raw[12:14])[0]
        off = 14
        while ethertype in (0x8100, 0x88A8):
            ethertype = struct.unpack(">H", raw[off + 2:off + 4])[0]
            off += 4
        if ethertype not in (0x0800, 0x86DD):
            return None
        raw = raw[off:]
    return raw


def record_seconds(rec):
    """nmsgtool's "YYYY-MM-DD HH:MM:SS.nnnnnnnnn" (UTC) as (seconds, nanoseconds)."""
    import calendar
    import time
    day, frac = rec["time"].split(".")
    return calendar.timegm(time.strptime(day, "%Y-%m-%d %H:%M:%S")), int(frac)


def expected_ipconn(records):
    """What IPConnChef makes of the TCP/UDP packets among records:
    sorted list of (5-tuple, time in microseconds)."""
    out = []
    for rec in records:
        if rec.get("vname") != "base":
            continue
        if rec["mname"] in ("packet", "pkt"):
            raw = ip_of_record(rec)
            t = five_tuple_of_ip(raw) if raw else None
        elif rec["mname"] == "ipconn":
            m = rec["message"]
            t = (m["proto"], m["srcip"], m["srcport"], m["dstip"], m["dstport"]) \
                if m["proto"] in (6, 17) else None
        else:
            t = None
        if t:
            s, ns = record_seconds(rec)
            out.append((t, s * 1000000 + ns // 1000))
    return sorted(out)


def ipconn_of_dumplings(lines):
    """The same from IPConnChef dumplings (JSON lines)."""
    out = []
    for line in lines:
        if not line.strip():
            continue
        p = json.loads(line)["payload"]
        out.append(((p["proto"], p["srcip"], p["srcport"], p["dstip"], p["dstport"]),
                    round(p["time"] * 1000000)))
    return sorted(out)


def free_udp_port():
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_udp_bound(port, proc, timeout=15.0):
    """Wait until a UDP socket is bound to 127.0.0.1:port (/proc/net/udp)."""
    import time
    want = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.returncode}:\n"
                               + proc.read_stderr())
        with open("/proc/net/udp") as f:
            if any(line.split()[1] == want for line in f.readlines()[1:]):
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing bound UDP 127.0.0.1:{port} in {timeout}s")


def sanitizer_clean(text):
    return not ndltest.sanitizer_reports(text)


def packet_records(records):
    """(time in µs, captured bytes, wire length) of each base:packet and
    base:pkt record (base:ipconn: time, None, None), in order: what the
    kitchen must hand its chefs."""
    out = []
    for rec in records:
        if rec.get("vname") != "base" or rec.get("mname") not in ("packet", "pkt", "ipconn"):
            continue
        s, ns = record_seconds(rec)
        if rec["mname"] == "ipconn":    # a packet the kitchen makes: only its time
            out.append((s * 1000000 + ns // 1000, None, None))
            continue
        raw = base64.b64decode(rec["message"]["payload"])
        wire = max(len(raw), rec["message"].get("len_frame", 0))
        out.append((s * 1000000 + ns // 1000, raw, wire))
    return out


def compare_packet_layers(lines, records):
    """PacketLayersChef's dumplings (one per packet, in order) against the
    reference records: time, captured and wire length, and the bytes after
    the transport header. Returns what differs, or None."""
    want = packet_records(records)
    got = [json.loads(line)["payload"] for line in lines if line.strip()]
    if len(got) != len(want):
        return f"{len(got)} packets reached the chef, the reference holds {len(want)}"
    for i, (p, (t, raw, wire)) in enumerate(zip(got, want)):
        if raw is None:
            if round(p["time"] * 1000000) != t:
                return f"packet {i} (base:ipconn): time {p['time']}, the reference {t}"
            continue
        if round(p["time"] * 1000000) != t or p["caplen"] != len(raw) or p["len"] != wire:
            return (f"packet {i}: time {p['time']} caplen {p['caplen']} len {p['len']}, "
                    f"the reference {t} {len(raw)} {wire}")
        pl = p.get("payload")
        if pl and not pl.get("truncated") and not raw.endswith(bytes.fromhex(pl["hex"])):
            return f"packet {i}: the payload bytes differ from the reference"
    return None
