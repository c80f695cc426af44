#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Running nd-hub: what an operator sees and controls, against the real
program on 127.0.0.1.

- GET /metrics on the eater port is Prometheus text (format 0.0.4) that a
  strict parser reads line by line; its totals equal the status dumpling's,
  each kitchen and eater has its series with the right labels, a name with
  '"', '\\' and a line feed is escaped and stays on one line; other paths,
  the kitchen port and --no-metrics answer 404;
- --log-format json writes one JSON object (time, level, program, message)
  per stderr line, whatever a peer puts in its name;
- --config FILE sets what the command line can (the command line wins),
  --test-config prints the settings and exits without listening, a bad
  file is refused with FILE:LINE;
- SIGHUP re-reads the file: a new status frequency and limit take effect,
  a broken file or a new port is refused and the hub runs on as it was.

Each part runs against its own hub; every part runs even when an earlier
one fails, and the test fails if any did. NDL_PARTS=part_a,part_b in the
environment runs only those parts."""

import asyncio
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time


from hubutil import (STATUS_CHEF, RawWS, check, close_code_of, connect, dumpling, dumplings_of,
                     http_get, is_status, ndltest, next_status, run_parts, stop_hub_clean)

WEIRD = 'kit"chen\\with\nnewline'


# ---- shared pieces ----

async def hello_ws(port, hello):
    ws = await connect(port)
    await ws.send(json.dumps(hello))
    return ws


def kitchen_hello(name):
    return {"kitchen_name": name, "interface": "lo", "filter": "tcp or udp or arp",
            "chefs": ["tests.TestChef"], "poke_interval": 5.0}


async def count_statuses(ws, seconds):
    """How many status dumplings ws gets within seconds."""
    n = 0
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return n
        try:
            msg = await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:
            return n
        n += is_status(msg)


async def aget(port, path):
    return await asyncio.get_running_loop().run_in_executor(None, http_get, port, path)


SAMPLE_RE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? "
                       r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')
ESCAPES = {"n": "\n", "\\": "\\", '"': '"'}


def parse_prometheus(text):
    """Samples of a Prometheus text exposition, strictly: [(name, {labels},
    value)]. Every line is a sample, '# HELP name ...' or '# TYPE name
    counter|gauge'; the text ends with a line feed; each sample's metric
    has a TYPE line before it."""
    check(text.endswith("\n"), "the metrics text does not end with a line feed")
    samples, typed = [], {}
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = f"metrics line {n}: {line!r}"
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)", line)
            check(m is not None, f"{where}: not a HELP or TYPE comment")
            if m.group(1) == "TYPE":
                check(m.group(3) in ("counter", "gauge"), f"{where}: unknown type")
                check(m.group(2) not in typed, f"{where}: a second TYPE")
                typed[m.group(2)] = m.group(3)
            continue
        m = SAMPLE_RE.fullmatch(line)
        check(m is not None, f"{where}: not 'name{{labels}} value'")
        name, labels_text, value = m.groups()
        check(name in typed, f"{where}: no TYPE line before it")
        labels, pos = {}, 0
        while labels_text and pos < len(labels_text):
            lm = LABEL_RE.match(labels_text, pos)
            check(lm is not None, f"{where}: bad labels at {labels_text[pos:]!r}")
            check(lm.group(1) not in labels, f"{where}: label {lm.group(1)} twice")
            labels[lm.group(1)] = re.sub(r"\\(.)", lambda e: ESCAPES[e.group(1)], lm.group(2))
            pos = lm.end()
        samples.append((name, labels, float(value)))
    return samples


def one(samples, name, **labels):
    """The value of the one sample of name with exactly these labels."""
    vals = [v for n, lb, v in samples if n == name and lb == labels]
    check(len(vals) == 1, f"{len(vals)} samples {name} {labels}")
    return vals[0]


def series(samples, name):
    return [lb for n, lb, _ in samples if n == name]


def run_hub_once(*args, timeout=20):
    """Run nd-hub to completion; (exit status, stdout, stderr)."""
    p = subprocess.run([ndltest.prog("nd-hub")] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    check(not ndltest.sanitizer_reports(err), "sanitizer reports from nd-hub:\n" + err)
    return p.returncode, out, err


def port_is_free(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_log(proc, text, count=1, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.read_stderr().count(text) >= count:
            return
        check(proc.poll() is None, f"nd-hub exited {proc.returncode}:\n{proc.read_stderr()}")
        time.sleep(0.05)
    raise AssertionError(f"nd-hub did not log {text!r} ({count}x):\n{proc.read_stderr()[-3000:]}")


async def alog(proc, text, count=1, timeout=10.0):
    await asyncio.get_running_loop().run_in_executor(None, wait_log, proc, text, count, timeout)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# ---- GET /metrics ----

METRICS_FREQ = 2.0


async def metrics_scenario(hub, in_port, out_port):
    e1 = await hello_ws(out_port, {"eater_name": "eat-one"})
    e2 = await hello_ws(out_port, {"eater_name": "eat-two",
                                   "subscribe": {"chefs": ["AChef", STATUS_CHEF]}})
    kp = await hello_ws(in_port, kitchen_hello("k-plain"))
    kw = await hello_ws(in_port, kitchen_hello(WEIRD))
    bad = await connect(in_port)
    await bad.send("this is not a hello")
    check(await close_code_of(bad) == 1008, "a bad hello was not closed with 1008")

    for i in range(3):
        await kp.send(dumpling("AChef", "k-plain", {"i": i}))
    for i in range(2):
        await kp.send(dumpling("BChef", "k-plain", {"i": 3 + i}))
    await kp.send('{"no": "metadata"}')                   # counted not_a_dumpling
    for i in range(2):
        await kw.send(dumpling("AChef", WEIRD, {"i": 5 + i}))
    got1 = await dumplings_of(e1, 7)
    got2 = await dumplings_of(e2, 5)
    check(sorted(d["payload"]["i"] for d in got1) == list(range(7)), "eat-one missed some")
    check(sorted(d["payload"]["i"] for d in got2) == [0, 1, 2, 5, 6], "eat-two: wrong ones")

    # The next status, read by both eaters, then /metrics before the one after.
    for attempt in range(4):
        s1 = await next_status(e1, lambda p: p["dumpling_kitchen_count"] == 2
                               and p["dumpling_eater_count"] == 2)
        s2 = await next_status(e2)
        status, body, headers = await aget(out_port, "/metrics")
        check(status == 200, f"GET /metrics: HTTP {status}")
        samples = parse_prometheus(body)
        up = one(samples, "ndl_hub_uptime_seconds")
        if s1["server_uptime"] == s2["server_uptime"] and up - s1["server_uptime"] < \
                METRICS_FREQ * 0.75:
            break
    else:
        raise AssertionError("could not read /metrics between two status dumplings")
    p = s1
    ctype = headers.get("content-type", "")
    check(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
          f"Content-Type {ctype!r}")

    # Totals: the status's own numbers, plus the status itself, delivered
    # to both eaters after it was built.
    check(one(samples, "ndl_hub_dumplings_in_total") == p["total_dumplings_in"] == 7,
          f"in: metrics {one(samples, 'ndl_hub_dumplings_in_total')}, "
          f"status {p['total_dumplings_in']}")
    check(one(samples, "ndl_hub_dumplings_out_total") == p["total_dumplings_out"] + 2,
          f"out: metrics {one(samples, 'ndl_hub_dumplings_out_total')}, "
          f"status {p['total_dumplings_out']} (+2 for the status itself)")
    for mname, skey in (("ndl_hub_dumplings_dropped_total", "total_dumplings_dropped"),
                        ("ndl_hub_dumplings_not_subscribed_total",
                         "total_dumplings_not_subscribed"),
                        ("ndl_hub_dumplings_rate_limited_total", "total_dumplings_rate_limited")):
        check(one(samples, mname) == p[skey], f"{mname} {one(samples, mname)} != status {skey}"
              f" {p[skey]}")
    check(p["total_dumplings_not_subscribed"] == 2, f"not subscribed {p}")
    reasons = {lb["reason"]: v for n, lb, v in samples if n == "ndl_hub_rejections_total"}
    check(reasons == {k: float(v) for k, v in p["rejections"].items()},
          f"rejections: metrics {reasons}, status {p['rejections']}")
    check(reasons["hello_not_json"] == 1 and reasons["not_a_dumpling"] == 1,
          f"rejections {reasons}")
    for role, count in (("kitchen", 2), ("eater", 2)):
        check(one(samples, "ndl_hub_connections", role=role) == count, f"{role} connections")
        check(one(samples, "ndl_hub_connections_pending", role=role) == 0, f"{role} pending")

    # Per kitchen: labelled with its name and address, as the status has them.
    kitchens = {k["info_from_kitchen"]["kitchen_name"]: k["info_from_hub"]
                for k in p["dumpling_kitchens"]}
    check(set(kitchens) == {"k-plain", WEIRD}, f"status kitchens {list(kitchens)}")
    for ws, name, n_in in ((kp, "k-plain", 5), (kw, WEIRD, 2)):
        addr = f"127.0.0.1:{ws.local_address[1]}"
        check(kitchens[name]["port"] == ws.local_address[1], f"status port of {name!r}")
        lb = {"kitchen": name, "address": addr}
        check(one(samples, "ndl_hub_kitchen_dumplings_in_total", **lb) ==
              kitchens[name]["dumplings_in"] == n_in, f"dumplings in of {name!r}")
        check(one(samples, "ndl_hub_kitchen_rate_limited_total", **lb) == 0, "rate limited")
        check(one(samples, "ndl_hub_kitchen_bad_lines_total", **lb) == 0, "bad lines")
    check(len(series(samples, "ndl_hub_kitchen_dumplings_in_total")) == 2, "kitchen series")

    # Per eater.
    eaters = {e["info_from_eater"]["eater_name"]: e["info_from_hub"] for e in p["dumpling_eaters"]}
    for ws, name, n_unsub in ((e1, "eat-one", 0), (e2, "eat-two", 2)):
        lb = {"eater": name, "address": f"127.0.0.1:{ws.local_address[1]}"}
        check(one(samples, "ndl_hub_eater_dumplings_sent_total", **lb) ==
              eaters[name]["sent"] + 1, f"sent to {name}: status {eaters[name]['sent']}")
        check(one(samples, "ndl_hub_eater_dumplings_not_subscribed_total", **lb) ==
              eaters[name]["not_subscribed"] == n_unsub, f"not subscribed of {name}")
        check(one(samples, "ndl_hub_eater_dumplings_dropped_total", **lb) == 0, "dropped")
        check(one(samples, "ndl_hub_eater_queue_depth", **lb) == 0, "queue depth")
        check(one(samples, "ndl_hub_eater_queue_bytes", **lb) == 0, "queue bytes")
    check(len(series(samples, "ndl_hub_eater_dumplings_sent_total")) == 2, "eater series")

    # The awkward name, escaped as the format says, one line per sample.
    esc = 'kitchen="kit\\"chen\\\\with\\nnewline"'
    check(body.count(esc) == 3, f"escaped name {esc} appears {body.count(esc)} times:\n{body}")
    for line in body.split("\n"):
        check(not line.startswith("newline"), f"a label value broke a line: {line!r}")

    # Other paths: 404, and the hub goes on.
    # ("/" may be the dashboard, so it is not among them.)
    for path in ("/metric", "/metrics/x", "/metricsx", "/status", "/metrics.txt"):
        status, _, _ = await aget(out_port, path)
        check(status == 404, f"GET {path} on the eater port: HTTP {status}")
    for path in ("/metrics", "/"):
        status, _, _ = await aget(in_port, path)
        check(status == 404, f"GET {path} on the kitchen port: HTTP {status}")
    await kp.send(dumpling("AChef", "k-plain", {"i": 7}))
    got = await dumplings_of(e1, 1)
    check(got[0]["payload"]["i"] == 7, "after the 404s eat-one got something else")
    status, body, _ = await aget(out_port, "/metrics")
    samples = parse_prometheus(body)
    check(one(samples, "ndl_hub_dumplings_in_total") == 8, "in after one more")
    for ws in (kp, kw, e1, e2):
        await ws.close()


async def no_metrics_scenario(in_port, out_port):
    status, _, _ = await aget(out_port, "/metrics")
    check(status == 404, f"--no-metrics: GET /metrics: HTTP {status}")
    e = await hello_ws(out_port, {"eater_name": "still-here"})
    await next_status(e)
    await e.close()


def part_metrics(tmp):
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port(status_freq=METRICS_FREQ)
        asyncio.run(metrics_scenario(hub, in_port, out_port))
        err = stop_hub_clean(hub)
    # Text logs: a name with a line feed does not start a line of its own.
    for line in err.splitlines():
        check(line.startswith("nd-hub"), f"a log line that is not nd-hub's: {line!r}")
    check("with newline" in err or "with\\nnewline" in err, "the weird kitchen was not logged")

    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port("--no-metrics", status_freq=0.5)
        asyncio.run(no_metrics_scenario(in_port, out_port))
        stop_hub_clean(hub)



async def utf8_names_scenario(in_port, out_port):
    # Names of two-byte characters, long enough for any cut the hub makes
    # to fall inside a character unless it cuts on character boundaries.
    names = ["a" + "\u00e9" * 300, "\u00e9" * 300, "ab" + "\u20ac" * 200]
    eaters = [await hello_ws(out_port, {"eater_name": n}) for n in names]
    try:
        await utf8_names_check(eaters, names, out_port)
    finally:
        for ws in eaters:
            await ws.close()


async def utf8_names_check(eaters, names, out_port):
    await next_status(eaters[0], lambda p: p["dumpling_eater_count"] == len(names))
    body = await asyncio.get_running_loop().run_in_executor(None, raw_metrics, out_port)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        i = body.find(b'eater="')
        raise AssertionError(f"/metrics is not UTF-8 ({e}); the exposition format requires "
                             f"it: {body[max(0, e.start - 60):e.start + 20]!r} "
                             f"(first eater label at byte {i})")
    samples = parse_prometheus(text)
    got = sorted(lb["eater"] for lb in series(samples, "ndl_hub_eater_dumplings_sent_total"))
    for label, name in zip(got, sorted(names)):
        check(label and name.startswith(label), f"eater label {label[:20]!r}... is not a "
              f"prefix of its name {name[:20]!r}...")


def raw_metrics(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        check(r.status == 200, f"GET /metrics: HTTP {r.status}")
        return r.read()
    finally:
        conn.close()


def part_metrics_utf8(tmp):
    """Label values cut to a length must stay UTF-8 (a scrape with a bad
    byte is refused whole by Prometheus)."""
    with ndltest.Procs() as procs:
        hub, in_port, out_port = procs.hub_any_port(status_freq=0.5)
        asyncio.run(utf8_names_scenario(in_port, out_port))
        stop_hub_clean(hub)


# ---- JSON logs ----

TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)")


def json_log_lines(text):
    """Every line of text as a JSON log object; fails on any other line."""
    out = []
    for line in text.splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            raise AssertionError(f"a log line that is not JSON: {line!r}")
        check(isinstance(d, dict), f"a log line that is not an object: {line!r}")
        for key in ("time", "level", "program", "message"):
            check(isinstance(d.get(key), str), f"log line without string {key}: {line!r}")
        check(d["program"] == "nd-hub", f"program {d['program']!r}")
        check(d["level"] in ("error", "warning", "info", "debug"), f"level {d['level']!r}")
        check(TIME_RE.fullmatch(d["time"]) is not None, f"time {d['time']!r}")
        out.append(d)
    return out


async def json_logs_scenario(hub, in_port, out_port):
    e = await hello_ws(out_port, {"eater_name": "eater\nwith a newline"})
    k = await hello_ws(in_port, kitchen_hello('kitchen "quoted" \\ name'))
    await next_status(e, lambda p: p["dumpling_kitchen_count"] == 1)
    await k.send(dumpling("JChef", "k", {"i": 1}))
    await dumplings_of(e, 1)
    bad = await connect(in_port)
    await bad.send("[1, 2]")
    check(await close_code_of(bad) == 1008, "bad hello not closed with 1008")
    await k.send("{broken json")
    check(await close_code_of(k) == 1007, "a non-JSON dumpling was not closed with 1007")
    # A refused browser handshake logs its Origin.
    def browser():
        with socket.create_connection(("127.0.0.1", out_port), timeout=10) as s:
            s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{out_port}\r\n"
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n")
                      .encode())
            try:
                s.recv(4096)
            except OSError:
                pass
    await asyncio.get_running_loop().run_in_executor(None, browser)
    e2 = await hello_ws(out_port, {"eater_name": "second"})
    await e2.close()
    await next_status(e, lambda p: p["dumpling_eater_count"] == 1)
    await e.close()


def start_json_hub(procs, *args):
    """nd-hub --log-format json on any free ports; (proc, in_port, out_port)."""
    hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "-a", "127.0.0.1", "-i", "0",
                                 "-o", "0", "--log-format", "json"] + list(args))
    deadline = time.monotonic() + 10
    while True:
        m = re.search(r"listening for kitchens on 127\.0\.0\.1:(\d+) and eaters on "
                      r"127\.0\.0\.1:(\d+)", hub.read_stderr())
        if m:
            return hub, int(m.group(1)), int(m.group(2))
        check(hub.poll() is None and time.monotonic() < deadline,
              "no listening line:\n" + hub.read_stderr())
        time.sleep(0.05)


def part_json_logs(tmp):
    with ndltest.Procs() as procs:
        hub, in_port, out_port = start_json_hub(procs, "-f", "0.5")
        asyncio.run(json_logs_scenario(hub, in_port, out_port))
        err = stop_hub_clean(hub)
    lines = json_log_lines(err)
    msgs = [d["message"] for d in lines]
    text = "\n".join(msgs)
    for want in ("listening for kitchens", "SIGTERM", "stopped", "hello_not_object",
                 "not_json", "evil.example", "second"):
        check(want in text, f"no JSON log message mentions {want!r}:\n{text}")
    check(any("eater" in m and "with a newline" in m for m in msgs),
          f"the eater with a newline in its name was not logged on one line:\n{text}")
    check(any('"quoted"' in m for m in msgs), f"the quoted kitchen name was not logged:\n{text}")
    check(all("\n" not in m for m in msgs), "a message holds a line feed")
    check(lines[0]["time"] <= lines[-1]["time"], "times go backwards")
    check(len(lines) >= 8, f"only {len(lines)} log lines")



async def json_utf8_scenario(in_port, out_port):
    name = "a" + "\u00e9" * 100
    e = await hello_ws(out_port, {"eater_name": name})
    await next_status(e)
    await e.close()


def part_json_logs_utf8(tmp):
    """A long name of multi-byte characters is logged (cut, if need be, on a
    character boundary), not replaced by a placeholder."""
    with ndltest.Procs() as procs:
        hub, in_port, out_port = start_json_hub(procs, "-f", "0.5")
        asyncio.run(json_utf8_scenario(in_port, out_port))
        err = stop_hub_clean(hub)
    msgs = [d["message"] for d in json_log_lines(err)]
    check(not any("not valid UTF-8" in m for m in msgs),
          "a message was replaced by a placeholder:\n" + "\n".join(msgs))
    check(any("a\u00e9\u00e9\u00e9\u00e9" in m and "connected" in m for m in msgs),
          "the eater with a long non-ASCII name was not logged:\n" + "\n".join(msgs))


def part_json_logs_reload(tmp):
    """In JSON mode a failed reload's explanation is a JSON line too."""
    conf = os.path.join(tmp, "json.conf")
    write(conf, "log-format = json\nstatus-freq = 1\n")
    with ndltest.Procs() as procs:
        hub, in_port, out_port = start_json_hub(procs, "--config", conf)
        write(conf, "log-format = json\nstatus-freq = 1\nno-such-option = 1\n")
        hub.signal(signal.SIGHUP)
        wait_log(hub, "reload failed")
        write(conf, "log-format = json\nstatus-freq = banana\n")
        hub.signal(signal.SIGHUP)
        wait_log(hub, "reload failed", 2)
        err = stop_hub_clean(hub)
    lines = json_log_lines(err)
    text = "\n".join(d["message"] for d in lines)
    check(f"{conf}:3" in text and f"{conf}:2" in text,
          "the failed reloads' FILE:LINE are not in the JSON log:\n" + text)


