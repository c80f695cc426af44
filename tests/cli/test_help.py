#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every program's --help and --version, and the manual pages made from them.

Usage: test_help.py VERSION PROGRAM... [--man PAGE...]

--help: exit 0, "Usage: NAME" first, nothing on stderr, no line wider than
80 columns, and every option line keeps two spaces or a line break between
the option and what it does: help2man (and a reader) takes everything up to
that gap for the option's syntax. --version: "NAME (netdumplings-c) VERSION".
A manual page: groff formats it without a warning, its NAME line is the
program's, and it has every long option --help names.
"""
import os
import re
import subprocess
import sys

FAILURES = []


def check(cond, msg):
    """Note a failure and go on, so that one run lists every problem."""
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg, file=sys.stderr)


def finish():
    print(f"# {len(FAILURES)} failures" if FAILURES else "# all good")
    sys.exit(1 if FAILURES else 0)


WIDTH = 80
# A word of prose: what an option's syntax never holds (metavariables are
# upper case, choices are joined by '|').
PROSE = re.compile(r"['(\"]?[a-z]{2,}[').,;:'\"]*")
OPTION_LINE = re.compile(r"^ {2,}(-\S.*)$")
LONG_OPTION = re.compile(r"--(?:\[no-\])?[a-z][a-z0-9-]*")


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def option_tags(text):
    """(line number, line, syntax part) of every option line of --help."""
    for i, line in enumerate(text.splitlines(), 1):
        m = OPTION_LINE.match(line)
        if m:
            yield i, line, re.split(r" {2,}", m.group(1), maxsplit=1)[0]


def help_problems(text):
    """What is wrong with the layout of --help output text."""
    bad = []
    for i, line in enumerate(text.splitlines(), 1):
        if len(line) > WIDTH:
            bad.append(f"line {i} is {len(line)} columns wide: {line!r}")
    for i, line, tag in option_tags(text):
        words = [t for t in tag.split() if not t.startswith("-") and PROSE.fullmatch(t)]
        if words:
            bad.append(f"line {i}: the description runs into the option "
                       f"(one space before {words[0]!r}): {line!r}")
    return bad


def long_options(text):
    """The long options --help describes, as written (--[no-]x stays one)."""
    names = set()
    for _, _, tag in option_tags(text):
        names.update(m.group(0) for m in LONG_OPTION.finditer(tag))
    return names


def roff(text):
    """text as help2man writes it in a page: every '-' escaped."""
    return text.replace("-", "\\-")


def check_program(path, version):
    name = os.path.basename(path)
    p = run([path, "--help"])
    check(p.returncode == 0 and p.stdout.startswith(f"Usage: {name} ") and not p.stderr,
          f"{name} --help: exit {p.returncode}, starts {p.stdout[:40]!r}, "
          f"stderr {p.stderr[:200]!r}")
    bad = help_problems(p.stdout)
    check(not bad, f"{name} --help is laid out for readers and help2man" +
          "".join("\n    " + b for b in bad))
    options = long_options(p.stdout)
    check({"--help", "--version"} <= options and len(options) >= 4,
          f"{name} --help names its long options: {sorted(options)}")
    v = run([path, "--version"])
    check(v.returncode == 0 and
          re.fullmatch(re.escape(name) + r" \(netdumplings-c\) " + re.escape(version) +
                       r"(, [^\n]*)?\n", v.stdout) is not None,
          f"{name} --version: {v.stdout!r}")
    return name, p.stdout


def check_page(page, helps):
    name = os.path.basename(page)[:-len(".1")]
    check(name in helps, f"{page}: a page for a program tested here")
    if name not in helps:
        return
    with open(page, encoding="utf-8") as f:
        source = f.read()
    g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                       capture_output=True, text=True, timeout=30)
    check(g.returncode == 0 and not g.stderr,
          f"{name}.1: groff formats it without warnings: {g.stderr[:500]!r}")
    check(re.search(r"^\.TH " + re.escape(name.upper()) + r' "1" ', source, re.M) is not None
          and re.search(r"^\.SH NAME\n" + re.escape(name) + r" \\- \S", source, re.M)
          is not None,
          f"{name}.1: the title and NAME line are the program's")
    missing = sorted(o for o in long_options(helps[name]) if roff(o) not in source)
    check(not missing, f"{name}.1 has every long option of --help; missing: {missing}")
    other = "nd-sniff" if name == "nd-hub" else "nd-hub"
    check('.SH "SEE ALSO"' in source and f".BR {roff(other)} (1)" in source,
          f"{name}.1 points to the other pages")


def self_test():
    """The layout check catches what it is for."""
    good = ("Usage: x [OPTION]...\n"
            "  -a, --alpha N|auto      what alpha does\n"
            "      --[no-]beta\n"
            "                          what beta does\n")
    check(not help_problems(good) and long_options(good) == {"--alpha", "--[no-]beta"},
          f"self-test: a good --help passes: {help_problems(good)} {long_options(good)}")
    glued = "      --buffer-size BYTES kernel capture buffer\n"
    wide = "  -q, --quiet   " + "x" * 70 + "\n"
    check(len(help_problems(glued)) == 1 and len(help_problems(wide)) == 1,
          "self-test: a glued description and a wide line are caught")


def main():
    args = sys.argv[1:]
    pages = []
    if "--man" in args:
        i = args.index("--man")
        args, pages = args[:i], args[i + 1:]
    version, programs = args[0], args[1:]
    self_test()
    helps = dict(check_program(p, version) for p in programs)
    for page in pages:
        check_page(page, helps)
    if pages:
        check(len(pages) == len(programs), f"a page for each of the {len(programs)} programs")
    else:
        print("# manual pages not built (meson option man: help2man not found)")
    finish()


if __name__ == "__main__":
    main()
