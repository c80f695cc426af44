#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reference tests: the chefs' view of a capture against Wireshark's.

For one case (a capture), run `tshark -T json` and `nd-sniff --stdout` once
each on the same file and compare, field by field and packet by packet:

  dns     DNSLookupChef's lookups: first question's name and type, response
          flag, rcode (extended by OPT, RFC 6891 6.1.3), and for responses
          every answer's name, type, TTL and data
  http    HTTPRequestChef's requests (method, Host, target, User-Agent) and
          responses (status code)
  tls     TLSClientHelloChef's ClientHellos (SNI, ALPN, legacy version,
          cipher suites, extensions, groups, point formats, JA3 string and
          hash) and ServerHellos (chosen version and cipher suite)
  flows   FlowChef's TCP/UDP flows (one run of the chef with the only
          interval at the end of the replay, so every flow is emitted):
          the set of 5-tuples, and per tuple and direction the packets,
          bytes and TCP flags
  packets IPConnChef's dumplings: one per TCP/UDP packet, in capture order,
          with its time, protocol, addresses and ports

Every compared item is matched by capture time and order, and each case
states how many items of each kind it must compare, so a comparison cannot
pass by both sides dropping the same packets.

How the two decoders are aligned, and why:

* Both see every packet: nd-sniff runs with `-f ""` (its default filter
  "tcp or udp or arp" would hide, for one, IPv6 TCP behind extension
  headers, which BPF's "tcp" does not match); tshark has no filter.
* tshark runs with TCP reassembly, IP defragmentation, DNS/HTTP/TLS
  desegmentation and TCP sequence analysis off: the kitchen decodes one
  packet at a time and never reassembles, so the reference must too. A
  message spanning two segments is therefore compared as the kitchen sees
  it: the first segment alone.
* A packet's transport is the one right after its first (outer) IP header,
  as the kitchen decodes it. Inside tunnels (GRE, VXLAN, IP-in-IP) and
  inside ICMP errors tshark shows further TCP/UDP headers; they are not the
  packet's transport for either side (FlowChef and IPConnChef treat a
  tunnel as its outer flow).
* DNS: the kitchen reads DNS on UDP port 53 or 5353 and TCP port 53 (one
  message per segment, after the RFC 7766 length); tshark also tries DNS
  heuristically on any UDP port. Only packets on the kitchen's ports are
  compared, where tshark must agree that they are DNS. tshark calls port
  5353 mDNS; its fields are the same.
* HTTP and TLS: both parse a start line or hello at the start of any TCP
  segment (tshark through its heuristic dissectors). Only the first
  message of a segment is compared: the chefs read one message per
  segment, tshark goes on to pipelined ones.
* tshark's own personal preferences are not read (an empty
  WIRESHARK_CONFIG_DIR), so a developer's settings cannot change a result.

