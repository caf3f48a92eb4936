"""The tensor names of a .safetensors file (8-byte little-endian header length, JSON header),
read here without the safetensors package."""
import json
import struct


def read_names(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return [k for k in header if k != "__metadata__"]