# ---- --config and --test-config ----

def config_text(in_port, out_port, freq, extra=""):
    return (f"# nd-hub settings for the tests\n"
            f"address = 127.0.0.1\n"
            f"in-port = {in_port}\n"
            f"out-port = {out_port}\n"
            f"\n"
            f"status-freq = {freq}\n"
            f"eater-queue = 17\n"
            f"kitchen-rate = 400\n"
            f"lag-policy = disconnect\n"
            f"hello-timeout = 7\n" + extra)


async def config_scenario(in_port, out_port):
    # status-freq 0.4 from the file: statuses come several a second.
    e = await hello_ws(out_port, {"eater_name": "cfg-eater"})
    n = await count_statuses(e, 2.0)
    check(3 <= n <= 7, f"{n} status dumplings in 2 s with status-freq 0.4 from the file")
    await e.close()

    # kitchen-rate 400 from the file: a blast of 1000 lets about 400 in.
    k = await hello_ws(in_port, kitchen_hello("cfg-kitchen"))
    t0 = time.monotonic()
    for i in range(1000):
        await k.send(dumpling("CfgChef", "cfg-kitchen", {"i": i}))
    deadline = time.monotonic() + 20
    while True:
        _, body, _ = await aget(out_port, "/metrics")
        samples = parse_prometheus(body)
        n_in = one(samples, "ndl_hub_dumplings_in_total")
        n_lim = one(samples, "ndl_hub_dumplings_rate_limited_total")
        if n_in + n_lim == 1000:
            break
        check(time.monotonic() < deadline, f"only {n_in} + {n_lim} of 1000 counted")
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - t0
    check(400 <= n_in <= 400 + 400 * elapsed + 2,
          f"kitchen-rate 400 from the file: {n_in} in within {elapsed:.2f}s")

    # eater-queue 17 and lag-policy disconnect from the file: an eater that
    # never reads is closed with 4103 once 17 dumplings wait for it, and
    # what was queued (17) plus the one that did not fit are dropped.
    def slow_eater():
        r = RawWS(out_port, rcvbuf=4096, timeout=30)
        r.send_text(json.dumps({"eater_name": "never-reads"}))
        return r
    slow = await asyncio.get_running_loop().run_in_executor(None, slow_eater)
    await asyncio.sleep(0.6)          # greeted, and past the rate limiter's burst
    _, body, _ = await aget(out_port, "/metrics")
    dropped0 = one(parse_prometheus(body), "ndl_hub_dumplings_dropped_total")
    big = "y" * 200000
    for i in range(120):
        await k.send(dumpling("BigChef", "cfg-kitchen", {"i": i, "pad": big}))
        if i % 40 == 39:
            await asyncio.sleep(0.11)     # stay under kitchen-rate 400
    deadline = time.monotonic() + 20
    while True:
        _, body, _ = await aget(out_port, "/metrics")
        samples = parse_prometheus(body)
        if one(samples, "ndl_hub_rejections_total", reason="eater_too_slow") >= 1:
            break
        check(time.monotonic() < deadline, "the eater that never reads was not closed:\n"
              + body)
        await asyncio.sleep(0.1)
    check(one(samples, "ndl_hub_rejections_total", reason="eater_too_slow") == 1,
          "eater_too_slow counted more than once")
    dropped = one(samples, "ndl_hub_dumplings_dropped_total") - dropped0
    check(dropped == 18, f"{dropped} dropped when the never-reading eater was closed;"
          " eater-queue 17 from the file gives 18")
    slow.close()
    await k.close()