Run: reference.py CASE   (CASE names an entry of CASES below)
Exit 0 when everything matches, 1 with every difference listed, 77 (skip)
when tshark is missing on a developer machine; in CI (CI=true) a missing
tshark fails.
"""

import decimal
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import ndltest  # noqa: E402

SKIP = 77

# Each case: its capture (captures/NAME in tests/, or shared/NAME in the
# tcpdump captures folder) and the exact number of items each comparison
# must see. The counts were read off tshark for the capture.
CASES = {
    # This project's captures (tests/captures/README.md).
    "dns-lo": ("captures/dns-lo.pcap", dict(dns=18, http=0, tls=0, flows=9, packets=26)),
    "http-lo": ("captures/http-lo.pcap", dict(dns=0, http=4, tls=0, flows=2, packets=24)),
    "tls-lo": ("captures/tls-lo.pcap", dict(dns=0, http=0, tls=4, flows=2, packets=30)),
    "demo": ("captures/demo.pcap", dict(dns=18, http=4, tls=0, flows=11, packets=50)),
    "resolve-lo": ("captures/resolve-lo.pcap", dict(dns=2, http=2, tls=0, flows=2, packets=15)),
    # tcpdump's DNS captures: UDP, TCP (one message per segment), DNSSEC
    # records, EDNS options, a URI record, extended RCODEs from OPT, and a
    # question tshark cannot name (a reserved label type).
    "dns-udp": ("shared/dns_udp.pcap", dict(dns=2, http=0, tls=0, flows=1, packets=2)),
    "dns-tcp": ("shared/dns_tcp.pcap", dict(dns=2, http=0, tls=0, flows=1, packets=11)),
    "dnssec": ("shared/dnssec.pcap", dict(dns=6, http=0, tls=0, flows=3, packets=6)),
    "edns-opts": ("shared/edns-opts.pcap", dict(dns=42, http=0, tls=0, flows=1, packets=42)),
    "dns-uri": ("shared/dns-uri.pcap", dict(dns=4, http=0, tls=0, flows=2, packets=4)),
    "dns-badvers": ("shared/dns-badvers.pcap", dict(dns=4, http=0, tls=0, flows=2, packets=4)),
    "dns-badcookie": ("shared/dns-badcookie.pcap", dict(dns=4, http=0, tls=0, flows=2, packets=4)),
    "dns-badlabel": ("shared/dns-badlabel.pcap", dict(dns=1, http=0, tls=0, flows=1, packets=1)),
    # HTTP with an absolute-form target, as sent to a proxy.
    "http-xml": ("shared/ipv4_tcp_http_xml.pcap", dict(dns=0, http=1, tls=0, flows=1, packets=1)),
    # IPv6: TCP (pcapng), UDP behind a routing header, a jumbogram behind
    # hop-by-hop options, UDP carrying VXLAN (the outer flow counts), UDP
    # carrying sFlow samples of other packets, and link-local UDP.
    "bgp-ipv6": ("shared/bgp-enhanced-route-refresh-subtype.pcapng",
                 dict(dns=0, http=0, tls=0, flows=1, packets=3)),
    "ipv6-rthdr": ("shared/ipv6-routing-header.pcap", dict(dns=0, http=0, tls=0, flows=2, packets=2)),
    "bigtcp-ipv6-hbh": ("shared/bigtcp-ipv6-hbh.pcap", dict(dns=0, http=0, tls=0, flows=1, packets=1)),
    "gso-ipv6-vxlan": ("shared/gso-ipv6-vxlan-ipv4.pcap", dict(dns=0, http=0, tls=0, flows=1, packets=1)),
    "sflow-ipv6": ("shared/sflow-print-v6.pcap", dict(dns=0, http=0, tls=0, flows=1, packets=25)),
    "quic-ipv6": ("shared/quic_vn.pcap", dict(dns=0, http=0, tls=0, flows=1, packets=25)),
    "babel-ipv6": ("shared/babel_rfc6126bis.pcap", dict(dns=0, http=0, tls=0, flows=2, packets=130)),
    # pcap's unsigned 32-bit seconds past 2038, up to their last second in 2106.
    "time-2038": ("shared/time_2038_overflow.pcap", dict(dns=1, http=0, tls=0, flows=1, packets=1)),
    "time-2106": ("shared/time_2106_max.pcap", dict(dns=1, http=0, tls=0, flows=1, packets=1)),
}


# ---------------------------------------------------------------------------
# tshark
# ---------------------------------------------------------------------------

class Tree(list):
    """A JSON object from tshark as its list of (key, value) pairs: tshark
    repeats keys (every cipher suite is "tls.handshake.ciphersuite")."""

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default

    def all(self, key):
        return [v for k, v in self if k == key]


def find_all(node, key):
    """Every value of key anywhere under node, in document (wire) order."""
    out = []
    if isinstance(node, Tree):
        for k, v in node:
            if k == key:
                out.append(v)
            out.extend(find_all(v, key))
    elif isinstance(node, list):
        for v in node:
            out.extend(find_all(v, key))
    return out


def find_first(node, key, default=None):
    found = find_all(node, key)
    return found[0] if found else default


TSHARK_PREFS = {
    "ip.defragment": "FALSE",
    "ipv6.defragment": "FALSE",
    "tcp.desegment_tcp_streams": "FALSE",
    "tcp.analyze_sequence_numbers": "FALSE",
    "dns.desegment_dns_messages": "FALSE",
    "http.desegment_headers": "FALSE",
    "http.desegment_body": "FALSE",
    "tls.desegment_ssl_records": "FALSE",
}
TSHARK_LAYERS = "frame ip ipv6 tcp udp dns mdns http tls"


def run_tshark(tshark, pcap):
    argv = [tshark, "-n", "-r", pcap, "-T", "json", "-J", TSHARK_LAYERS]
    for k, v in TSHARK_PREFS.items():
        argv += ["-o", f"{k}:{v}"]
    with tempfile.TemporaryDirectory() as conf:
        env = dict(os.environ, WIRESHARK_CONFIG_DIR=conf, HOME=conf)
        r = subprocess.run(argv, capture_output=True, timeout=120, env=env)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n"
                             + r.stderr.decode("utf-8", "replace"))
    return [Packet(p.get("_source").get("layers"))
            for p in json.loads(r.stdout, object_pairs_hook=Tree)]


def ns_to_us(text):
    """tshark's "1795325214.758795000" as integer microseconds, truncated
    toward zero as the kitchen writes times."""
    sec, _, frac = text.partition(".")
    frac = (frac + "000000000")[:9]
    return int(sec) * 1000000 + int(frac) // 1000


class Packet:
    """One frame as tshark decodes it, reduced to what is compared."""

    def __init__(self, layers):
        self.layers = layers
        frame = layers.get("frame")
        self.number = int(frame.get("frame.number"))
        self.time = ns_to_us(frame.get("frame.time_epoch"))
        self.wirelen = int(frame.get("frame.len"))
        self.protocols = frame.get("frame.protocols").split(":")
        self.tuple = None        # (proto, src, sport, dst, dport)
        self.transport = None    # "tcp" or "udp": the tuple's transport
        self.app = None          # the protocol right after that transport
        self.tcp_flags = 0
        self._outer_transport()

    def _outer_transport(self):
        protos = self.protocols
        first_ip = next((i for i, p in enumerate(protos) if p in ("ip", "ipv6")), None)
        if first_ip is None:
            return
        j = first_ip + 1
        while j < len(protos) and protos[j].startswith("ipv6."):   # extension headers
            j += 1
        if j >= len(protos) or protos[j] not in ("tcp", "udp"):
            return
        ip = self.layers.get(protos[first_ip])
        tp = self.layers.get(protos[j])
        if ip is None or tp is None:
            return
        pfx = "ip" if protos[first_ip] == "ip" else "ipv6"
        src, dst = ip.get(pfx + ".src"), ip.get(pfx + ".dst")
        sport, dport = tp.get(protos[j] + ".srcport"), tp.get(protos[j] + ".dstport")
        if None in (src, dst, sport, dport):
            return
        self.tuple = (protos[j], src, int(sport), dst, int(dport))
        self.transport = protos[j]
        if protos[j] == "tcp":
            self.tcp_flags = int(tp.get("tcp.flags", "0"), 16)
        self.app = protos[j + 1] if j + 1 < len(protos) else None


# ---------------------------------------------------------------------------
# nd-sniff
# ---------------------------------------------------------------------------

CHEFS = ["DNSLookupChef", "HTTPRequestChef", "TLSClientHelloChef", "FlowChef", "IPConnChef"]
# One interval, the one at the end of the replay (the poke interval is longer
# than the capture), with every flow still open flushed then; timeouts long
# enough that a flow ends only by closing (see docs/chefs/FlowChef.md).
FLOW_OPTIONS = ["FlowChef.flush_on_interval=true", "FlowChef.idle_timeout=604800",
                "FlowChef.active_timeout=2592000"]
POKE = 86400


def run_sniff(pcap):
    argv = [ndltest.prog("nd-sniff"), "--stdout", "-q", "-n", "reference", "-r", pcap,
            "-f", "", "-p", str(POKE)]
    for c in CHEFS:
        argv += ["-c", c]
    for o in FLOW_OPTIONS:
        argv += ["-o", o]
    r = subprocess.run(argv, capture_output=True, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n{err}")
    reports = ndltest.sanitizer_reports(err)
    if reports:
        raise AssertionError(f"sanitizer report from {' '.join(argv)}:\n{err}")
    out = {c: [] for c in CHEFS}
    for line in r.stdout.decode("utf-8").splitlines():
        d = json.loads(line, parse_float=decimal.Decimal)
        out[d["metadata"]["chef"]].append((d["metadata"], d["payload"]))
    return out


def us(t):
    """A time the kitchen wrote (seconds with six decimals) in microseconds."""
    return int(decimal.Decimal(t) * 1000000)


# ---------------------------------------------------------------------------
# Comparisons. Each returns (items compared, [differences]).
# ---------------------------------------------------------------------------

def diff_lists(what, ours, theirs):
    """Differences between two lists of records compared in order."""
    diffs = []
    for i in range(max(len(ours), len(theirs))):
        a = ours[i] if i < len(ours) else None
        b = theirs[i] if i < len(theirs) else None
        if a != b:
            diffs.append(f"{what} #{i}:\n    nd-sniff: {a}\n    tshark:   {b}")
    if len(ours) != len(theirs):
        diffs.append(f"{what}: nd-sniff has {len(ours)}, tshark {len(theirs)}")
    return diffs


def compare_packets(pkts, sniff):
    """IPConnChef: exactly one dumpling per TCP/UDP packet, in capture order."""
    theirs = [(p.time, IP_PROTO[p.tuple[0]]) + p.tuple[1:] for p in pkts if p.tuple]
    ours = [(us(d["time"]), d["proto"], d["srcip"], d["srcport"], d["dstip"], d["dstport"])
            for _, d in sniff["IPConnChef"]]
    return len(theirs), diff_lists("ipconn packet", ours, theirs)


IP_PROTO = {"tcp": 6, "udp": 17}
TCP_FLAG_LETTERS = "FSRPAUEC"    # FlowChef's order: bit 0 FIN ... bit 7 CWR


def flag_letters(bits):
    return "".join(c for i, c in enumerate(TCP_FLAG_LETTERS) if bits & (1 << i))


def canonical(proto, a, b):
    """(proto, lower endpoint, higher endpoint) and whether a is the lower."""
    ka, kb = (a[0], a[1]), (b[0], b[1])
    lo_first = _addr_key(ka) <= _addr_key(kb)
    return ((proto,) + ((ka, kb) if lo_first else (kb, ka))), lo_first


def _addr_key(ep):
    ip = ipaddress.ip_address(ep[0])
    return (ip.version, ip.packed, ep[1])


def compare_flows(pkts, sniff):
    """FlowChef: the set of TCP/UDP 5-tuples, both directions as one flow,
    and per direction of each the packets, bytes (frame length) and TCP
    flags, summed over the flow's records (a TCP connection closed and
    opened again on the same ports is two records of one tuple)."""
    theirs = {}
    for p in pkts:
        if not p.tuple:
            continue
        proto, s, sp, d, dp = p.tuple
        key, fwd = canonical(proto, (s, sp), (d, dp))
        st = theirs.setdefault(key, [[0, 0, 0], [0, 0, 0]])
        side = st[0 if fwd else 1]
        side[0] += 1
        side[1] += p.wirelen
        side[2] |= p.tcp_flags & 0xff
    ours = {}
    for _, f in sniff["FlowChef"]:
        if "proto" not in f or f["proto"] not in ("tcp", "udp"):
            continue
        c, s = f["client"], f["server"]
        key, fwd = canonical(f["proto"], (c["ip"], c["port"]), (s["ip"], s["port"]))
        st = ours.setdefault(key, [[0, 0, 0], [0, 0, 0]])
        for side, dirn in ((st[0 if fwd else 1], "client_to_server"),
                           (st[1 if fwd else 0], "server_to_client")):
            side[0] += f[dirn]["packets"]
            side[1] += f[dirn]["bytes"]
            if f["proto"] == "tcp":
                side[2] |= sum(1 << TCP_FLAG_LETTERS.index(ch) for ch in f[dirn]["tcp_flags"])

    def show(st):
        return " | ".join(f"{n} pkts {b} bytes {flag_letters(fl)}" for n, b, fl in st)

    diffs = []
    for key in sorted(set(theirs) | set(ours), key=str):
        a, b = ours.get(key), theirs.get(key)
        if a != b:
            diffs.append(f"flow {key}:\n    nd-sniff: {a and show(a)}\n    tshark:   {b and show(b)}")
    return len(theirs), diffs


# DNS RR TYPE mnemonics, from IANA's "Resource Record (RR) TYPEs" registry
# (RFC 6895); ANY for 255 as RFC 8482 writes it.
DNS_TYPES = {
    1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
    10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT",
    17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR",
    24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT",
    31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT",
    38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP",
    45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
    51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY",
    58: "TALINK", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD",
    64: "SVCB", 65: "HTTPS", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID",
    103: "UNSPEC", 104: "NID", 105: "L32", 106: "L64", 107: "LP", 108: "EUI48",
    109: "EUI64", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB",
    254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 258: "AVC", 259: "DOA",
    260: "AMTRELAY", 32768: "TA", 32769: "DLV",
}
# DNS RCODEs from IANA's registry (RFC 6895 section 2.3); 16 is BADVERS in
# an OPT record's extended RCODE (BADSIG belongs to TSIG's own field).
DNS_RCODES = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
    6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE",
    11: "DSOTYPENI", 16: "BADVERS", 23: "BADCOOKIE",
}


def dns_type(n):
    n = int(n)
    return DNS_TYPES.get(n, f"TYPE{n}")


def dns_name(s):
    return "" if s == "<Root>" else s


def dns_rdata(rr, rtype):
    """The answer's data the way DNSLookupChef documents it, from tshark."""
    if rtype == 1:
        return rr.get("dns.a")
    if rtype == 28:
        return rr.get("dns.aaaa")
    if rtype == 5:
        return dns_name(rr.get("dns.cname"))
    if rtype == 2:
        return dns_name(rr.get("dns.ns"))
    if rtype == 12:
        return dns_name(rr.get("dns.ptr.domain_name"))
    if rtype == 39:
        return dns_name(rr.get("dns.dname"))
    if rtype == 15:
        return f"{rr.get('dns.mx.preference')} {dns_name(rr.get('dns.mx.mail_exchange'))}"
    if rtype == 16:
        return " ".join(rr.all("dns.txt"))
    return ""


