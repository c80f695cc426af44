# SPDX-License-Identifier: MIT
"""The example eater builds out of tree against an installed eater SDK and
runs against a real nd-hub.

Installs the build into a temporary folder (meson install --destdir, tag
devel, and the SDK library the test is given), builds docs/examples/example-eater with its own
Makefile, pkg-config finding netdumplings-eater.pc only in that folder
(libuv's and jansson's from the system), and checks that the compile line
uses the installed header and that the program loads the installed
library. Then it starts the example before any hub listens (so it must
reconnect), starts nd-hub on that port, and has a kitchen written here
send DNSLookupChef dumplings with a hole in their sequence numbers and a
hostile name: the example must print the questions, escape the name,
report the gap and the lost connection, and exit 0 after -c 3 lookups.
Exits 77 (skipped) when make, a C compiler or nd-hub is missing."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402

import eatertest  # noqa: E402  (skips without python3-websockets)

EXAMPLE = os.path.join(ndltest.SOURCE, "docs", "examples", "example-eater")
T0 = 1795327895.5   # 2026-11-22 06:11:35.5 UTC


def sh(argv, env=None, timeout=180):
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def install_into(stage, lib):
    """meson install (tag devel: header, pkg-config file, libndleater.so) into
    stage, and the SDK library itself (tag runtime, which would want every
    program of the tree built) beside it; returns (folder of the .pc file,
    folder of the library)."""
    meson = shutil.which("meson")
    cmd = [meson] if meson else [sys.executable, "-m", "mesonbuild.mesonmain"]
    r = sh(cmd + ["install", "-C", ndltest.BUILD, "--no-rebuild", "--destdir", stage,
                  "--tags", "devel"])
    if r.returncode != 0:
        ndltest.fail(f"meson install --destdir exited {r.returncode}:\n{r.stdout}{r.stderr}")
    pcs = glob.glob(os.path.join(stage, "**", "netdumplings-eater.pc"), recursive=True)
    links = glob.glob(os.path.join(stage, "**", "libndleater.so"), recursive=True)
    if len(pcs) != 1 or len(links) != 1 or \
            not glob.glob(os.path.join(stage, "**", "ndl", "eater.h"), recursive=True):
        ndltest.fail(f"want one netdumplings-eater.pc, libndleater.so and ndl/eater.h in"
                     f" the install, found {pcs} and {links}")
    libdir = os.path.dirname(links[0])
    shutil.copy(lib, os.path.join(libdir, os.readlink(links[0])))
    return os.path.dirname(pcs[0]), libdir


def build(stage, pcdir, srcdir, sanitize):
    """make in a copy of the example; returns the program's path. With the
    SDK built with sanitizers (b_sanitize), the example is too: a program
    without their runtime cannot load such a library."""
    for name in ("dnswatch.c", "Makefile"):
        shutil.copy(os.path.join(EXAMPLE, name), srcdir)
    system_pc = sh(["pkg-config", "--variable", "pc_path", "pkg-config"]).stdout.strip()
    env = dict(os.environ, PKG_CONFIG_LIBDIR=pcdir + (":" + system_pc if system_pc else ""),
               PKG_CONFIG_SYSROOT_DIR=stage, CFLAGS="-O2 -g -Werror")
    if sanitize and sanitize != "none":
        env["CFLAGS"] += f" -fsanitize={sanitize}"
        env["LDFLAGS"] = f"-fsanitize={sanitize}"
    env.pop("PKG_CONFIG_PATH", None)
    r = sh(["make", "-C", srcdir, "--no-print-directory"], env=env)
    if r.returncode != 0:
        ndltest.fail(f"make exited {r.returncode}:\n{r.stdout}{r.stderr}")
    if f"-I{stage}" not in r.stdout or f"-L{stage}" not in r.stdout:
        ndltest.fail(f"the compile line does not use the installed header and library:\n"
                     f"{r.stdout}")
    prog = os.path.join(srcdir, "dnswatch")
    if not os.access(prog, os.X_OK):
        ndltest.fail("make made no dnswatch")
    return prog


def lookup(name, qtype="A", response=False):
    return {"lookup": {"hostname": name, "when": T0, "qtype": qtype,
                       "is_response": response, "rcode": "NOERROR" if response else None}}


def main():
    try:
        ndltest.prog("nd-hub")
    except FileNotFoundError as e:
        print(f"SKIP: {e}")
        sys.exit(77)
    if not shutil.which("make") or not (shutil.which("cc") or os.environ.get("CC")):
        print("SKIP: make or cc is not installed")
        sys.exit(77)

    with tempfile.TemporaryDirectory(prefix="ndl-example-eater-") as tmp, \
            ndltest.Procs() as procs:
        stage, srcdir = os.path.join(tmp, "stage"), os.path.join(tmp, "src")
        os.makedirs(srcdir)
        pcdir, libdir = install_into(stage, sys.argv[1])
        prog = build(stage, pcdir, srcdir, sys.argv[2] if len(sys.argv) > 2 else None)
        env = dict(os.environ, LD_LIBRARY_PATH=libdir, TZ="UTC")
        ldd = sh(["ldd", prog], env=env).stdout
        if os.path.join(libdir, "libndleater.so.0") not in ldd:
            ndltest.fail(f"dnswatch does not load the installed libndleater:\n{ldd}")

        in_port, out_port = ndltest.free_port(), ndltest.free_port()
        w = procs.start("dnswatch", [prog, "-c", "3", f"127.0.0.1:{out_port}"], env=env)
        deadline = time.monotonic() + 10
        while "trying again" not in w.read_stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        if "trying again" not in w.read_stderr():
            ndltest.fail(f"with no hub, the example says nothing of retrying:\n"
                         f"{w.read_stderr()}")
        hub = procs.start("nd-hub", [ndltest.prog("nd-hub"), "-a", "127.0.0.1",
                                     "-i", str(in_port), "-o", str(out_port)])
        ndltest.wait_port(in_port, proc=hub)
        eatertest.wait_listed(out_port, "dnswatch")

        def d(*args, **kw):
            return eatertest.dumpling(*args, kitchen="lab-kitchen", **kw)

        frames = [
            d("DNSLookupChef", lookup("www.example.test"), t=T0, seq=1),
            d("DNSLookupChef", lookup("www.example.test", response=True), t=T0, seq=2),
            d("PacketCountChef", {"packet_counts": {"UDP": 2}}, t=T0, seq=3,
              driver="interval"),
            d("DNSLookupChef", lookup("mail.example.test", "MX"), t=T0 + 1, seq=4),
            # seq 5 never sent: a gap of one
            d("DNSLookupChef", lookup("evil\x1b[2J.example\nforged"), t=T0 + 2, seq=6),
            d("DNSLookupChef", lookup("after.example.test"), t=T0 + 3, seq=7),
        ]
        eatertest.kitchen(in_port, frames, name="lab-kitchen", chefs=["DNSLookupChef"])
        rc = eatertest.wait_exit(w, 20)
        out, err = w.read_stdout(), w.read_stderr()
        want = ("06:11:35 lab-kitchen asked A www.example.test\n"
                "06:11:36 lab-kitchen asked MX mail.example.test\n"
                "06:11:37 lab-kitchen asked A evil\\x1b[2J.example\\x0aforged\n")
        problems = []
        if rc != 0:
            problems.append(f"exit status {rc}, want 0 after -c 3")
        if out != want:
            problems.append(f"printed {out!r}, want {want!r}")
        for line in ("dnswatch: lost ws://127.0.0.1:", f"dnswatch: connected to ws://127.0.0.1:"
                     f"{out_port}", "dnswatch: 1 dumplings from kitchen lab-kitchen never"
                     " arrived", "dnswatch: 3 lookups printed;", "1 missing in 1 gaps"):
            if line not in err:
                problems.append(f"stderr lacks {line!r}")
        if ndltest.sanitizer_reports(err):
            problems.append("sanitizer reports")
        if problems:
            ndltest.fail("; ".join(problems) + f"\nstderr:\n{err}")
    print("ok: the example eater builds out of tree, reconnects, reports gaps")


if __name__ == "__main__":
    main()
