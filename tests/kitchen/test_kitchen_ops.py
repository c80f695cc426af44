# SPDX-License-Identifier: MIT
"""nd-sniff as a service: --config files (values, command-line overrides,
errors naming FILE:LINE), --test-config (prints a configuration that reads
back, finds every problem, captures and connects nothing), and privileges:
--user drops root for good while live capture goes on, and a kitchen
started unprivileged with capabilities gives them up once capture is open.

Usage: test_kitchen_ops.py FIXTURE_DIR"""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kitchentest import SNIFF, T0, check, dns_frame, finish, run, write_pcap  # noqa: E402

FIXTURES = sys.argv[1]
EMIT = os.path.join(FIXTURES, "fx_emit.so")


tmp = tempfile.mkdtemp(prefix="nd-sniff-ops-")
os.chmod(tmp, 0o755)
PCAP = os.path.join(tmp, "three.pcap")
write_pcap(PCAP, [(T0, 0, dns_frame(1)), (T0, 500000, dns_frame(2)),
                  (T0 + 2, 500000, dns_frame(3))])
os.chmod(PCAP, 0o644)


def conf(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def kitchens(out):
    return {json.loads(line)["metadata"]["kitchen"] for line in out.splitlines()}


def test_config_values_and_overrides():
    path = conf("k.conf", f"""# a kitchen
kitchen-name = "from the file"
chef-module = {EMIT}
read = {PCAP}
stdout
poke-interval = 1
option = EmitChef.flag=yes
""")
    rc, out, err = run("--config", path)
    check(rc == 0 and kitchens(out) == {"from the file"} and len(out.splitlines()) == 6,
          f"a replay configured by the file alone: {rc} {err!r}")
    rc, out, err = run("--config", path, "-n", "cli", "-p", "5")
    check(rc == 0 and kitchens(out) == {"cli"} and len(out.splitlines()) == 4,
          f"the command line overrides the file: {rc} {out!r}")
    rc, out, err = run("--config=" + path, "-o", "EmitChef.limit=3")
    check(rc == 0 and "EmitChef.opt_limit: 3" in err and "EmitChef.opt_flag: 1" in err,
          f"lists add up, file then command line: {rc} {err!r}")
    quiet = conf("quiet.conf", f"quiet\nchef-module = {EMIT}\nread = {PCAP}\nstdout\n")
    rc, out, err = run("--config", quiet)
    check(rc == 0 and err == "", f"quiet from the file: {err!r}")
    rc, out, err = run("--config", quiet, "-v")
    check(rc == 0 and "dumplings written" in err, f"-v on the command line wins: {err!r}")
    # a file for a hub kitchen, run once to stdout; a live file, replayed
    hubconf = conf("hub.conf", f"hub = 127.0.0.1:9\nchef-module = {EMIT}\n"
                               "interface = lo\nfanout = 7\n")
    rc, out, err = run("--config", hubconf, "--stdout", "-r", PCAP)
    check(rc == 0 and len(out.splitlines()) == 4,
          f"--stdout and -r on the command line win over hub, interface and fanout: {rc} "
          f"{err!r}")
    rc, out, err = run("--config", hubconf, "--stdout", "-h", "127.0.0.1:9", "-r", PCAP)
    check(rc == 2 and "--stdout and -h/--hub cannot be used together" in err,
          f"a conflict within the command line stays one: {rc} {err!r}")


def test_config_errors():
    cases = [
        ("promisc\n\nbogus = 1\n", 2, "bad.conf:3: unknown option \"bogus\""),
        ("chef-mod = x\n", 2, "bad.conf:1: unknown option \"chef-mod\""),
        ("snaplen = 10\n", 2, "bad.conf:1: --snaplen expects an integer in [64, 262144], "
                              "got \"10\""),
        ("# x\nfilter = \"tcp\n", 2, "bad.conf:2: the value of \"filter\" has no closing "
                                     "quote"),
        ("promisc = yes\n", 2, "bad.conf:1: \"promisc\" is a flag and takes no value"),
        ("filter\n", 2, "bad.conf:1: \"filter\" needs a value (filter = VALUE)"),
        ("--read = x\n", 2, "bad.conf:1: write option names without dashes"),
        ("config = other.conf\n", 2, "bad.conf:1: a configuration file cannot name another"),
        ("hub = wss://\n", 2, "bad.conf:1: --hub expects HOST:PORT"),
    ]
    for text, want_rc, want in cases:
        path = conf("bad.conf", text)
        rc, out, err = run("--config", path, "--stdout", "-m", EMIT, "-r", PCAP)
        check(rc == want_rc and f"nd-sniff: {path.replace('bad.conf', '')}{want}" in err,
              f"config error {text!r}: {rc} {err!r}")
    rc, out, err = run("--config", os.path.join(tmp, "missing.conf"), "--stdout")
    check(rc == 2 and "cannot read the configuration file" in err and "No such file" in err,
          f"missing config: {rc} {err!r}")
    rc, out, err = run("--config", conf("a.conf", ""), "--config", conf("b.conf", ""),
                       "--stdout", "-m", EMIT, "-r", PCAP)
    check(rc == 2 and "--config given more than once" in err, f"two configs: {rc} {err!r}")
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--snaplen", "10")
    check(rc == 2 and err.startswith("nd-sniff: --snaplen"),
          f"no FILE:LINE for the command line's own errors: {err!r}")


def test_test_config_ok_and_round_trip():
    tokens = conf("k.token", "# kitchen token\nsecret-token-value\n")
    os.chmod(tokens, 0o600)
    ca = conf("ca.pem", "(read, not parsed, by --test-config)\n")
    user = "user = nobody\n" if os.geteuid() == 0 else ""
    path = conf("live.conf", f"""kitchen-name = edge 1
interface = lo
filter = udp port 53
chef-module = {EMIT}
hub = wss://127.0.0.1:1
hub-ca = {ca}
token-file = {tokens}
batch-bytes = 4096
{user}""")
    # something listening where the hub is: --test-config must not connect
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(5)
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    rc, out, err = run("--config", path, "-h", f"wss://127.0.0.1:{port}", "--test-config")
    try:
        lsock.accept()
        connected = True
    except BlockingIOError:
        connected = False
    lsock.close()
    check(rc == 0 and out.endswith("configuration OK\n"), f"--test-config OK: {rc} {err!r}")
    check(not connected, "--test-config connects nothing")
    for want in ("kitchen-name = edge 1\n", "interface = lo\n", "filter = udp port 53\n",
                 f"hub = wss://127.0.0.1:{port}\n", "batch-bytes = 4096\n", user,
                 "chef = fx_emit.EmitChef\n", f"token-file = {tokens}\n"):
        check(want in out, f"effective configuration shows {want!r}: {out!r}")
    check("secret-token-value" not in out + err, "--test-config never prints the token")
    # what it prints is a configuration file that gives the same result
    again = conf("again.conf", out.replace("configuration OK\n", ""))
    rc2, out2, err2 = run("--config", again, "--test-config")
    body = [x for x in out.splitlines() if not x.startswith("#")]
    body2 = [x for x in out2.splitlines() if not x.startswith("#")]
    check(rc2 == 0 and body2 == body, f"the printed configuration reads back: {rc2} {err2!r}")


def test_test_config_problems():
    path = conf("broken.conf", f"""interface = nosuchif0
filter = tcp port
chef-module = {EMIT}
chef = NoSuchChef
hub = wss://127.0.0.1:1
hub-ca = {os.path.join(tmp, "no-ca.pem")}
token-file = {os.path.join(tmp, "no.token")}
user = no-such-user-here
""")
    rc, out, err = run("--config", path, "--test-config")
    check(rc == 1 and "configuration OK" not in out, f"broken config fails: {rc} {out!r}")
    for want in ("no user \"no-such-user-here\"", "cannot read the token file",
                 "cannot read the CA file", "no interface \"nosuchif0\"",
                 "bad capture filter", "unknown chef \"NoSuchChef\"",
                 "6 problems in the configuration"):
        check(want in err, f"--test-config names {want!r}: {err!r}")
    rc, out, err = run("--config", conf("v.conf", "snaplen = 1\n"), "--test-config")
    check(rc == 1 and "v.conf:1: --snaplen" in err, f"a bad value is exit 1 here: {rc} {err!r}")
    rc, out, err = run("-r", os.path.join(tmp, "none.pcap"), "-m", EMIT, "--stdout",
                       "--test-config")
    check(rc == 1 and "cannot read" in err and "none.pcap" in err, f"missing -r file: {err!r}")
    rc, out, err = run("-r", PCAP, "-m", EMIT, "--stdout", "-f", "udp and", "--test-config")
    check(rc == 1 and "bad capture filter \"udp and\"" in err, f"filter on the file's "
          f"link type: {err!r}")
    rc, out, err = run("-r", PCAP, "-m", EMIT, "--stdout", "-o", "EmitChef.limit=x",
                       "--test-config")
    check(rc == 1 and "EmitChef.limit" in err, f"chef option checked: {err!r}")


def test_user_refusals():
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--user", "root")
    check(rc == 1 and "--user root is root: name an unprivileged user" in err, f"{err!r}")
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--user", "no-such-user-here")
    check(rc == 1 and "--user: no user \"no-such-user-here\"" in err, f"{err!r}")
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--group", "nogroup")
    check(rc == 2 and "--group only applies with --user" in err, f"{err!r}")
    if os.geteuid() != 0:
        print("not root: the refusal of --user as another user is checked as is",
              file=sys.stderr)
        rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--user", "nobody")
        check(rc == 1 and "needs nd-sniff to start as root" in err, f"{err!r}")
        return
    nobody = pwd.getpwnam("nobody")

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--user", "daemon",
                       preexec_fn=as_nobody)
    check(rc == 1 and "--user daemon needs nd-sniff to start as root (it runs as uid 65534" in
          err, f"not root: refused clearly: {rc} {err!r}")
    rc, out, err = run("--stdout", "-m", EMIT, "-r", PCAP, "--user", "nobody",
                       preexec_fn=as_nobody)
    check(rc == 0 and len(out.splitlines()) == 4, f"already that user: fine: {rc} {err!r}")


