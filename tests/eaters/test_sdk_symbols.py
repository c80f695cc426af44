# SPDX-License-Identifier: MIT
"""libndleater exports only the ndl_eater_* API, under the soname
libndleater.so.0, and meson writes a pkg-config file for it."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("NDL_SOURCE_ROOT", "."), "tests", "lib"))
import ndltest  # noqa: E402


def main():
    lib = sys.argv[1]
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":   # "A": the version node itself
            continue
        names.append(parts[2].split("@")[0])
    if not names:
        ndltest.fail(f"nm -D shows no symbols in {lib}")
    stray = [n for n in names if not n.startswith("ndl_eater_")]
    if stray:
        ndltest.fail("libndleater exports symbols outside ndl_eater_*: " + ", ".join(sorted(stray)))
    for want in ("ndl_eater_new", "ndl_eater_free", "ndl_eater_start", "ndl_eater_close",
                 "ndl_eater_run", "ndl_eater_subscribe"):
        if want not in names:
            ndltest.fail(f"{want} is not exported")

    dyn = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True,
                         text=True).stdout
    if "Library soname: [libndleater.so.0]" not in dyn:
        ndltest.fail("soname is not libndleater.so.0:\n" + dyn)

    pc = os.path.join(ndltest.BUILD, "meson-private", "netdumplings-eater.pc")
    with open(pc, encoding="utf-8") as f:
        text = f.read()
    for want in ("Name: netdumplings-eater", "Version: 0.2.0", "-lndleater", "Requires: libuv, jansson"):
        if want not in text:
            ndltest.fail(f"{pc} lacks '{want}':\n{text}")
    print(f"ok: {len(names)} symbols, all ndl_eater_*; soname libndleater.so.0")


main()