def part_config(tmp):
    p_in, p_out, p_other = ndltest.free_port(), ndltest.free_port(), ndltest.free_port()
    conf = os.path.join(tmp, "hub.conf")
    write(conf, config_text(p_in, p_out, 0.4))

    # --test-config: the settings from the file, no listening.
    t0 = time.monotonic()
    rc, out, err = run_hub_once("--config", conf, "--test-config")
    check(rc == 0, f"--test-config with a good file: exit {rc}\n{out}{err}")
    check(time.monotonic() - t0 < 10, "--test-config took long")
    for want in (f"config {conf}", "address 127.0.0.1", f"in-port {p_in}", f"out-port {p_out}",
                 "status-freq 0.4", "eater-queue 17", "kitchen-rate 400",
                 "lag-policy disconnect", "hello-timeout 7", "configuration OK"):
        check(re.search("^" + re.escape(want) + "$", out, re.M) is not None,
              f"--test-config does not print {want!r}:\n{out}")
    check(port_is_free(p_in) and port_is_free(p_out), "--test-config left something listening")
    # The command line wins over the file.
    rc, out, err = run_hub_once("--config", conf, "--eater-queue", "99", "-f", "3",
                                "--lag-policy", "drop-oldest", "--test-config")
    check(rc == 0, f"--test-config with overrides: exit {rc}\n{err}")
    for want in ("eater-queue 99", "status-freq 3", "lag-policy drop-oldest", f"in-port {p_in}"):
        check(re.search("^" + re.escape(want) + "$", out, re.M) is not None,
              f"--test-config with overrides does not print {want!r}:\n{out}")

    # Bad files: refused with FILE:LINE, nothing listens.
    bad = [
        ("unknown key", "status-freq = 1\n# fine so far\nno-such-option = 3\n", 3),
        ("bad value", "address = 127.0.0.1\nstatus-freq = banana\n", 2),
        ("bad policy", "\n\n\n\nlag-policy = sometimes\n", 5),
        ("flag with a value", "no-metrics = yes\n", 1),
        ("option without value", "# x\neater-queue\n", 2),
        ("negative count", "in-port = 0\nout-port = 0\neater-queue = -5\n", 3),
    ]
    for what, text, line in bad:
        path = os.path.join(tmp, f"bad-{line}.conf")
        write(path, text)
        for extra in ([], ["--test-config"]):
            rc, out, err = run_hub_once("--config", path, "-i", "0", "-o", "0", *extra)
            check(rc in (1, 2), f"{what} {extra}: exit {rc}\n{err}")
            check(f"{path}:{line}" in err, f"{what} {extra}: no {path}:{line} in:\n{err}")
            check("configuration OK" not in out and "listening" not in err,
                  f"{what} {extra}: accepted:\n{out}{err}")
    rc, _, err = run_hub_once("--config", os.path.join(tmp, "missing.conf"))
    check(rc in (1, 2) and "missing.conf" in err, f"missing config file: exit {rc}\n{err}")

    # A hub from the file alone.
    with ndltest.Procs() as procs:
        hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "--config", conf])
        ndltest.wait_port(p_in, proc=hub)
        ndltest.wait_port(p_out, proc=hub)
        asyncio.run(config_scenario(p_in, p_out))
        stop_hub_clean(hub)

    # The command line overrides the file on a real run too.
    with ndltest.Procs() as procs:
        hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "--config", conf, "-o",
                                     str(p_other), "-f", "5"])
        ndltest.wait_port(p_other, proc=hub)
        ndltest.wait_port(p_in, proc=hub)
        check(port_is_free(p_out), "the file's out-port is in use though -o overrode it")

        async def slow_status():
            e = await hello_ws(p_other, {"eater_name": "cli-eater"})
            n = await count_statuses(e, 1.5)
            check(n <= 1, f"{n} status dumplings in 1.5 s with -f 5 over the file's 0.4")
            await e.close()
        asyncio.run(slow_status())
        stop_hub_clean(hub)


