# SPDX-License-Identifier: MIT
"""dist/: the systemd units pass systemd-analyze verify without a single
warning (skipped where systemd-analyze is missing), and the example
configurations pass nd-sniff --test-config and nd-hub --test-config.

Usage: test_dist.py"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

DIST = os.path.join(ndltest.SOURCE, "dist")
SNIFF = ndltest.prog("nd-sniff")
HUB = ndltest.prog("nd-hub")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


tmp = tempfile.mkdtemp(prefix="ndl-dist-")


def local_copy(name, replace):
    """dist/NAME with the installed paths pointed at this build and tmp."""
    with open(os.path.join(DIST, name)) as f:
        text = f.read()
    for old, new in replace:
        text = text.replace(old, new)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path, text


def test_units():
    tool = shutil.which("systemd-analyze")
    if not tool:
        print("systemd-analyze not found: unit checks skipped", file=sys.stderr)
        return
    paths = [("/usr/local/bin/nd-hub", HUB), ("/usr/local/bin/nd-sniff", SNIFF)]
    hub, hub_text = local_copy("nd-hub.service", paths)
    sniff, sniff_text = local_copy("nd-sniff@.service", paths)
    for unit in (hub, sniff, os.path.join(tmp, "nd-sniff@edge.service")):
        p = subprocess.run([tool, "verify", "--man=no", unit], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode()
        check(p.returncode == 0 and not out.strip(),
              f"systemd-analyze verify {os.path.basename(unit)}: {p.returncode} {out!r}")
    # what the issue asks of them, so that an edit cannot drop it quietly
    for want in ("NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n",
                 "ExecReload=/bin/kill -HUP $MAINPID", "/etc/netdumplings/hub.conf"):
        check(want in hub_text, f"nd-hub.service has {want!r}")
    for want in ("NoNewPrivileges=yes", "ProtectSystem=strict",
                 "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN\n",
                 "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN\n",
                 "/etc/netdumplings/kitchen-%i.conf", "AF_PACKET"):
        check(want in sniff_text, f"nd-sniff@.service has {want!r}")


def test_kitchen_example():
    path, _ = local_copy("kitchen.conf.example", [])
    p = subprocess.run([SNIFF, "--config", path, "--test-config"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    check(p.returncode == 0 and out.endswith("configuration OK\n"),
          f"kitchen.conf.example passes --test-config: {p.returncode} {err!r}")
    for want in ("kitchen-name = edge-1\n", "interface = all\n", "hub = localhost:11347\n",
                 "batch-bytes = 65536\n", "chef = "):
        check(want in out, f"the example's {want!r} is in effect: {out!r}")
    p = subprocess.run([SNIFF, "--config", path, "--test-config", "-q"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0 and p.stdout.decode() == "configuration OK\n",
          f"-q: only the verdict (ExecStartPre): {p.stdout.decode()!r}")
    # every commented-out setting is a valid key too
    keys = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("# ") and (" = " in line or line[2:].isidentifier() or
                                          line[2:].replace("-", "").isalpha()):
                keys.append(line[2:].split(" = ")[0])
    check(len(keys) >= 8, f"the commented-out settings were found: {keys}")
    for key in keys:
        p = subprocess.run([SNIFF, "--config", local_copy_text(f"{key} = x\n"),
                            "--test-config"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        check("unknown option" not in err, f"commented key {key!r} is an option: {err!r}")


def local_copy_text(text):
    path = os.path.join(tmp, "one.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_hub_example():
    path, _ = local_copy("hub.conf.example", [])
    p = subprocess.run([HUB, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if "--test-config" not in p.stdout.decode():
        print("nd-hub has no --test-config: hub example check skipped", file=sys.stderr)
        return
    p = subprocess.run([HUB, "--config", path, "--test-config"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, f"hub.conf.example passes nd-hub --test-config: {p.returncode} "
          f"{p.stderr.decode()!r}")


for t in [test_units, test_kitchen_example, test_hub_example]:
    t()

shutil.rmtree(tmp, ignore_errors=True)
if failures:
    ndltest.fail(f"{len(failures)} check(s) failed")
print("all dist checks passed")
