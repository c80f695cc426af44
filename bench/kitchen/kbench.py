# SPDX-License-Identifier: MIT
"""The kitchen benchmark (bench/README.md, "Kitchen"): offline throughput of
nd-sniff against a raw libpcap loop, tcpdump and tshark; memory over a long
replay and at rest; live capture through a veth pair in network namespaces,
with tcpreplay; profiles with perf. bench/run calls run() and prints the
rows it returns in its one table."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fanout"))
import benchlib  # noqa: E402

# The DNS fields DNSLookupChef reports (name, type, response flag, rcode,
# and the answers' names, types, TTLs and data), asked of tshark.
TSHARK_DNS_FIELDS = ["frame.time_epoch", "dns.qry.name", "dns.qry.type", "dns.flags.response",
                     "dns.flags.rcode", "dns.resp.name", "dns.resp.type", "dns.resp.ttl",
                     "dns.a", "dns.aaaa", "dns.cname", "dns.mx.mail_exchange", "dns.txt"]

STATS_RE = re.compile(r"nd-sniff: (\d+) packets \((\d+) bytes\), (\d+) dumplings")
KDROP_RE = re.compile(r"(\d+) packets dropped by the kernel")


def step(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


GNU_TIME = "/usr/bin/time"


class Timed:
    """One finished run of a program: wall seconds, CPU seconds, peak RSS.

    The peak RSS comes from GNU time (Debian package time) when it is there:
    the rusage of a child forked from this Python process would report the
    Python process's own size when that is larger than the program's."""

    def __init__(self, argv, *, stdin=None, stdout=subprocess.DEVNULL, env=None):
        err = tempfile.TemporaryFile()
        rss_file = None
        run = list(argv)
        if os.access(GNU_TIME, os.X_OK):
            fd, rss_file = tempfile.mkstemp(prefix="nd-bench-rss-")
            os.close(fd)
            run = [GNU_TIME, "-q", "-f", "%M", "-o", rss_file] + run
        t0 = time.monotonic()
        p = subprocess.Popen(run, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                             stdout=stdout, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        self.wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        self.rc = p.returncode
        self.cpu = ru.ru_utime + ru.ru_stime
        self.maxrss_kb = ru.ru_maxrss
        if rss_file:
            try:
                with open(rss_file) as f:
                    self.maxrss_kb = int(f.read().split()[-1])
            except (OSError, ValueError, IndexError):
                pass
            os.unlink(rss_file)
        err.seek(0)
        self.stderr = err.read().decode(errors="replace")
        err.close()
        if self.rc != 0:
            raise RuntimeError(f"{' '.join(argv)} exited with {self.rc}:\n{self.stderr[-2000:]}")


def best_of(n, argv, **kw):
    """The fastest of n runs (least wall time): the one least disturbed."""
    runs = [Timed(argv, **kw) for _ in range(n)]
    return min(runs, key=lambda r: r.wall), [round(r.wall, 4) for r in runs]


def kitchen_packets(stderr):
    m = STATS_RE.search(stderr)
    return int(m.group(1)) if m else None


def generate(paths, workdir, count, seed, name):
    """Write name.pcap of count packets; returns (path, summary dict)."""
    pcap = os.path.join(workdir, f"{name}.pcap")
    summ = os.path.join(workdir, f"{name}.json")
    t0 = time.monotonic()
    subprocess.run([paths["gencap"], "-n", str(count), "-s", str(seed), "-o", pcap,
                    "--summary", summ], check=True)
    with open(summ) as f:
        s = json.load(f)
    s["gen_seconds"] = round(time.monotonic() - t0, 3)
    return pcap, s


# bench/run's --kitchen-arg: given to every nd-sniff
KITCHEN_ARGS = []


def kitchen_argv(paths, chefs, pcap, extra=()):
    argv = [paths["nd-sniff"], "-r", pcap, "-f", ""]
    for c in chefs:
        argv += ["-c", c]
    return argv + list(extra) + KITCHEN_ARGS


CHEF_SETS = [("PacketCountChef", ["PacketCountChef"]),
             ("DNSLookupChef", ["DNSLookupChef"]),
             ("all built-in chefs", [])]


# -------------------------------------------------------------------------
# Offline throughput
# -------------------------------------------------------------------------

def offline(a, paths, big, summ, tshark_pcap, tshark_summ):
    """Packets per second of every reader over the same file, best of a.repeat."""
    n = summ["packets"]
    res = {}
    step(f"offline: libpcap loop, {n:,} packets")
    r, walls = best_of(a.repeat, [paths["pcaploop"], big], stdout=subprocess.PIPE)
    res["libpcap"] = {"packets": n, "wall_s": r.wall, "cpu_s": r.cpu, "walls": walls,
                      "maxrss_kb": r.maxrss_kb}
    if shutil.which("tcpdump"):
        step("offline: tcpdump -r FILE -w /dev/null")
        r, walls = best_of(a.repeat, ["tcpdump", "-r", big, "-w", "/dev/null"])
        res["tcpdump"] = {"packets": n, "wall_s": r.wall, "cpu_s": r.cpu, "walls": walls,
                          "maxrss_kb": r.maxrss_kb}
    else:
        step("tcpdump is not installed (Debian: tcpdump): left out")
    if shutil.which("tshark"):
        tn = tshark_summ["packets"]
        step(f"offline: tshark -T fields (DNS fields), {tn:,} packets")
        argv = ["tshark", "-n", "-r", tshark_pcap, "-T", "fields", "-Y", "dns"]
        for fld in TSHARK_DNS_FIELDS:
            argv += ["-e", fld]
        out = tempfile.TemporaryFile()
        r = Timed(argv, stdout=out)
        out.seek(0)
        lines = sum(1 for _ in out)
        out.close()
        res["tshark"] = {"packets": tn, "wall_s": r.wall, "cpu_s": r.cpu, "lines": lines,
                         "maxrss_kb": r.maxrss_kb, "slice": tn < n,
                         "dns_messages": tshark_summ["layers"]["DNS"]}
    else:
        step("tshark is not installed (Debian: tshark): left out")
    def to_stdout(label, chefs, extra=()):
        step(f"offline: nd-sniff, {label}")
        r, walls = best_of(a.repeat, kitchen_argv(paths, chefs, big,
                                                  ["--stdout", *extra]))
        got = kitchen_packets(r.stderr)
        if got != n:
            raise RuntimeError(f"nd-sniff ({label}) read {got} packets of {n}")
        out = {"packets": n, "wall_s": r.wall, "cpu_s": r.cpu, "walls": walls,
               "maxrss_kb": r.maxrss_kb,
               "dumplings": int(STATS_RE.search(r.stderr).group(3))}
        threads = thread_cpu(r.stderr)
        if threads:
            out["threads_cpu_s"] = threads
        return out

    for label, chefs in CHEF_SETS:
        res["kitchen " + label] = to_stdout(label, chefs, ["-v"] if not chefs else [])
    # What more CPUs would give: with THREADS_PROJECTED chef threads the
    # kitchen can go no faster than its busiest thread, even with a CPU for
    # each (on fewer CPUs the threads share them, which makes this figure
    # pessimistic, never flattering).
    r = to_stdout(f"all built-in chefs, {THREADS_PROJECTED} chef threads",
                  [], ["-v", "--chef-threads", str(THREADS_PROJECTED)])
    if r.get("threads_cpu_s"):
        busiest = max(r["threads_cpu_s"], key=r["threads_cpu_s"].get)
        r["busiest"] = busiest
        r["busiest_cpu_s"] = r["threads_cpu_s"][busiest]
        r["projected_pps"] = n / r["busiest_cpu_s"]
        res[f"kitchen all built-in chefs, {THREADS_PROJECTED} threads"] = r
    # Each chef of the all-chefs set alone: a chef thread runs one chef's
    # packets in order, so the slowest of them bounds the set on any
    # number of CPUs.
    alone = {chef: to_stdout(f"{chef} alone", [chef]) for chef in default_chefs(paths)}
    if alone:
        slowest = max(alone, key=lambda c: alone[c]["wall_s"])
        res["kitchen slowest chef alone"] = dict(alone[slowest], chef=slowest)
        res["chefs alone"] = {c: round(n / v["wall_s"]) for c, v in alone.items()}
    if not a.skip_hub_path:
        for label, chefs in CHEF_SETS[1:]:
            step(f"offline: nd-sniff -> nd-hub (no eaters), {label}")
            hub, pin, _ = benchlib.start_hub("ours", nd_hub=paths["nd-hub"])
            try:
                r, walls = best_of(a.repeat, kitchen_argv(
                    paths, chefs, big, ["-h", f"127.0.0.1:{pin}", "--no-reconnect"]))
            finally:
                hub_rss = rss_kb(hub.pid)
                # the hub shares the machine's CPUs: what it took, a run
                hub_cpu = cpu_s_of(hub.pid)
                hub.close()
            m = STATS_RE.search(r.stderr)
            res["hub " + label] = {"packets": n, "wall_s": r.wall, "cpu_s": r.cpu,
                                   "walls": walls, "maxrss_kb": r.maxrss_kb,
                                   "dumplings": int(m.group(3)) if m else None,
                                   "hub_rss_kb_after": hub_rss,
                                   "hub_cpu_s": hub_cpu / a.repeat if hub_cpu else None}
    for k, v in res.items():
        if k != "chefs alone":
            v["pps"] = v["packets"] / v["wall_s"]
    return res


# chef threads (the caller's included) for the projection to more CPUs
THREADS_PROJECTED = 4
THREAD_CPU_RE = re.compile(r"CPU seconds by thread: (.*) \(")


def thread_cpu(stderr):
    """nd-sniff -v's CPU seconds by thread, as {thread: seconds}, or None."""
    m = THREAD_CPU_RE.search(stderr)
    if not m:
        return None
    out = {}
    for part in m.group(1).split(", "):
        name, _, secs = part.rpartition(" ")
        out[name] = float(secs)
    return out


