#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live capture without the right to capture: nd-sniff run as an
unprivileged user must fail with exit status 1 and a message that says what
to do, not crash or exit 0. Needs root (to switch to the unprivileged user)
and setpriv; skipped otherwise."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

if os.geteuid() != 0 or not shutil.which("setpriv"):
    print("SKIP: needs root and setpriv to run nd-sniff as an unprivileged user")
    sys.exit(77)

r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    ndltest.prog("nd-sniff"), "-i", "lo", "--stdout"],
                   capture_output=True, text=True, timeout=30)
assert r.returncode == 1, f"exit {r.returncode}: {r.stderr}"
for needle in ("cannot capture on lo", "permission denied", "run as root", "cap_net_raw"):
    assert needle in r.stderr, f"{needle!r} missing from: {r.stderr}"
assert r.stdout == "", r.stdout
print("ok: unprivileged live capture fails with exit 1 and says how to fix it")
