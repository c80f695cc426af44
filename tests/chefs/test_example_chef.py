# SPDX-License-Identifier: MIT
"""The example chef builds out of tree against an installed netdumplings and
runs in the build tree's nd-sniff.

Stages the project's development files (meson install --destdir, tag
devel), builds docs/examples/example-chef with its own Makefile, pointing
pkg-config only at the staged files, then lists the chef with
`nd-sniff --chef-path DIR -l` and replays a capture written here through it
with `-r FILE --stdout -c UDPPortChef`, checking every dumpling.
Exits 77 (skipped) when nd-sniff, make or a C compiler is missing."""

import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402

SKIP = 77
T0 = 1795322030.0


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


# ---------------------------------------------------------------------------
# A capture file of hand-made Ethernet frames

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ether(ethertype, body):
    return bytes.fromhex("020000000002") + bytes.fromhex("020000000001") + \
        struct.pack("!H", ethertype) + body


def ipv4(proto, l4):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0,
                      bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + l4


def udp_frame(sport, dport, payload):
    return ether(0x0800, ipv4(17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
                              + payload))


def tcp_syn_frame(sport, dport):
    return ether(0x0800, ipv4(6, struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4,
                                             0x02, 65535, 0, 0)))


def arp_request_frame():
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, bytes.fromhex("020000000001"),
                       bytes([10, 0, 0, 1]), bytes(6), bytes([10, 0, 0, 2]))
    return ether(0x0806, body)


def dns_query(name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


FRAMES = [
    (T0 + 0.1, udp_frame(40000, 53, dns_query("example.com"))),
    (T0 + 0.2, udp_frame(40001, 123, bytes(48))),
    (T0 + 0.3, udp_frame(40002, 123, bytes(48))),
    (T0 + 0.4, udp_frame(40003, 5000, b"hi")),
    (T0 + 0.5, tcp_syn_frame(40004, 80)),
    (T0 + 0.6, arp_request_frame()),
]
LAST = T0 + 0.6


def write_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, frame in FRAMES:
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


# ---------------------------------------------------------------------------

def run(argv, env=None, timeout=120):
    return subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True)