def default_chefs(paths):
    """The chefs a kitchen runs without -c (the all-chefs set), by name."""
    out = subprocess.run([paths["nd-sniff"], "-l"] + KITCHEN_ARGS, capture_output=True,
                         text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines()
            if line and not line[0].isspace() and "(opt-in" not in line]


# -------------------------------------------------------------------------
# Memory
# -------------------------------------------------------------------------

def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith(field + ":"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return None


def cpu_s_of(pid):
    """CPU seconds (user and system) a running process has used, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def rss_parts_kb(pid):
    """What a process's RSS is made of: private anonymous memory, mapped
    files (shared libraries, mostly shared with other processes) and
    mapped sockets (a live capture's packet ring)."""
    out = {"anon": status_kb(pid, "RssAnon"), "file": status_kb(pid, "RssFile"), "ring": 0}
    try:
        with open(f"/proc/{pid}/smaps") as f:
            name = ""
            for ln in f:
                first = ln.split(None, 1)[0]
                if "-" in first and not first.endswith(":"):
                    parts = ln.split()
                    name = parts[5] if len(parts) > 5 else ""
                elif first == "Rss:" and name.startswith("socket:"):
                    out["ring"] += int(ln.split()[1])
    except OSError:
        pass
    return out


def long_replay(a, paths, workdir):
    """All built-in chefs over a.long_packets generated packets, piped from
    the generator; VmRSS sampled every 0.1 s."""
    n = a.long_packets
    step(f"memory: nd-sniff, all built-in chefs, {n:,} packets from the generator")
    gen = subprocess.Popen([paths["gencap"], "-n", str(n), "-s", str(a.seed), "-o", "-",
                            "--summary", os.path.join(workdir, "long.json")],
                           stdout=subprocess.PIPE)
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    k = subprocess.Popen(kitchen_argv(paths, [], "-", ["--stdout"]), stdin=gen.stdout,
                         stdout=subprocess.DEVNULL, stderr=err)
    gen.stdout.close()
    samples = []
    while k.poll() is None:
        v = rss_kb(k.pid)
        hwm = status_kb(k.pid, "VmHWM")
        if v is not None:
            samples.append((round(time.monotonic() - t0, 2), v, hwm))
        time.sleep(0.1)
    wall = time.monotonic() - t0
    gen.wait()
    err.seek(0)
    text = err.read().decode(errors="replace")
    err.close()
    if k.returncode != 0 or gen.returncode != 0:
        raise RuntimeError(f"long replay failed ({k.returncode}, {gen.returncode}):\n{text}")
    got = kitchen_packets(text)
    # flat: after the first fifth (the tables fill up to their caps), RSS
    # must stay within 5 % of what it was then
    later = [s for s in samples if s[0] >= wall * 0.2]
    base = later[0][1] if later else None
    top = max(s[1] for s in later) if later else None
    growth = (top - base) / base if base else None
    return {"packets": got, "wall_s": wall, "pps": got / wall if wall else 0,
            "samples": samples, "rss_at_fifth_kb": base, "rss_max_after_kb": top,
            "rss_end_kb": samples[-1][1] if samples else None,
            "vmhwm_kb": max((s[2] or 0) for s in samples) if samples else None,
            "growth": growth}


def idle_rss(a, paths):
    """Resident memory of nd-hub and of a connected nd-sniff with nothing to do."""
    step("memory: idle nd-hub and nd-sniff")
    out = {}
    hub, pin, _ = benchlib.start_hub("ours", nd_hub=paths["nd-hub"])
    try:
        time.sleep(1.0)
        out["hub_kb"] = rss_kb(hub.pid)
        out["hub_parts_kb"] = rss_parts_kb(hub.pid)
        if os.geteuid() == 0:
            # live on loopback with a filter nothing matches: a kitchen at rest
            k = benchlib.Child("nd-sniff", [paths["nd-sniff"], "-i", "lo", "-f",
                                            "udp port 9 and udp port 7", "-h",
                                            f"127.0.0.1:{pin}"])
            try:
                time.sleep(2.0)
                out["kitchen_kb"] = rss_kb(k.pid)
                out["kitchen_parts_kb"] = rss_parts_kb(k.pid)
                out["kitchen_how"] = "live on lo, default chefs, connected to nd-hub"
            finally:
                k.close()
        else:
            out["kitchen_kb"] = None
            out["kitchen_how"] = "needs root for live capture"
        out["hub_kb_after"] = rss_kb(hub.pid)
    finally:
        hub.close()
    return out


# -------------------------------------------------------------------------
# Live capture through a veth pair
# -------------------------------------------------------------------------

def sh(*argv, ns=None, check=True):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    return subprocess.run(argv, check=check, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)


class Veth:
    """Two network namespaces joined by a veth pair: tcpreplay sends in tx,
    the sniffer listens in rx. IPv6 is off so nothing else is on the wire."""

    def __init__(self):
        tag = f"{os.getpid() % 100000}"
        self.tx, self.rx = f"ndb-tx-{tag}", f"ndb-rx-{tag}"
        self.tx_if, self.rx_if = f"ndbt{tag}", f"ndbr{tag}"

    def __enter__(self):
        sh("ip", "netns", "add", self.tx)
        sh("ip", "netns", "add", self.rx)
        for ns in (self.tx, self.rx):
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
            sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        sh("ip", "link", "add", self.tx_if, "netns", self.tx, "type", "veth",
           "peer", "name", self.rx_if, "netns", self.rx)
        sh("ip", "link", "set", self.tx_if, "up", ns=self.tx)
        sh("ip", "link", "set", self.rx_if, "up", ns=self.rx)
        return self

    def __exit__(self, *exc):
        sh("ip", "netns", "del", self.tx, check=False)
        sh("ip", "netns", "del", self.rx, check=False)


# The sniffers of the live scenario: the kitchen with its default chefs (what
# a user runs), the kitchen counting packets only, and tcpdump.
LIVE_SNIFFERS = {"kitchen": [], "kitchen PacketCountChef": ["PacketCountChef"],
                 "tcpdump": None}

TCPREPLAY_SENT = re.compile(r"Actual: (\d+) packets .* sent in ([\d.]+) seconds")
TCPREPLAY_RATE = re.compile(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps")
TCPDUMP_RE = {k: re.compile(rf"(\d+) packets? {k}") for k in
              ("captured", "received by filter", "dropped by kernel")}


def rx_packets(v):
    """Packets the receiving veth took in so far (those the kernel's backlog
    dropped before any capture saw them are not among them)."""
    r = subprocess.run(["ip", "netns", "exec", v.rx, "cat",
                        f"/sys/class/net/{v.rx_if}/statistics/rx_packets"],
                       capture_output=True, text=True, check=True)
    return int(r.stdout.strip())


def live_once(v, paths, sniffer, pcap, rate, count):
    """Replay count packets at rate pps (0: as fast as tcpreplay can) into
    the sniffer; returns what was sent, seen and dropped."""
    if sniffer == "tcpdump":
        argv = ["tcpdump", "-i", v.rx_if, "-n", "-w", "/dev/null"]
    else:
        chefs = LIVE_SNIFFERS[sniffer]
        argv = kitchen_argv(paths, chefs, None, ["--stdout"])
        argv[1:3] = ["-i", v.rx_if]
    ready_after = 1.0
    err = tempfile.TemporaryFile()
    snif = subprocess.Popen(["ip", "netns", "exec", v.rx] + argv, stdout=subprocess.DEVNULL,
                            stderr=err)
    try:
        time.sleep(ready_after)
        if snif.poll() is not None:
            err.seek(0)
            raise RuntimeError(f"{sniffer} exited early: {err.read().decode()[-1000:]}")
        rx0 = rx_packets(v)
        speed = ["--topspeed"] if rate == 0 else [f"--pps={rate}"]
        tr = subprocess.run(["ip", "netns", "exec", v.tx, "tcpreplay", "-q", "-i", v.tx_if,
                             *speed, "--loop=1000", f"--limit={count}", pcap],
                            capture_output=True, text=True)
        # libpcap hands a ring block over when it is full or when its timeout
        # (1 s for tcpdump) has passed: wait for the last one
        time.sleep(1.5)
        delivered = rx_packets(v) - rx0
    finally:
        if snif.poll() is None:
            os.kill(snif.pid, signal.SIGINT)
        try:
            snif.wait(timeout=20)
        except subprocess.TimeoutExpired:
            snif.kill()
            snif.wait()
    err.seek(0)
    text = err.read().decode(errors="replace")
    err.close()
    out = tr.stdout + tr.stderr
    m = TCPREPLAY_SENT.search(out)
    if tr.returncode != 0 or not m:
        raise RuntimeError(f"tcpreplay failed ({tr.returncode}): {out[-1000:]}")
    sent, secs = int(m.group(1)), float(m.group(2))
    mr = TCPREPLAY_RATE.search(out)
    achieved = float(mr.group(1)) if mr else sent / secs
    if sniffer != "tcpdump":
        seen = kitchen_packets(text)
        md = KDROP_RE.search(text)
        drops = int(md.group(1)) if md else 0
    else:
        mc = TCPDUMP_RE["captured"].search(text)
        md = TCPDUMP_RE["dropped by kernel"].search(text)
        seen = int(mc.group(1)) if mc else None
        drops = int(md.group(1)) if md else None
    if seen is None or drops is None:
        raise RuntimeError(f"{sniffer}: no statistics at exit:\n{text[-1000:]}")
    # zero drop: the sniffer saw every packet the interface took in; what the
    # kernel dropped before the interface (its backlog) no sniffer can see
    return {"rate_asked": rate, "sent": sent, "seconds": secs, "achieved_pps": achieved,
            "delivered": delivered, "seen": seen, "kernel_drops": drops,
            "missing": max(0, delivered - seen), "before_capture": max(0, sent - delivered),
            "zero_drop": drops == 0 and seen >= delivered}


def live(a, paths, pcap):
    """The ladder of rates for each sniffer; the highest zero-drop rate."""
    if os.geteuid() != 0:
        return {"skipped": "needs root (network namespaces, veth, capture)"}
    if not shutil.which("tcpreplay"):
        return {"skipped": "tcpreplay is not installed (Debian: tcpreplay)"}
    if not shutil.which("tcpdump"):
        return {"skipped": "tcpdump is not installed (Debian: tcpdump)"}
    out = {"rates": a.live_rates, "seconds_per_step": a.live_seconds}
    try:
        with Veth() as v:
            for sniffer in LIVE_SNIFFERS:
                steps = []
                best = None
                for rate in a.live_rates:
                    count = int((rate or 2_000_000) * a.live_seconds)
                    step(f"live: {sniffer}, {'top speed' if rate == 0 else f'{rate:,} pps'}")
                    r = live_once(v, paths, sniffer, pcap, rate, count)
                    if not r["zero_drop"]:
                        # one burst of other work on the machine can cost a
                        # step: a rate fails only when it fails twice
                        step(f"live: {sniffer}: drops; once more")
                        r2 = live_once(v, paths, sniffer, pcap, rate, count)
                        r["retry"] = dict(r2)
                        if r2["zero_drop"]:
                            r = dict(r2, first_try_dropped=True)
                    steps.append(r)
                    if r["zero_drop"]:
                        best = r if best is None or r["achieved_pps"] > best["achieved_pps"] \
                            else best
                    elif rate:
                        break   # past the first rate that drops, the next ones do too
                out[sniffer] = {"steps": steps,
                                "zero_drop_pps": best["achieved_pps"] if best else 0.0,
                                "at_top_speed": bool(best and best["rate_asked"] == 0)}
    except (subprocess.CalledProcessError, RuntimeError) as e:
        msg = e.stderr.decode(errors="replace").strip() if isinstance(
            e, subprocess.CalledProcessError) and e.stderr else str(e)
        return {"skipped": f"live capture failed: {msg[-300:]}"}
    return out


# -------------------------------------------------------------------------
# Profiles
# -------------------------------------------------------------------------

PERF_LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.+?)(?:\s{2,}.*)?$")


def perf_event():
    """The event perf samples on: CPU cycles where the machine counts them,
    else the kernel's cpu-clock timer (virtual machines often have no
    hardware counters); None when perf cannot record at all."""
    if not shutil.which("perf"):
        return None
    r = subprocess.run(["perf", "stat", "-e", "instructions", "true"],
                       capture_output=True, text=True)
    if r.returncode == 0 and "not supported" not in r.stderr:
        return "cycles"
    r = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-o", "/dev/null", "true"],
                       capture_output=True, text=True)
    return "cpu-clock" if r.returncode == 0 else None


def profiles(a, paths, pcap, workdir):
    """perf record of each chef set over the same file; the top symbols."""
    event = perf_event()
    if not event:
        return {"skipped": "perf does not work here (Debian: linux-perf; "
                           "kernel.perf_event_paranoid)"}
    out = {"event": event}
    plan = [(label, chefs, False) for label, chefs in CHEF_SETS]
    if not a.skip_hub_path:
        plan.append(("DNSLookupChef -> nd-hub", ["DNSLookupChef"], True))
    for label, chefs, to_hub in plan:
        step(f"profile: nd-sniff, {label}")
        data = os.path.join(workdir, "perf.data")
        hub = None
        if to_hub:
            hub, pin, _ = benchlib.start_hub("ours", nd_hub=paths["nd-hub"])
            where = ["-h", f"127.0.0.1:{pin}", "--no-reconnect", "-q"]
        else:
            where = ["--stdout", "-q"]
        try:
            subprocess.run(["perf", "record", "-q", "-e", event, "-F", "4999", "-o", data,
                            "--", *kitchen_argv(paths, chefs, pcap, where)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            if hub:
                hub.close()
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                              "--sort", "dso,symbol", "--percent-limit", "0.8"],
                             capture_output=True, text=True, check=True)
        top = []
        for ln in rep.stdout.splitlines():
            m = PERF_LINE.match(ln)
            if m:
                top.append({"pct": float(m.group(1)), "dso": m.group(2),
                            "symbol": m.group(4) + (" [kernel]" if m.group(3) == "k" else "")})
        # code without symbols (a stripped library) shows as addresses: one
        # line per library for all of it
        merged = {}
        for t in top:
            key = (t["dso"], "(code without symbols)") if t["symbol"].startswith("0x") \
                else (t["dso"], t["symbol"])
            merged[key] = merged.get(key, 0.0) + t["pct"]
        top = sorted(({"pct": round(v, 2), "dso": k[0], "symbol": k[1]}
                      for k, v in merged.items()), key=lambda t: -t["pct"])
        out[label] = top[:a.profile_top]
        os.unlink(data)
    return out


# -------------------------------------------------------------------------
# The whole kitchen part
# -------------------------------------------------------------------------

def fmt_pps(v):
    return f"{v:,.0f} pkt/s"


def ratio(a, b):
    return a / b if a is not None and b else None


def rows_and_goals(res):
    """Rows for bench/run's table and the issue's goals, as met or not met."""
    rows, goals = [], []
    off = res.get("offline", {})
    n = res["summary"]["packets"]
    lim = off.get("libpcap", {}).get("pps")
    tcpd = off.get("tcpdump", {}).get("pps")
    tsh = off.get("tshark", {}).get("pps")
    scen = f"offline, {n / 1e6:g}M packets"
    names = [("libpcap", "libpcap read loop, empty callback"),
             ("tcpdump", "tcpdump -r FILE -w /dev/null"),
             ("tshark", "tshark -T fields (DNS fields)"),
             ("kitchen PacketCountChef", "nd-sniff PacketCountChef"),
             ("kitchen DNSLookupChef", "nd-sniff DNSLookupChef"),
             ("kitchen all built-in chefs", "nd-sniff all built-in chefs"),
             (f"kitchen all built-in chefs, {THREADS_PROJECTED} threads",
              f"nd-sniff all built-in chefs, {THREADS_PROJECTED} chef threads, "
              "a CPU each (projected)"),
             ("kitchen slowest chef alone", "nd-sniff slowest chef alone"),
             ("hub DNSLookupChef", "nd-sniff DNSLookupChef -> nd-hub"),
             ("hub all built-in chefs", "nd-sniff all built-in chefs -> nd-hub")]
    for key, label in names:
        r = off.get(key)
        if not r:
            continue
        parts = []
        pps = r.get("projected_pps", r["pps"])
        if key not in ("libpcap", "tshark") and lim:
            parts.append(f"{pps / lim:.2f}x libpcap")
        if key.startswith(("kitchen", "hub")) and tcpd:
            parts.append(f"{pps / tcpd:.2f}x tcpdump")
        if "DNSLookupChef" in key and tsh:
            parts.append(f"{r['pps'] / tsh:.0f}x tshark")
        notes = [f"peak RSS {r['maxrss_kb'] / 1024:.1f} MB"]
        if r.get("dumplings") is not None:
            notes.append(f"{r['dumplings'] / r['wall_s']:,.0f} dumplings/s")
        if r.get("chef"):
            notes.insert(0, f"{r['chef']}: all chefs together go no faster, "
                                "whatever the CPUs")
        if key == "kitchen all built-in chefs" and lim and r.get("cpu_s"):
            # the CPU time 0.25x allows: the wall time it means, on every CPU
            ncpu = len(os.sched_getaffinity(0))
            notes.append(f"{r['cpu_s']:.2f} CPU-s; 0.25x allows "
                         f"{ncpu * r['packets'] / (0.25 * lim):.2f} on {ncpu} CPUs")
        if r.get("hub_cpu_s") is not None:
            notes.append(f"CPU-s a run: nd-sniff {r['cpu_s']:.2f}, nd-hub {r['hub_cpu_s']:.2f}")
        if r.get("threads_cpu_s"):
            notes.append("CPU-s by thread: " + ", ".join(
                f"{t} {v:.2f}" for t, v in r["threads_cpu_s"].items()))
        if r.get("projected_pps"):
            # the figure is what the busiest thread allows, not a wall time
            notes = [f"the busiest thread ({r['busiest']}, {r['busiest_cpu_s']:.2f} CPU-s) "
                     f"bounds it; here, on {len(os.sched_getaffinity(0))} CPUs, "
                     f"{fmt_pps(r['pps'])}"] + notes[1:]
        if key == "tshark" and r.get("slice"):
            notes.append(f"first {r['packets']:,} packets of the same stream")
        rows.append({"part": "kitchen", "scenario": scen, "program": label,
                     "figure": fmt_pps(pps), "ratio": ", ".join(parts),
                     "notes": "; ".join(notes)})

    def goal(text, value, target, met, unit="x"):
        goals.append({"goal": text, "value": value,
                      "target": target, "unit": unit,
                      "met": bool(met) if value is not None else None})

    pc = off.get("kitchen PacketCountChef", {}).get("pps")
    dn = off.get("kitchen DNSLookupChef", {}).get("pps")
    al = off.get("kitchen all built-in chefs", {}).get("pps")
    v = ratio(pc, lim)
    goal("packet counting >= 0.8x the raw libpcap loop", v, 0.8, v and v >= 0.8)
    v = ratio(dn, tsh)
    goal("DNSLookupChef >= 100x tshark -T fields", v, 100, v and v >= 100)
    v = ratio(al, lim)
    goal("all built-in chefs >= 0.25x the raw libpcap loop", v, 0.25, v and v >= 0.25)

    mem = res.get("memory")
    if mem:
        g = mem["growth"]
        rows.append({"part": "kitchen", "scenario": f"memory, {mem['packets'] / 1e6:g}M packets",
                     "program": "nd-sniff all built-in chefs",
                     "figure": f"{mem['vmhwm_kb'] / 1024:.1f} MB peak",
                     "ratio": f"{g * 100:+.1f}% after the first fifth" if g is not None else "",
                     "notes": f"RSS {mem['rss_at_fifth_kb'] / 1024:.1f} MB at a fifth, "
                              f"{mem['rss_end_kb'] / 1024:.1f} MB at the end; "
                              f"{mem['pps']:,.0f} pkt/s"})
        goal("kitchen memory flat within 5% over the long replay",
             None if g is None else g * 100, 5, g is not None and g <= 0.05, unit="%")
    idle = res.get("idle")
    if idle:
        for who, key in (("nd-hub", "hub_kb"), ("nd-sniff", "kitchen_kb")):
            kb = idle.get(key)
            parts = idle.get(key.replace("_kb", "_parts_kb"))
            split = ""
            if parts and parts.get("anon") is not None:
                split = (f"{parts['anon'] / 1024:.1f} MB private, "
                         f"{parts['file'] / 1024:.1f} MB mapped")
                if parts["ring"]:
                    split += f" of which {parts['ring'] / 1024:.1f} MB the capture ring"
            rows.append({"part": "kitchen" if who == "nd-sniff" else "hub",
                         "scenario": "idle", "program": who,
                         "figure": f"{kb / 1024:.1f} MB RSS" if kb else "n/a",
                         "ratio": "",
                         "notes": "; ".join(x for x in (
                             idle.get("kitchen_how", "") if who == "nd-sniff"
                             else "started, nothing connected", split) if x)})
            goal(f"{who} idle RSS < 10 MB", kb / 1024 if kb else None, 10,
                 kb is not None and kb < 10 * 1024, unit=" MB")
    lv = res.get("live")
    if lv and "skipped" not in lv:
        tcpd_live = lv["tcpdump"]["zero_drop_pps"]
        for who, label in (("kitchen", "nd-sniff all built-in chefs"),
                           ("kitchen PacketCountChef", "nd-sniff PacketCountChef"),
                           ("tcpdump", "tcpdump -w /dev/null")):
            r = lv.get(who)
            if not r:
                continue
            last = r["steps"][-1]
            note = ("no drop even at tcpreplay's top speed" if r["at_top_speed"] else
                    f"next step {last['achieved_pps']:,.0f} pkt/s: "
                    f"{last['kernel_drops']:,} kernel drops, {last['missing']:,} unseen "
                    f"of {last['delivered']:,}")
            rows.append({"part": "kitchen", "scenario": "live, veth + tcpreplay",
                         "program": label,
                         "figure": fmt_pps(r["zero_drop_pps"]) + " zero-drop",
                         "ratio": f"{r['zero_drop_pps'] / tcpd_live:.2f}x tcpdump"
                         if who != "tcpdump" and tcpd_live else "",
                         "notes": note})
        v = ratio(lv["kitchen"]["zero_drop_pps"], tcpd_live)
        both_top = lv["kitchen"]["at_top_speed"] and lv["tcpdump"]["at_top_speed"]
        goal("live zero-drop rate >= 0.9x tcpdump's (all built-in chefs)", v, 0.9,
             (v and v >= 0.9) or both_top)
    elif lv:
        rows.append({"part": "kitchen", "scenario": "live, veth + tcpreplay",
                     "program": "nd-sniff, tcpdump", "figure": "n/a", "ratio": "",
                     "notes": lv["skipped"]})
        goal("live zero-drop rate >= 0.9x tcpdump's (all built-in chefs)", None, 0.9, False)
    return rows, goals


def run(a, paths):
    """Every kitchen scenario; returns the results dict (rows and goals in it)."""
    KITCHEN_ARGS[:] = a.kitchen_arg
    workdir = a.workdir or tempfile.mkdtemp(prefix="nd-bench-")
    os.makedirs(workdir, exist_ok=True)
    res = {"workdir": workdir}
    try:
        step(f"generating {a.packets:,} packets (seed {a.seed}) in {workdir}")
        big, summ = generate(paths, workdir, a.packets, a.seed, "mix")
        res["summary"] = summ
        step(f"generated {summ['bytes'] / 1e6:.0f} MB in {summ['gen_seconds']} s")
        tn = min(a.tshark_packets, a.packets)
        if tn < a.packets:
            # the generator's stream does not depend on the count: this is the
            # first tn packets of the big file
            slice_pcap, slice_summ = generate(paths, workdir, tn, a.seed, "slice")
        else:
            slice_pcap, slice_summ = big, summ
        res["slice"] = slice_summ
        res["offline"] = offline(a, paths, big, summ, slice_pcap, slice_summ)
        if a.long_packets:
            res["memory"] = long_replay(a, paths, workdir)
        res["idle"] = idle_rss(a, paths)
        if not a.skip_live:
            res["live"] = live(a, paths, slice_pcap)
        if not a.skip_profile:
            res["profiles"] = profiles(a, paths, big, workdir)
    finally:
        if not a.keep_files:
            shutil.rmtree(workdir, ignore_errors=True)
    res["rows"], res["goals"] = rows_and_goals(res)
    return res