def status_fields(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


def live_capture(argv, port, what):
    """Start argv, send UDP to port on lo until dumplings show, look at the
    process, stop it; returns (status fields, dumplings, rc, stderr)."""
    with ndltest.Procs() as procs:
        p = procs.start("nd-sniff", argv)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        fields = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None:
            s.sendto(b"x" * 10, ("127.0.0.1", port))
            time.sleep(0.05)
            out = p.read_stdout().splitlines()
            if sum('"driver":"packet"' in line for line in out) >= 5:
                fields = status_fields(p.pid)
                break
        s.close()
        p.signal(15)
        rc = p.wait(10)
        got = [json.loads(x) for x in p.read_stdout().splitlines()]
        err = p.read_stderr()
    check(rc == 0, f"{what}: stops with 0: {rc} {err!r}")
    packets = [d for d in got if d["metadata"]["driver"] == "packet"]
    check(len(packets) >= 5, f"{what}: live packets still reach the chef: {len(packets)} {err!r}")
    return fields


def test_user_live():
    if os.geteuid() != 0:
        print("live capture with --user needs root: skipped", file=sys.stderr)
        return
    port = ndltest.free_port()
    f = live_capture([SNIFF, "--stdout", "-m", EMIT, "-i", "lo", "-p", "0.2", "-f",
                      f"udp port {port}", "--user", "nobody", "-v"], port, "--user nobody")
    nobody = pwd.getpwnam("nobody")
    uid, gid = str(nobody.pw_uid), str(nobody.pw_gid)
    check(f.get("Uid") == [uid] * 4, f"every uid is nobody's: {f.get('Uid')}")
    check(f.get("Gid") == [gid] * 4, f"every gid is nogroup's: {f.get('Gid')}")
    check(f.get("Groups") == [gid], f"no other group: {f.get('Groups')}")
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        check(f.get(cap) and int(f[cap][0], 16) == 0, f"{cap} empty: {f.get(cap)}")
    check(f.get("NoNewPrivs") == ["1"], f"no_new_privs: {f.get('NoNewPrivs')}")

    # with a group of its choosing
    port = ndltest.free_port()
    f = live_capture([SNIFF, "--stdout", "-m", EMIT, "-i", "lo", "-p", "0.2", "-f",
                      f"udp port {port}", "--user", "nobody", "--group", "daemon"], port,
                     "--group daemon")
    daemon_gid = str(subprocess.run(["getent", "group", "daemon"], stdout=subprocess.PIPE)
                     .stdout.decode().split(":")[2])
    check(f.get("Gid") == [daemon_gid] * 4 and f.get("Groups") == [daemon_gid],
          f"--group daemon: {f.get('Gid')} {f.get('Groups')}")


def test_caps_dropped_without_user():
    """Started as nobody with CAP_NET_RAW and CAP_NET_ADMIN ambient (what the
    systemd unit does): captures, then holds no capability."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("needs root and setpriv: skipped", file=sys.stderr)
        return
    port = ndltest.free_port()
    argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=+net_raw,+net_admin", "--ambient-caps=+net_raw,+net_admin",
            SNIFF, "--stdout", "-m", EMIT, "-i", "lo", "-p", "0.2", "-f", f"udp port {port}",
            "-v"]
    f = live_capture(argv, port, "ambient capabilities")
    check(f.get("Uid", [None])[0] == str(pwd.getpwnam("nobody").pw_uid), f"runs as nobody: {f}")
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        check(f.get(cap) and int(f[cap][0], 16) == 0, f"{cap} dropped: {f.get(cap)}")
    check(f.get("NoNewPrivs") == ["1"], f"no_new_privs: {f.get('NoNewPrivs')}")


for t in [test_config_values_and_overrides, test_config_errors,
          test_test_config_ok_and_round_trip, test_test_config_problems, test_user_refusals,
          test_user_live, test_caps_dropped_without_user]:
    t()

shutil.rmtree(tmp, ignore_errors=True)
finish()
print("all nd-sniff operations checks passed")