def stage_install(stage):
    meson = shutil.which("meson")
    cmd = [meson] if meson else [sys.executable, "-m", "mesonbuild.mesonmain"]
    r = run(cmd + ["install", "-C", ndltest.BUILD, "--no-rebuild", "--destdir", stage,
                   "--tags", "devel"])
    if r.returncode != 0:
        ndltest.fail(f"meson install --destdir failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    pcs = glob.glob(os.path.join(stage, "**", "netdumplings-chef.pc"), recursive=True)
    if len(pcs) != 1:
        ndltest.fail(f"expected one netdumplings-chef.pc under the stage, found {pcs}")
    if not glob.glob(os.path.join(stage, "**", "ndl", "chef.h"), recursive=True):
        ndltest.fail("ndl/chef.h was not installed")
    return os.path.dirname(pcs[0])


def build_example(stage, pcdir, srcdir):
    example = os.path.join(ndltest.SOURCE, "docs", "examples", "example-chef")
    for name in ("udpport.c", "Makefile"):
        shutil.copy(os.path.join(example, name), srcdir)
    env = dict(os.environ)
    env["PKG_CONFIG_LIBDIR"] = pcdir      # only the staged files
    env.pop("PKG_CONFIG_PATH", None)
    env["PKG_CONFIG_SYSROOT_DIR"] = stage
    env["CFLAGS"] = "-O2 -g -Werror"
    # The installed header, not the source tree's, must be what compiles.
    r = run(["make", "-C", srcdir, "--no-print-directory"], env=env)
    if r.returncode != 0:
        ndltest.fail(f"make failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    if f"-I{stage}" not in r.stdout:
        ndltest.fail(f"the compile line does not use the staged header:\n{r.stdout}")
    so = os.path.join(srcdir, "udpport.so")
    if not os.path.isfile(so):
        ndltest.fail("make did not produce udpport.so")
    nm = shutil.which("nm")
    if nm:
        out = run([nm, "-D", "--defined-only", so]).stdout.split()
        funcs = [out[i + 2] for i in range(0, len(out) - 2, 3) if out[i + 1] in ("T", "W", "i")]
        if funcs != ["ndl_chef_entry"]:
            ndltest.fail(f"udpport.so exports {funcs}, want only ndl_chef_entry")
    return so


def udp_dumplings(sniff, chefdir, pcap, *extra):
    r = run([sniff, "--chef-path", chefdir, "-c", "UDPPortChef", "-n", "test_kitchen",
             "-r", pcap, "--stdout", *extra], timeout=60)
    if r.returncode != 0:
        ndltest.fail(f"nd-sniff -r exited {r.returncode}:\n{r.stderr}")
    docs = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        try:
            docs.append(json.loads(line))
        except ValueError:
            ndltest.fail(f"nd-sniff --stdout printed a line that is not JSON: {line!r}")
    mine = [d for d in docs if d.get("metadata", {}).get("chef") == "UDPPortChef"]
    if not mine:
        ndltest.fail(f"no UDPPortChef dumplings in:\n{r.stdout}\nstderr:\n{r.stderr}")
    total = {}
    for d in mine:
        md, p = d["metadata"], d["payload"]
        if md.get("driver") != "interval" or md.get("kitchen") != "test_kitchen":
            ndltest.fail(f"unexpected metadata: {md}")
        if set(p) != {"udp_ports", "since", "until"}:
            ndltest.fail(f"unexpected payload keys: {p}")
        if p["udp_ports"]:
            if not (T0 + 0.1 - 1e-3 <= p["since"] <= p["until"] <= LAST + 1e-3):
                ndltest.fail(f"since/until outside the capture's times: {p}")
            if abs(md["creation_time"] - p["until"]) > 1e-3:
                ndltest.fail(f"creation_time is not the interval's end: {d}")
        for port, n in p["udp_ports"].items():
            total[port] = total.get(port, 0) + n
    return total


def main():
    try:
        sniff = ndltest.prog("nd-sniff")
    except FileNotFoundError as e:
        skip(str(e))
    if not shutil.which("make") or not (shutil.which("cc") or os.environ.get("CC")):
        skip("make or cc is not installed")

    with tempfile.TemporaryDirectory(prefix="ndl-example-chef-") as tmp:
        stage = os.path.join(tmp, "stage")
        srcdir = os.path.join(tmp, "udpport")
        pcap = os.path.join(tmp, "udp.pcap")
        os.makedirs(srcdir)
        pcdir = stage_install(stage)
        build_example(stage, pcdir, srcdir)
        write_pcap(pcap)

        r = run([sniff, "--chef-path", srcdir, "-l"], timeout=30)
        if r.returncode != 0:
            ndltest.fail(f"nd-sniff -l exited {r.returncode}:\n{r.stderr}")
        if "UDPPortChef" not in r.stdout:
            ndltest.fail(f"nd-sniff -l does not list UDPPortChef:\n{r.stdout}\n{r.stderr}")

        got = udp_dumplings(sniff, srcdir, pcap)
        if got != {"53": 1, "123": 2, "5000": 1}:
            ndltest.fail(f"UDP ports counted {got}")

        got = udp_dumplings(sniff, srcdir, pcap, "-o", "UDPPortChef.min_packets=2")
        if got != {"123": 2}:
            ndltest.fail(f"with min_packets=2, UDP ports counted {got}")

        r = run([sniff, "--chef-path", srcdir, "-c", "UDPPortChef", "-r", pcap, "--stdout",
                 "-o", "UDPPortChef.min_packets=0"], timeout=30)
        if r.returncode == 0 or "min_packets" not in r.stderr:
            ndltest.fail(f"min_packets=0 was not refused with a message naming it "
                         f"(exit {r.returncode}):\n{r.stderr}")
    print("ok: the example chef builds out of tree and counts UDP ports in nd-sniff")


if __name__ == "__main__":
    main()