def kitchen_reads_dns(p):
    proto, _, sport, _, dport = p.tuple
    ports = {sport, dport}
    return (proto == "udp" and ports & {53, 5353}) or (proto == "tcp" and 53 in ports)


def unreadable_name(name):
    """tshark's placeholders for a name it could not read ("<Name too long>",
    "<Unknown extended label>"); "<Root>" is the root, a real name."""
    return name.startswith("<") and name.endswith(">") and name != "<Root>"


def compare_dns(pkts, sniff):
    theirs = []
    unreadable = 0
    for p in pkts:
        if not p.tuple or not kitchen_reads_dns(p):
            continue
        dns = p.layers.get("dns") or p.layers.get("mdns")
        if dns is None:
            continue
        queries = dns.get("Queries")
        if not queries:
            continue
        q = queries[0][1]
        if unreadable_name(q.get("dns.qry.name")):
            # tshark could not read the question's name (a reserved label
            # type, a pointer out of the message) and shows a placeholder
            # in its place; the kitchen reads no question there (RFC 1035
            # 4.1.4 allows only labels and pointers), so DNSLookupChef must
            # report nothing for this message: it is left out of the
            # expected list, and an extra dumpling would show as a difference.
            unreadable += 1
            continue
        flags = dns.get("dns.flags_tree")
        response = flags.get("dns.flags.response") == "1"
        rec = {"when": p.time, "hostname": dns_name(q.get("dns.qry.name")),
               "qtype": dns_type(q.get("dns.qry.type")), "is_response": response,
               "rcode": None}
        if response:
            rcode = int(flags.get("dns.flags.rcode"))
            for _, add in (dns.get("Additional records") or []):
                if add.get("dns.resp.type") == "41":
                    rcode |= int(add.get("dns.resp.ext_rcode"), 16) << 4
                    break
            rec["rcode"] = DNS_RCODES.get(rcode, rcode)
            answers = []
            for _, rr in (dns.get("Answers") or [])[:32]:
                rtype = int(rr.get("dns.resp.type"))
                answers.append({"name": dns_name(rr.get("dns.resp.name")),
                                "type": dns_type(rtype), "ttl": int(rr.get("dns.resp.ttl")),
                                "data": dns_rdata(rr, rtype)})
            rec["answers"] = answers
        theirs.append(rec)
    ours = []
    for _, d in sniff["DNSLookupChef"]:
        if "lookup" not in d:
            continue
        d = dict(d["lookup"])
        d["when"] = us(d["when"])
        ours.append(d)
    if unreadable:
        print(f"  dns: {unreadable} message(s) whose question tshark could not name;"
              " nd-sniff must report none")
    return len(theirs) + unreadable, diff_lists("dns message", ours, theirs)


