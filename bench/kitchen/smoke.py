# SPDX-License-Identifier: MIT
"""Smoke test of the kitchen benchmark (meson test --suite bench).

usage: smoke.py GENCAP PCAPLOOP ND_SNIFF CHEF.so...

The capture generator must be deterministic (the same count and seed give
the same bytes twice, another seed other bytes), its file must be as long
as its summary says, the raw libpcap loop must read every packet, and the
kitchen's chefs must count on it exactly what the generator says it wrote:
PacketCountChef's totals per layer, one DNSLookupChef dumpling per DNS
message (queries and responses), one HTTPRequestChef dumpling per request
and per response, one TLSClientHelloChef dumpling per ClientHello and per
ServerHello, one ARPChef dumpling per ARP packet."""

import json
import os
import subprocess
import sys
import tempfile

COUNT = 20000


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def gen(gencap, path, seed, count=COUNT):
    summ = path + ".json"
    subprocess.run([gencap, "-n", str(count), "-s", str(seed), "-o", path, "--summary", summ],
                   check=True, timeout=60)
    with open(summ) as f:
        return json.load(f)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    if len(sys.argv) < 5:
        fail(__doc__)
    gencap, pcaploop, nd_sniff = sys.argv[1:4]
    chefs = sys.argv[4:]
    with tempfile.TemporaryDirectory(prefix="nd-bench-smoke-") as d:
        a, b, c = (os.path.join(d, x) for x in ("a.pcap", "b.pcap", "c.pcap"))
        sa = gen(gencap, a, 7)
        sb = gen(gencap, b, 7)
        sc = gen(gencap, c, 8)
        if read(a) != read(b):
            fail("the same count and seed gave different files")
        if sa != sb:
            fail(f"the same count and seed gave different summaries: {sa} / {sb}")
        if read(a) == read(c):
            fail("seeds 7 and 8 gave the same file")
        if sa["packets"] != COUNT or sc["packets"] != COUNT:
            fail(f"asked for {COUNT} packets, the summaries say {sa['packets']}, "
                 f"{sc['packets']}")
        size = os.path.getsize(a)
        if size != 24 + 16 * sa["packets"] + sa["bytes"]:
            fail(f"file of {size} bytes; the summary says {sa['bytes']} bytes of frames")
        # a shorter run is the start of a longer one: the stream does not
        # depend on the count (bench/run reads tshark's slice that way)
        short = os.path.join(d, "short.pcap")
        ss = gen(gencap, short, 7, COUNT // 4)
        if read(a)[:os.path.getsize(short)] != read(short) or ss["packets"] != COUNT // 4:
            fail("a shorter file is not the start of the longer one")
        for k in ("DNS", "TCP", "UDP", "ARP", "ICMP", "ICMPv6", "IPv6", "Raw"):
            if not sa["layers"][k]:
                fail(f"no {k} in the mix: {sa['layers']}")

        r = subprocess.run([pcaploop, a], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail(f"nd-bench-pcaploop exited {r.returncode}: {r.stderr}")
        loop = json.loads(r.stdout)
        if loop["packets"] != sa["packets"] or loop["bytes"] != sa["bytes"]:
            fail(f"nd-bench-pcaploop read {loop}, the summary says {sa}")

        argv = [nd_sniff, "-r", a, "-f", "", "--stdout"]
        for m in chefs:
            argv += ["-m", m]
        for name in ("PacketCountChef", "DNSLookupChef", "HTTPRequestChef",
                     "TLSClientHelloChef", "ARPChef"):
            argv += ["-c", name]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            fail(f"nd-sniff exited {r.returncode}:\n{r.stderr}")
        per_chef = {}
        counts = None
        dns_resp = 0
        for ln in r.stdout.splitlines():
            d_ = json.loads(ln)
            chef = d_["metadata"]["chef"]
            if d_["metadata"]["driver"] == "packet":
                per_chef[chef] = per_chef.get(chef, 0) + 1
                if chef == "DNSLookupChef" and d_["payload"]["lookup"]["is_response"]:
                    dns_resp += 1
            if chef == "PacketCountChef":
                counts = d_["payload"]["packet_counts"]
        if f"nd-sniff: {COUNT} packets ({sa['bytes']} bytes)" not in r.stderr:
            fail(f"nd-sniff's statistics do not say {COUNT} packets:\n{r.stderr}")
        if counts != sa["layers"]:
            fail(f"PacketCountChef counted {counts}, the generator wrote {sa['layers']}")
        want = {"DNSLookupChef": sa["dns_queries"] + sa["dns_responses"],
                "HTTPRequestChef": sa["http_requests"] + sa["http_responses"],
                "TLSClientHelloChef": sa["tls_client_hellos"] + sa["tls_server_hellos"],
                "ARPChef": sa["layers"]["ARP"]}
        for chef, n in want.items():
            if per_chef.get(chef, 0) != n:
                fail(f"{chef}: {per_chef.get(chef, 0)} packet dumplings, expected {n}")
        if dns_resp != sa["dns_responses"]:
            fail(f"DNSLookupChef: {dns_resp} responses, the generator wrote "
                 f"{sa['dns_responses']}")
        print(f"ok: {COUNT} packets, deterministic; layers {counts}; "
              f"dumplings {per_chef}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
