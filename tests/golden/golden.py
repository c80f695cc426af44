#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden tests: a capture in, `nd-sniff --stdout` out, compared line by line
with the case's expected.jsonl.

A case is a folder under tests/golden/ holding:
  input          one line: captures/NAME (relative to tests/) or
                 shared/NAME (relative to the tcpdump captures folder)
  args           extra nd-sniff arguments, one per line (optional)
  expected.jsonl the dumplings, one per line, exactly as nd-sniff writes them
  README.md      what the case proves and where its capture came from

Run one case:      golden.py CASE_DIR
Regenerate cases:  golden.py --regen CASE_DIR...   (review the diff before committing)
"""

import difflib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import ndltest  # noqa: E402

SKIP = 77


def case_input(case):
    with open(os.path.join(case, "input")) as f:
        ref = f.read().strip()
    kind, _, name = ref.partition("/")
    if kind == "captures":
        return os.path.join(HERE, "..", "captures", name)
    if kind == "shared":
        if not ndltest.SHARED_PCAPS or not os.path.isdir(ndltest.SHARED_PCAPS):
            return None
        return os.path.join(ndltest.SHARED_PCAPS, name)
    raise ValueError(f"{case}/input: expected captures/NAME or shared/NAME, got {ref!r}")


def case_args(case):
    p = os.path.join(case, "args")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]


def run_case(case):
    pcap = case_input(case)
    if pcap is None:
        return None, "the tcpdump captures folder is not there"
    argv = [ndltest.prog("nd-sniff"), "--stdout", "-q", "-n", "golden", "-r", pcap] + case_args(case)
    r = subprocess.run(argv, capture_output=True, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n{err}")
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        if marker in err:
            raise AssertionError(f"sanitizer report from {' '.join(argv)}:\n{err}")
    return r.stdout.decode("utf-8"), None


def main(argv):
    regen = argv[:1] == ["--regen"]
    cases = argv[1:] if regen else argv
    if not cases:
        print(__doc__, file=sys.stderr)
        return 2
    for case in cases:
        case = os.path.abspath(case)
        out, why = run_case(case)
        if out is None:
            print(f"SKIP {os.path.basename(case)}: {why}")
            return SKIP
        expected_path = os.path.join(case, "expected.jsonl")
        if regen:
            with open(expected_path, "w") as f:
                f.write(out)
            print(f"wrote {expected_path}: {len(out.splitlines())} dumplings")
            continue
        with open(expected_path) as f:
            expected = f.read()
        if out != expected:
            diff = difflib.unified_diff(expected.splitlines(), out.splitlines(),
                                        "expected.jsonl", "nd-sniff --stdout", lineterm="")
            print("\n".join(list(diff)[:200]))
            print(f"FAIL {os.path.basename(case)}: output differs from expected.jsonl")
            return 1
        print(f"ok {os.path.basename(case)}: {len(out.splitlines())} dumplings match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
