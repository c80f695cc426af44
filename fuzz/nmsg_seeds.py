#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seeds for fuzz-nmsg, called by run.py as: nmsg_seeds.py KIND SEEDS FOLDER...
Every .nmsg file in the folders becomes a seed, and so does each of its
containers alone (a datagram's worth)."""

import os
import struct
import sys


def main():
    seeds, folders = sys.argv[2], sys.argv[3:]
    n = 0
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".nmsg"):
                continue
            data = open(os.path.join(folder, name), "rb").read()
            pieces = [data]
            at = 0
            while at + 10 <= len(data):
                end = at + 10 + struct.unpack(">I", data[at + 6:at + 10])[0]
                pieces.append(data[at:end])
                at = end
            for i, p in enumerate(pieces[:64]):
                with open(os.path.join(seeds, f"{name}.{i}"), "wb") as f:
                    f.write(p)
                n += 1
    print(f"fuzz-nmsg: {n} seeds")
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main())
