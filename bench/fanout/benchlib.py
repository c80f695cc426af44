# SPDX-License-Identifier: MIT
"""What bench/run and the smoke test share: starting the hubs and the load
programs on 127.0.0.1, reading their result lines, and stopping every
process by its PID."""

import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_HUB_DIR = os.path.join(HERE, "node-hub")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Child:
    """A child process; stdout is read line by line, stderr kept in a file."""

    def __init__(self, name, argv, cwd=None, cpus=None):
        self.name = name
        self.argv = argv
        self._err = tempfile.TemporaryFile()
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._err,
                                  stdin=subprocess.DEVNULL, cwd=cwd, preexec_fn=pin)
        self.pid = self.p.pid
        self._buf = b""
        self._eof = False

    def readline(self, timeout):
        """The next stdout line without its newline, or None at EOF/timeout."""
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self._buf and not self._eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                self._eof = True
            self._buf += chunk
        if b"\n" not in self._buf:
            line, self._buf = self._buf, b""
            return line.decode(errors="replace") if line else None
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def read_json(self, timeout):
        """The next stdout line that is a JSON object, or None."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.0, deadline - time.monotonic()))
            if line is None:
                return None
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)

    def stderr_text(self, limit=4000):
        # pread: the child shares the file's offset, which a seek would move
        fd = self._err.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")[-limit:]

    def wait(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=5.0):
        """SIGTERM by PID, then SIGKILL; returns the exit status."""
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            if self.wait(timeout) is None:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait()
        return self.p.returncode

    def close(self):
        """Stop the process and let go of its pipe."""
        self.stop()
        self.p.stdout.close()


def wait_port(port, proc, timeout=10.0):
    """Wait until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.p.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.p.returncode} before "
                               f"listening:\n{proc.stderr_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{proc.name}: nothing listens on 127.0.0.1:{port} after {timeout} s")


def start_hub(kind, nd_hub=None, node="node", extra=(), cpus=None):
    """Start nd-hub ("ours") or the Node peer ("node") on free ports, on
    the CPUs in cpus when given. Returns (Child, kitchen port, eater port)."""
    pin, pout = free_port(), free_port()
    while pout == pin:
        pout = free_port()
    if kind == "ours":
        hub = Child("nd-hub", [nd_hub, "-a", "127.0.0.1", "-i", str(pin), "-o", str(pout),
                               "-q", *extra], cpus=cpus)
    else:
        hub = Child("node-hub", [node, os.path.join(NODE_HUB_DIR, "hub.js"),
                                 "--address", "127.0.0.1", "--in-port", str(pin),
                                 "--out-port", str(pout), *extra], cwd=NODE_HUB_DIR,
                    cpus=cpus)
    try:
        wait_port(pin, hub)
        wait_port(pout, hub)
    except Exception:
        hub.stop()
        raise
    return hub, pin, pout


class NoBatch(Exception):
    """The hub answered the batch offer without netdumplings.batch.v1."""


def run_load(hub, pin, pout, kitchen, eaters, *, n_eaters, kitchens=1, batch=False,
             rate=0.0, count=0, warmup=1.0, duration=5.0, expect=0, timeout=None,
             idle=0.0, cpus=None):
    """Run nd-bench-eaters and nd-bench-kitchen (on the CPUs in cpus when
    given) against a started hub, once.
    Returns (eaters' result, kitchen's result); raises NoBatch when the hub
    refused batch mode, RuntimeError when a load program failed."""
    total = timeout or (warmup + duration + 30.0)
    eargs = [eaters, "-h", f"127.0.0.1:{pout}", "-n", str(n_eaters), "-k", str(kitchens),
             "-w", str(warmup), "-d", str(duration), "-t", str(total), "-p", str(hub.pid)]
    if expect:
        eargs += ["-e", str(expect)]
    if idle:
        eargs += ["-i", str(idle)]
    if batch:
        eargs.append("-b")
    ev = Child("nd-bench-eaters", eargs, cpus=cpus)
    kc = None
    try:
        line = ev.readline(30.0)
        if line is None or not line.startswith("ready"):
            if ev.wait(5.0) == 3:
                raise NoBatch(ev.stderr_text().strip())
            raise RuntimeError(f"nd-bench-eaters did not get ready ({line!r}):\n"
                               f"{ev.stderr_text()}")
        kargs = [kitchen, "-h", f"127.0.0.1:{pin}", "-k", str(kitchens), "-r", str(rate)]
        if count:
            kargs += ["-c", str(count)]
        else:
            kargs += ["-d", str(total)]
        if batch:
            kargs.append("-b")
        kc = Child("nd-bench-kitchen", kargs, cpus=cpus)
        result = ev.read_json(total + 10.0)
        if result is None:
            if kc.wait(0.5) == 3:
                raise NoBatch(kc.stderr_text().strip())
            raise RuntimeError(f"nd-bench-eaters gave no result:\n{ev.stderr_text()}\n"
                               f"kitchen:\n{kc.stderr_text()}")
        if count:
            kc.wait(30.0)
        if kc.p.poll() == 3:
            raise NoBatch(kc.stderr_text().strip())
        kstatus = kc.stop()
        kres = kc.read_json(1.0)
        result["kitchen_status"] = kstatus
        result["eaters_status"] = ev.wait(10.0)
        result["eaters_stderr"] = ev.stderr_text(1000).strip()
        result["kitchen_stderr"] = kc.stderr_text(1000).strip()
        return result, kres
    finally:
        if kc is not None:
            kc.close()
        ev.close()