def start_line(http, field):
    """The subtree of tshark's HTTP layer holding the start line's fields."""
    return next((v for _, v in http if isinstance(v, Tree) and v.get(field) is not None), None)


def compare_http(pkts, sniff):
    theirs = []
    for p in pkts:
        if p.transport != "tcp" or p.app != "http":
            continue
        http = p.layers.get("http")     # the first message of the segment
        if http.get("http.request") == "1":
            line = start_line(http, "http.request.method")
            theirs.append({"kind": "request", "time": p.time,
                           "method": line.get("http.request.method"),
                           "uri": line.get("http.request.uri"),
                           "http_version": line.get("http.request.version").split("/")[1],
                           "host": http.get("http.host"),
                           "user_agent": http.get("http.user_agent"),
                           "referer": http.get("http.referer")})
        elif http.get("http.response") == "1":
            line = start_line(http, "http.response.code")
            theirs.append({"kind": "response", "time": p.time,
                           "status": int(line.get("http.response.code")),
                           "reason": line.get("http.response.phrase", ""),
                           "content_type": http.get("http.content_type")})
    ours = []
    keys = {"request": ["method", "uri", "http_version", "host", "user_agent", "referer"],
            "response": ["status", "reason", "content_type"]}
    for _, d in sniff["HTTPRequestChef"]:
        rec = {"kind": d["kind"], "time": us(d["time"])}
        rec.update({k: d[k] for k in keys[d["kind"]]})
        ours.append(rec)
    return len(theirs), diff_lists("http message", ours, theirs)