# ---- SIGHUP ----

async def reload_scenario(hub, conf, p_in, p_out, p_new):
    e = await hello_ws(p_out, {"eater_name": "reload-eater"})
    await next_status(e)                # the first, at start-up (or the next)
    n = await count_statuses(e, 1.5)
    check(n == 0, f"{n} status dumplings in 1.5 s with status-freq 5")

    # Faster statuses and a lower limit per address.
    write(conf, config_text(p_in, p_out, 0.3, "max-per-address = 2\n"))
    hub.signal(signal.SIGHUP)
    await alog(hub, "reloaded")
    n = await count_statuses(e, 1.5)
    check(n >= 3, f"{n} status dumplings in 1.5 s after SIGHUP to status-freq 0.3")
    k = await hello_ws(p_in, kitchen_hello("k-reload"))          # second from 127.0.0.1
    third = await connect(p_in)
    check(await close_code_of(third) == 1013, "max-per-address 2 from SIGHUP not applied")
    await k.send(dumpling("RChef", "k-reload", {"i": 1}))
    got = await dumplings_of(e, 1)
    check(got[0]["payload"]["i"] == 1, "dumpling lost after SIGHUP")

    # A broken file: refused with FILE:LINE, the old settings stay.
    write(conf, config_text(p_in, p_out, 0.3, "max-per-address = 2\nstatus-freq = banana\n"))
    hub.signal(signal.SIGHUP)
    await alog(hub, "reload failed")
    check(f"{conf}:12" in hub.read_stderr(), "the failed reload does not say FILE:LINE:\n"
          + hub.read_stderr()[-2000:])
    check(hub.poll() is None, "nd-hub died on a broken config file")
    n = await count_statuses(e, 1.5)
    check(n >= 3, f"{n} status dumplings in 1.5 s after a failed reload (0.3 kept?)")
    third = await connect(p_in)
    check(await close_code_of(third) == 1013, "max-per-address 2 lost after a failed reload")

    # A new port: refused, the hub stays where it is.
    write(conf, config_text(p_new, p_out, 0.3, "max-per-address = 2\n"))
    hub.signal(signal.SIGHUP)
    await alog(hub, "reload failed", 2)
    tail = hub.read_stderr().split("reload failed")[-1]
    check("port" in tail, "the refused port change is not explained:\n" + hub.read_stderr()[-2000:])
    check(hub.poll() is None, "nd-hub died on a port change")
    check(port_is_free(p_new), "nd-hub listens on the new port after all")
    await k.send(dumpling("RChef", "k-reload", {"i": 2}))
    got = await dumplings_of(e, 1)
    check(got[0]["payload"]["i"] == 2, "the kitchen port stopped working")

    # Back to a good file: reloads again.
    write(conf, config_text(p_in, p_out, 1))
    hub.signal(signal.SIGHUP)
    await alog(hub, "reloaded", 2)
    k2 = await hello_ws(p_in, kitchen_hello("k-after"))        # no per-address limit now
    await next_status(e, lambda p: p["dumpling_kitchen_count"] == 2)
    for ws in (k, k2, e):
        await ws.close()


def part_reload(tmp):
    p_in, p_out, p_new = ndltest.free_port(), ndltest.free_port(), ndltest.free_port()
    conf = os.path.join(tmp, "reload.conf")
    write(conf, config_text(p_in, p_out, 5))
    with ndltest.Procs() as procs:
        hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "--config", conf])
        ndltest.wait_port(p_in, proc=hub)
        ndltest.wait_port(p_out, proc=hub)
        asyncio.run(reload_scenario(hub, conf, p_in, p_out, p_new))
        stop_hub_clean(hub)


PARTS = [part_metrics, part_metrics_utf8, part_json_logs, part_json_logs_utf8,
         part_json_logs_reload, part_config, part_reload]

if __name__ == "__main__":
    run_parts(PARTS, "operations")
