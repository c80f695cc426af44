# SPDX-License-Identifier: MIT
"""Shared helpers for the integration tests: run the real programs on
127.0.0.1, on ports chosen at run time, and stop every one by its PID."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("NDL_BUILD_ROOT", os.path.abspath("build"))
SOURCE = os.environ.get("NDL_SOURCE_ROOT", os.path.abspath("."))
SHARED_PCAPS = os.environ.get("NDL_SHARED_PCAPS", "")


def prog(name):
    """Path of a built program by its name (nd-hub, nd-sniff, nd-print...)."""
    for sub in ("hub", "kitchen", "eaters", "eater-sdk", "."):
        p = os.path.join(BUILD, sub, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise FileNotFoundError(f"{name} is not built under {BUILD}")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    """Wait until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.returncode} before listening:\n"
                               + proc.read_stderr())
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class Proc:
    """A child process whose stdout and stderr go to temporary files."""

    def __init__(self, name, argv, env=None, stdin=subprocess.DEVNULL):
        self.name = name
        self.argv = argv
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(argv, stdout=self._out, stderr=self._err,
                                  stdin=stdin, env=env)
        self.pid = self.p.pid
        self.returncode = None

    def poll(self):
        self.returncode = self.p.poll()
        return self.returncode

    def wait(self, timeout=30):
        self.returncode = self.p.wait(timeout=timeout)
        return self.returncode

    def signal(self, sig):
        if self.p.poll() is None:
            os.kill(self.pid, sig)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait()
        self.returncode = self.p.returncode
        return self.returncode

    @staticmethod
    def _read(f):
        """All the file holds so far, read with pread: the child shares the
        file's offset with us, so seeking and reading here would move where
        its next write lands, over what it wrote before."""
        fd = f.fileno()
        chunks, off = [], 0
        size = os.fstat(fd).st_size
        while off < size:
            b = os.pread(fd, size - off, off)
            if not b:
                break
            chunks.append(b)
            off += len(b)
        return b"".join(chunks).decode("utf-8", "replace")

    def read_stdout(self):
        return self._read(self._out)

    def read_stderr(self):
        return self._read(self._err)

    def json_lines(self):
        """stdout parsed as one JSON document per non-empty line."""
        return [json.loads(line) for line in self.read_stdout().splitlines() if line.strip()]


class Procs:
    """Context manager that stops every process started through it."""

    def __init__(self):
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            p.stop()
        return False

    def start(self, name, argv, **kw):
        p = Proc(name, argv, **kw)
        self.procs.append(p)
        return p

    def hub(self, *extra, status_freq=None):
        """Start nd-hub on 127.0.0.1 with fresh ports; returns (proc, in_port, out_port)."""
        in_port, out_port = free_port(), free_port()
        argv = [prog("nd-hub"), "-a", "127.0.0.1", "-i", str(in_port), "-o", str(out_port)]
        if status_freq is not None:
            argv += ["-f", str(status_freq)]
        argv += list(extra)
        p = self.start("nd-hub", argv)
        wait_port(in_port, proc=p)
        wait_port(out_port, proc=p)
        return p, in_port, out_port

    def hub_any_port(self, *extra, status_freq=None, env=None, timeout=10.0):
        """Start nd-hub on 127.0.0.1 with -i 0 -o 0 (the OS picks the ports,
        no race) and read the ports from its start-up line; returns
        (proc, in_port, out_port)."""
        argv = [prog("nd-hub"), "-a", "127.0.0.1", "-i", "0", "-o", "0"]
        if status_freq is not None:
            argv += ["-f", str(status_freq)]
        argv += list(extra)
        p = self.start("nd-hub", argv, env=env)
        in_port, out_port = hub_listening_ports(p, timeout=timeout)
        return p, in_port, out_port


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


HUB_LISTENING = "nd-hub listening for kitchens on "


def hub_listening_ports(proc, timeout=10.0):
    """(in_port, out_port) from nd-hub's start-up line on stderr:
    "nd-hub listening for kitchens on HOST:PORT and eaters on HOST:PORT"."""
    import re
    pat = re.compile(r"nd-hub listening for kitchens on (?:\[[^\]]*\]|[^ ]+):(\d+)"
                     r" and eaters on (?:\[[^\]]*\]|[^ ]+):(\d+)")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = pat.search(proc.read_stderr())
        if m:
            return int(m.group(1)), int(m.group(2))
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.returncode} before listening:\n"
                               + proc.read_stderr())
        time.sleep(0.05)
    raise TimeoutError(f"{proc.name} printed no listening line in {timeout}s:\n"
                       + proc.read_stderr())


def vmrss_kib(pid):
    """Resident set size of a live process in KiB (VmRSS in /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "AddressSanitizer:DEADLYSIGNAL")


def sanitizer_reports(text):
    """Lines of text that are AddressSanitizer / LeakSanitizer / UBSan reports."""
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKS)]


def in_ns(ns, *argv):
    """argv run inside network namespace ns."""
    return ["ip", "netns", "exec", ns, *argv]


def sh(*argv):
    """Run a set-up command; its standard output, or RuntimeError saying why
    it failed."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def in_namespaces(probe, build, delete, body):
    """Run body() between build() and delete() of the test's own network
    namespaces and print what it returns; the exit status for the test: 0,
    or 77 (skipped) when this machine cannot make namespaces (not root, no
    iproute2, or no permission). probe is a namespace name to try first. A
    timeout's SIGTERM still stops the processes and runs delete()."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("SKIP: needs root and iproute2 to make network namespaces")
        return 77
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        print("SKIP: cannot create a network namespace here")
        return 77
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    try:
        build()
        print(body())
        return 0
    finally:
        delete()