TLS_VERSIONS = {0x0304: "TLS 1.3", 0x0303: "TLS 1.2", 0x0302: "TLS 1.1",
                0x0301: "TLS 1.0", 0x0300: "SSL 3.0"}


def tls_version(n):
    return TLS_VERSIONS.get(n, f"0x{n:04x}")


def is_grease(n):
    """RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa."""
    return (n & 0x0f0f) == 0x0a0a and (n >> 8) == (n & 0xff)


def ja3_of(version, ciphers, extensions, groups, formats):
    """JA3 from the hello's fields: GREASE out, decimal lists joined by '-'."""
    def j(xs):
        return "-".join(str(x) for x in xs if not is_grease(x))
    return ",".join([str(version), j(ciphers), j(extensions), j(groups), j(formats)])


def compare_tls(pkts, sniff):
    theirs = []
    ja3_source = None
    for p in pkts:
        if p.transport != "tcp" or p.app != "tls":
            continue
        tls = p.layers.get("tls")
        record = tls.get("tls.record")
        hs = record.get("tls.handshake") if isinstance(record, Tree) else None
        if not isinstance(hs, Tree):
            continue
        htype = hs.get("tls.handshake.type")
        ints = lambda key: [int(v, 0) for v in find_all(hs, key)]  # noqa: E731
        if htype == "1":
            legacy = int(hs.get("tls.handshake.version"), 16)
            ciphers = ints("tls.handshake.ciphersuite")
            exts = ints("tls.handshake.extension.type")
            groups = ints("tls.handshake.extensions_supported_group")
            formats = ints("tls.handshake.extensions_ec_point_format")
            ja3 = hs.get("tls.handshake.ja3_full")
            if ja3 is None:
                ja3_source = "built from tshark's lists"
                ja3 = ja3_of(legacy, ciphers, exts, groups, formats)
                ja3_hash = hashlib.md5(ja3.encode()).hexdigest()
            else:
                ja3_source = "tshark's tls.handshake.ja3_full"
                ja3_hash = hs.get("tls.handshake.ja3")
            offered = [v for v in ints("tls.handshake.extensions.supported_version")
                       if not is_grease(v)]
            theirs.append({"kind": "client_hello", "time": p.time,
                           "sni": find_first(hs, "tls.handshake.extensions_server_name"),
                           "version": tls_version(max(offered) if offered else legacy),
                           "legacy_version": tls_version(legacy),
                           "alpn": find_all(hs, "tls.handshake.extensions_alpn_str"),
                           "ciphers": ciphers, "extensions": exts, "groups": groups,
                           "point_formats": formats, "ja3": ja3, "ja3_hash": ja3_hash})
        elif htype == "2":
            chosen = find_first(hs, "tls.handshake.extensions.supported_version")
            version = int(chosen or hs.get("tls.handshake.version"), 16)
            theirs.append({"kind": "server_hello", "time": p.time,
                           "version": tls_version(version),
                           "cipher": int(hs.get("tls.handshake.ciphersuite"), 16)})
    ours = []
    keys = {"client_hello": ["sni", "version", "legacy_version", "alpn", "ciphers", "extensions",
                             "groups", "point_formats", "ja3", "ja3_hash"],
            "server_hello": ["version", "cipher"]}
    for _, d in sniff["TLSClientHelloChef"]:
        rec = {"kind": d["kind"], "time": us(d["time"])}
        rec.update({k: d[k] for k in keys[d["kind"]]})
        ours.append(rec)
    if ja3_source:
        print(f"  JA3 reference: {ja3_source}")
    return len(theirs), diff_lists("tls hello", ours, theirs)


