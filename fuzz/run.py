#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one libFuzzer target for a bounded time on seeds made fresh from the
captures and golden dumplings; exit non-zero when it finds a crash, a leak,
a hang or an undefined behaviour.

    run.py --target EXE --kind KIND --seeds-tool EXE --workdir DIR
           [--time SECONDS] [--dict FILE] FOLDER...

Seeds go to DIR/seeds/KIND (rewritten each run), the corpus libFuzzer grows
to DIR/corpus/KIND (kept between runs), crash inputs to DIR/artifacts/.
NDL_SHARED_PCAPS, when set, replaces the first FOLDER; NDL_FUZZ_TIME, when
set, replaces --time.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True)
    ap.add_argument("--kind", required=True)
    ap.add_argument("--seeds-tool", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--time", type=int, default=20)
    ap.add_argument("--dict")
    ap.add_argument("folders", nargs="+")
    a = ap.parse_args()

    folders = list(a.folders)
    if os.environ.get("NDL_SHARED_PCAPS"):
        folders[0] = os.environ["NDL_SHARED_PCAPS"]
    seconds = int(os.environ.get("NDL_FUZZ_TIME", a.time))

    seeds = os.path.join(a.workdir, "seeds", a.kind)
    corpus = os.path.join(a.workdir, "corpus", a.kind)
    artifacts = os.path.join(a.workdir, "artifacts")
    shutil.rmtree(seeds, ignore_errors=True)
    for d in (seeds, corpus, artifacts):
        os.makedirs(d, exist_ok=True)

    try:
        r = subprocess.run([a.seeds_tool, a.kind, seeds] + folders,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        print(f"fuzz-{a.kind}: cannot run {a.seeds_tool}: {e.strerror}")
        return 1
    print(r.stdout.strip())
    if r.returncode != 0:
        print(f"fuzz-{a.kind}: no seeds from {' '.join(folders)}; starting from nothing")

    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1:symbolize=1"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:abort_on_error=1:print_stacktrace=1"
    cmd = [a.target,
           f"-max_total_time={seconds}",
           "-rss_limit_mb=2048",
           "-timeout=10",
           "-print_final_stats=1",
           f"-artifact_prefix={artifacts}/{a.kind}-"]
    if a.dict:
        cmd.append(f"-dict={a.dict}")
    cmd += [corpus, seeds]
    print("$ " + " ".join(cmd), flush=True)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", env=env)
    except OSError as e:
        print(f"fuzz-{a.kind}: cannot run {a.target}: {e.strerror}")
        return 1
    lines = r.stdout.splitlines()

    if r.returncode != 0:
        # The whole report: sanitizer trace, failed check, input saved.
        start = next((i for i, l in enumerate(lines)
                      if re.search(r"==ERROR|check failed|runtime error|"
                                   r"deadly signal|ALARM|out-of-memory", l)),
                     max(0, len(lines) - 200))
        print("\n".join(lines[max(0, start - 5):]))
        print(f"fuzz-{a.kind}: FAILED (libFuzzer exit status {r.returncode}); "
              f"the input is in {artifacts}")
        return 1

    status = [l for l in lines if re.match(r"#\d+\s+(INITED|DONE|pulse|NEW|REDUCE)", l)]
    stats = {m.group(1): m.group(2) for l in lines
             for m in [re.match(r"stat::(\w+):\s+(\d+)", l)] if m}
    for l in lines:
        if l.startswith("INFO: seed corpus") or re.match(r"#\d+\s+INITED", l):
            print(l)
    if status:
        print(status[-1])
    last = status[-1] if status else ""
    cov = re.search(r"cov: (\d+)", last)
    ft = re.search(r"ft: (\d+)", last)
    corp = re.search(r"corp: (\d+)", last)
    print(f"fuzz-{a.kind}: {stats.get('number_of_executed_units', '?')} runs in "
          f"{seconds} s, {stats.get('average_exec_per_sec', '?')} exec/s, "
          f"cov {cov.group(1) if cov else '?'}, ft {ft.group(1) if ft else '?'}, "
          f"corpus {corp.group(1) if corp else '?'}, "
          f"peak rss {stats.get('peak_rss_mb', '?')} MB: no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
