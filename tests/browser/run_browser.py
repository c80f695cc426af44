# SPDX-License-Identifier: MIT
"""Run one browser test (a Node script driving Debian's chromium through
playwright-core) against real nd-hub and nd-sniff processes.

    run_browser.py TEST.mjs [OUT-DIR]

This wrapper owns every process: the Node script asks it, one JSON line at
a time on its standard output ("@@ctl {...}"), to start or kill a hub,
replay a capture into it, play a kitchen or a fake hub, and gets the answer
as one JSON line on its standard input. Every process is stopped by its PID
at the end, and the hubs' stderr is searched for sanitizer reports.

Exit 77 (meson's "skipped") only when node or chromium is not installed.
"""

import asyncio
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ndltest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("NDL_CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT_VERSION = "1.61.1"
TEST_DEADLINE = float(os.environ.get("NDL_BROWSER_DEADLINE", "540"))


def skip(msg):
    print(f"SKIP: {msg}")
    sys.exit(77)


def find_node():
    for name in ("node", "nodejs"):
        p = shutil.which(name)
        if p:
            return p
    return None


def node_major(node):
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    try:
        return int(out.strip().lstrip("v").split(".")[0])
    except ValueError:
        return 0


def ensure_playwright():
    """npm ci into tests/browser/node_modules unless the pinned
    playwright-core is there already (so that a machine without network
    access runs the test once it was installed). Serialised with a lock:
    the plain and the sanitizer builds may run this at the same time."""
    pkg = os.path.join(HERE, "node_modules", "playwright-core", "package.json")
    with open(os.path.join(HERE, "package.json")) as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        try:
            try:
                with open(pkg) as f:
                    if json.load(f).get("version") == PLAYWRIGHT_VERSION:
                        return
            except (OSError, ValueError):
                pass
            npm = shutil.which("npm")
            if not npm:
                ndltest.fail("error: npm is not installed and tests/browser/node_modules does not "
                             f"hold playwright-core {PLAYWRIGHT_VERSION}; install npm "
                             "(scripts/deps.sh) or run 'npm ci' in tests/browser")
            print(f"installing playwright-core {PLAYWRIGHT_VERSION} with npm ci", flush=True)
            r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                               cwd=HERE, capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                ndltest.fail("error: 'npm ci' in tests/browser failed:\n" + r.stdout + r.stderr)
        finally:
            fcntl.flock(lockf, fcntl.LOCK_UN)


# ------------------------------------------------------------ the processes

class World:
    """Everything the Node script asked for, by key."""

    def __init__(self, procs):
        self.procs = procs
        self.hubs = {}        # key -> {"proc", "in_port", "out_port", "args"}
        self.old_hubs = []    # hubs killed on purpose, checked at the end
        self.replays = {}     # key -> Proc
        self.fakes = {}       # key -> FakeHub
        self.tmp = []

    # -- hubs
    def hub_start(self, key="hub", args=(), in_port=None, out_port=None, files=None):
        if key in self.hubs and self.hubs[key]["proc"].poll() is None:
            raise RuntimeError(f"hub {key} is running already")
        argv_extra = list(args)
        for opt, text in (files or {}).items():
            fd, path = tempfile.mkstemp(prefix=f"ndl-browser-{key}-{opt.strip('-')}-")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            self.tmp.append(path)
            argv_extra += [opt, path]
        if in_port and out_port:
            argv = [ndltest.prog("nd-hub"), "-a", "127.0.0.1", "-i", str(in_port),
                    "-o", str(out_port)] + argv_extra
            p = self.procs.start("nd-hub", argv)
            # The ports were ours a moment ago: retry a little if the bind races.
            ndltest.wait_port(in_port, proc=p, timeout=60)
            ndltest.wait_port(out_port, proc=p, timeout=60)
        else:
            p, in_port, out_port = self.procs.hub_any_port(*argv_extra, timeout=60)
        self.hubs[key] = {"proc": p, "in_port": in_port, "out_port": out_port}
        return {"in_port": in_port, "out_port": out_port, "pid": p.pid}

    def hub_kill(self, key="hub", sig="KILL"):
        h = self.hubs[key]
        p = h["proc"]
        p.signal(signal.SIGKILL if sig == "KILL" else signal.SIGTERM)
        rc = p.wait(timeout=60)
        self.old_hubs.append(p)
        return {"rc": rc}

    def hub(self, key):
        h = self.hubs.get(key)
        if not h:
            raise RuntimeError(f"no hub {key}")
        return h

    # -- kitchens
    def _sniff_argv(self, hub, file, name, args):
        return [ndltest.prog("nd-sniff"), "-r", os.path.join(ndltest.SOURCE, file),
                "-h", f"127.0.0.1:{self.hub(hub)['in_port']}", "-n", name, "-q"] + list(args)

    def replay(self, hub="hub", file="tests/captures/demo.pcap", name="demo_kitchen", args=()):
        p = self.procs.start("nd-sniff", self._sniff_argv(hub, file, name, args))
        rc = p.wait(timeout=240)
        return {"rc": rc, "stderr": p.read_stderr()[-4000:]}

    def replay_start(self, key, hub="hub", file="tests/captures/demo.pcap", name="demo_kitchen",
                     args=()):
        self.replays[key] = self.procs.start("nd-sniff", self._sniff_argv(hub, file, name, args))
        return {"pid": self.replays[key].pid}

    def replay_wait(self, key, timeout=240):
        p = self.replays[key]
        rc = p.wait(timeout=timeout)
        return {"rc": rc, "stderr": p.read_stderr()[-4000:]}

    def expect(self, file="tests/captures/demo.pcap", name="demo_kitchen", args=()):
        p = self.procs.start("nd-sniff", [ndltest.prog("nd-sniff"), "-r",
                                          os.path.join(ndltest.SOURCE, file), "-n", name,
                                          "--stdout", "-q"] + list(args))
        rc = p.wait(timeout=120)
        if rc != 0:
            raise RuntimeError(f"nd-sniff --stdout exited {rc}: {p.read_stderr()}")
        return {"dumplings": p.json_lines()}

    def kitchen(self, hub="hub", hello=None, lines=(), batch=False, per_message=1,
                linger=0.5):
        """Play a kitchen: the hello, then the dumplings (objects or raw
        strings), per_message of them to a message in batch mode."""
        import websockets

        async def run():
            uri = f"ws://127.0.0.1:{self.hub(hub)['in_port']}/"
            kw = {"subprotocols": ["netdumplings.batch.v1"]} if batch else {}
            async with websockets.connect(uri, max_size=None, **kw) as ws:
                if batch and ws.subprotocol != "netdumplings.batch.v1":
                    raise RuntimeError("the hub did not take batch mode")
                await ws.send(json.dumps(hello or {"kitchen_name": "test_kitchen"}))
                texts = [x if isinstance(x, str) else json.dumps(x, separators=(",", ":"))
                         for x in lines]
                if batch:
                    for i in range(0, len(texts), per_message):
                        await ws.send("".join(t + "\n" for t in texts[i:i + per_message]))
                else:
                    for t in texts:
                        await ws.send(t)
                await asyncio.sleep(linger)
                await ws.close(1000)
        asyncio.run(run())
        return {"sent": len(lines)}

    def flood(self, hub="hub", name="flood_kitchen", count=10000, size=1000, per_message=50):
        """A kitchen sending count numbered dumplings of about size bytes, in batch mode."""
        pad = "x" * size
        lines = [{"metadata": {"chef": "FloodChef", "kitchen": name, "creation_time": 1.0,
                               "driver": "packet", "seq": i + 1}, "payload": {"pad": pad}}
                 for i in range(count)]
        return self.kitchen(hub, {"kitchen_name": name}, lines, batch=True,
                            per_message=per_message, linger=1.0)

    # -- a fake hub that takes no subprotocol
    def fake_hub_start(self, key="fake", lines=()):
        f = FakeHub(list(lines))
        f.start()
        self.fakes[key] = f
        return {"port": f.port}

    def fake_hub_report(self, key="fake"):
        f = self.fakes[key]
        return {"hello": f.hello, "offered": f.offered, "extra": f.extra}

    def sleep(self, seconds=1.0):
        time.sleep(seconds)
        return {}

    def check_sanitizers(self):
        bad = []
        for p in self.procs.procs:
            if p.name == "nd-hub" and p.poll() is not None:
                bad += ndltest.sanitizer_reports(p.read_stderr())
        return {"reports": bad}

    def close(self):
        for f in self.fakes.values():
            f.stop()
        for path in self.tmp:
            try:
                os.unlink(path)
            except OSError:
                pass


class FakeHub(threading.Thread):
    """A WebSocket server on 127.0.0.1 that answers with no subprotocol (as
    a hub without batch mode does), records the subprotocols each connection
    offered and the hello, then sends each line as its own message."""

    def __init__(self, lines):
        super().__init__(daemon=True)
        self.lines = lines
        self.port = None
        self.hello = None
        self.offered = []
        self.extra = []
        self.ready = threading.Event()
        self.loop = None
        self.stopped = None

    def run(self):
        import websockets

        async def handler(ws, path):
            self.offered.append(ws.request_headers.get("Sec-WebSocket-Protocol"))
            try:
                self.hello = json.loads(await ws.recv())
                for line in self.lines:
                    await ws.send(line if isinstance(line, str) else json.dumps(line))
                async for m in ws:
                    self.extra.append(m)
            except websockets.ConnectionClosed:
                pass  # the browser gave up on the handshake

        async def main():
            self.stopped = asyncio.Event()
            async with websockets.serve(handler, "127.0.0.1", 0) as server:
                self.port = server.sockets[0].getsockname()[1]
                self.ready.set()
                await self.stopped.wait()

        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(main())

    def start(self):
        super().start()
        if not self.ready.wait(10):
            raise RuntimeError("the fake hub did not start")

    def stop(self):
        if self.loop and self.stopped:
            self.loop.call_soon_threadsafe(self.stopped.set)
            self.join(5)


# ------------------------------------------------------------ the driver

def descendants(pid):
    """PIDs of every process below pid (chromium and its helpers below node)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(pid):
    """SIGKILL pid and everything below it, each by its PID."""
    for p in [pid] + descendants(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass

def main():
    if len(sys.argv) not in (2, 3):
        ndltest.fail("usage: run_browser.py TEST.mjs [OUT-DIR]")
    script = os.path.abspath(sys.argv[1])
    node = find_node()
    if not node:
        skip("node is not installed (Debian package nodejs); the browser tests need it")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip(f"chromium is not installed ({CHROMIUM}; Debian package chromium); "
             "the browser tests need it")
    if node_major(node) < 18:
        skip(f"{node} is older than Node 18, which playwright-core {PLAYWRIGHT_VERSION} needs")
    ensure_playwright()
    chromium_version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                                      timeout=60).stdout.strip()
    print(f"# {node} {subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip()},"
          f" {chromium_version}, playwright-core {PLAYWRIGHT_VERSION}", flush=True)

    out_dir = (sys.argv[2] if len(sys.argv) == 3 else None) or os.environ.get("NDL_BROWSER_OUT") \
        or os.path.join(ndltest.BUILD, "tests", "browser")
    os.makedirs(out_dir, exist_ok=True)
    env = dict(os.environ, NDL_CHROMIUM=CHROMIUM, NDL_BROWSER_OUT=out_dir)
    # Node's own sanitizer-free process must not inherit the hub's ASan settings' effects.
    env.pop("LD_PRELOAD", None)

    failed = False
    with ndltest.Procs() as procs:
        world = World(procs)
        child = subprocess.Popen([node, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 env=env, cwd=HERE, text=True, bufsize=1)
        killer = threading.Timer(TEST_DEADLINE, lambda: child.poll() is None and
                                 kill_tree(child.pid))
        killer.start()
        try:
            for line in child.stdout:
                if not line.startswith("@@ctl "):
                    sys.stdout.write(line)
                    sys.stdout.flush()
                    continue
                req = json.loads(line[6:])
                try:
                    fn = getattr(world, req["cmd"])
                    if req["cmd"].startswith("_") or req["cmd"] == "close":
                        raise AttributeError(req["cmd"])
                    answer = {"ok": True, "result": fn(**req.get("args", {}))}
                except Exception as e:  # the script decides what is fatal
                    answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                child.stdin.write(json.dumps(answer) + "\n")
                child.stdin.flush()
            rc = child.wait()
        finally:
            killer.cancel()
            if child.poll() is None:
                kill_tree(child.pid)
                child.wait()
            world.close()
        if rc != 0:
            print(f"FAIL: {os.path.basename(script)} exited with {rc}"
                  + (" (killed at the deadline)" if rc == -signal.SIGKILL else ""))
            failed = True
    # Procs stopped every process (SIGTERM, by PID): now the hubs' logs are whole.
    reports = []
    for p in procs.procs:
        if p.name == "nd-hub":
            reports += ndltest.sanitizer_reports(p.read_stderr())
    if reports:
        print("FAIL: sanitizer reports from nd-hub:\n" + "\n".join(reports[:40]))
        failed = True
    if failed:
        for p in procs.procs:
            if p.name == "nd-hub":
                print(f"--- nd-hub {p.pid} stderr (last lines):")
                print("\n".join(p.read_stderr().splitlines()[-15:]))
        sys.exit(1)
    print(f"PASS: {os.path.basename(script)}")


if __name__ == "__main__":
    main()