COMPARISONS = [("dns", compare_dns), ("http", compare_http), ("tls", compare_tls),
               ("flows", compare_flows), ("packets", compare_packets)]


def case_input(ref):
    kind, _, name = ref.partition("/")
    if kind == "captures":
        return os.path.join(HERE, "..", "captures", name)
    if not ndltest.SHARED_PCAPS or not os.path.isdir(ndltest.SHARED_PCAPS):
        return None
    return os.path.join(ndltest.SHARED_PCAPS, name)


def main(argv):
    if len(argv) != 1 or argv[0] not in CASES:
        print(__doc__, file=sys.stderr)
        print(f"cases: {' '.join(CASES)}", file=sys.stderr)
        return 2
    name = argv[0]
    ref, expected = CASES[name]
    tshark = shutil.which("tshark")
    if tshark is None:
        if os.environ.get("CI") == "true":
            print("FAIL: tshark is not installed (scripts/deps.sh installs it)")
            return 1
        print("SKIP: tshark is not installed")
        return SKIP
    pcap = case_input(ref)
    if pcap is None:
        print("SKIP: the tcpdump captures folder is not there")
        return SKIP

    pkts = run_tshark(tshark, pcap)
    times = [p.time for p in pkts]
    if times and max(times) - min(times) >= POKE * 1000000:
        print(f"FAIL: {ref} spans more than {POKE} s; FlowChef would see more than one interval")
        return 1
    sniff = run_sniff(pcap)

    failed = False
    summary = []
    for area, fn in COMPARISONS:
        n, diffs = fn(pkts, sniff)
        summary.append(f"{area} {n}")
        if diffs:
            failed = True
            print(f"FAIL {name} {area}: {len(diffs)} differences")
            for d in diffs[:40]:
                print("  " + d)
        if n != expected[area]:
            failed = True
            print(f"FAIL {name} {area}: compared {n}, the case expects {expected[area]}")
    print(f"{'FAIL' if failed else 'ok'} {name} ({ref}): " + ", ".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
