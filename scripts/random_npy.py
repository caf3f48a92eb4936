#!/usr/bin/env python3
"""Writes a float32 .npy array of standard normal values, with the standard library only
(no numpy needed): an input to try `neurocell run` with.

    python3 scripts/random_npy.py X.npy 50 4 2     # shape (T=50, B=4, I=2)
"""
import random
import struct
import sys

if len(sys.argv) < 3:
    sys.exit("usage: random_npy.py OUT.npy DIM [DIM ...]")
path, shape = sys.argv[1], [int(d) for d in sys.argv[2:]]
if any(d < 1 for d in shape):
    sys.exit("random_npy.py: every dimension must be >= 1")
count = 1
for d in shape:
    count *= d
dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % dims
header += " " * (63 - (10 + len(header)) % 64) + "\n"  # data aligned to 64 bytes, as numpy does
random.seed(0)
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
    f.write(struct.pack("<%df" % count, *(random.gauss(0.0, 1.0) for _ in range(count))))
print("wrote %s: float32 %s" % (path, tuple(shape)))
