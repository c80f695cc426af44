# SPDX-License-Identifier: MIT
"""libndleater.so.0 keeps every 0.1 function in the NDL_EATER_0 version
node and puts each function 0.2 added in NDL_EATER_0.2, so programs built
against 0.2 refuse to load with a 0.1 library instead of failing later."""

import subprocess
import sys

OLD = ("ndl_eater_new", "ndl_eater_free", "ndl_eater_hello_set", "ndl_eater_subscribe",
       "ndl_eater_filter_chef", "ndl_eater_filter_kitchen", "ndl_eater_filter_drivers",
       "ndl_eater_set_max_message", "ndl_eater_start", "ndl_eater_close", "ndl_eater_run",
       "ndl_eater_loop", "ndl_eater_url", "ndl_eater_set_userdata", "ndl_eater_userdata",
       "ndl_eater_get_stats", "ndl_eater_version")
NEW = ("ndl_eater_set_token", "ndl_eater_set_token_file", "ndl_eater_set_ca_file",
       "ndl_eater_set_batch", "ndl_eater_protocol", "ndl_eater_set_reconnect",
       "ndl_eater_set_event_cb", "ndl_eater_set_drop_notices")


def main():
    out = subprocess.run(["nm", "-D", "--defined-only", sys.argv[1]], check=True,
                         capture_output=True, text=True).stdout
    version = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "@@" in parts[2]:
            name, node = parts[2].split("@@")
            version[name] = node
    bad = [f"{n}: {version.get(n)}" for n in OLD if version.get(n) != "NDL_EATER_0"]
    bad += [f"{n}: {version.get(n)}" for n in NEW if version.get(n) != "NDL_EATER_0.2"]
    extra = sorted(set(version) - set(OLD) - set(NEW))
    if bad or extra:
        print("wrong symbol versions: " + ", ".join(bad) +
              (" unexpected: " + ", ".join(extra) if extra else ""), file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(OLD)} functions in NDL_EATER_0, {len(NEW)} in NDL_EATER_0.2")


main()
