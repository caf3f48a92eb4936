#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets (tests/fuzz/corpus/TARGET/): a few tiny
valid files per parser and near-valid ones (the review's reproducers). Standard library only.
The .ncm seeds are built as `neurocell export` lays them out (names and shapes of the
runtime's layers), the run configs as `neurocell train` writes them."""
import gzip
import io
import json
import os
import struct
import sys
import zlib
import zipfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(descr, shape_text, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def floats(n, start=0.0):
    return struct.pack("<%df" % n, *[start + 0.25 * i for i in range(n)])


# .npy
put("npy", "f32_5x2x1.npy", npy("<f4", "(5, 2, 1)", floats(10)))
put("npy", "f64_3.npy", npy("<f8", "(3,)", struct.pack("<3d", 1, 2, 3)))
put("npy", "u1_scalar.npy", npy("|u1", "()", b"\x07"))
put("npy", "negative_dim.npy", npy("<f4", "(-5, 2, 1)", floats(10)))
put("npy", "dot_separator.npy", npy("<f4", "(5, 2. 1)", floats(10)))
put("npy", "huge_dim.npy", npy("<f4", "(" + "9" * 99 + ",)", b""))
# 45 000 characters in the descr overflowed the stack of the std::regex that once read it (fuzz_npy).
long_header = "{'descr': '" + "a" * 45000 + "'"
put("npy", "long_descr.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(long_header)) + long_header.encode())

# safetensors
def safetensors(entries, metadata=None, extra=b""):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, blob, offsets in entries:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": offsets or [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header)
    text += " " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text.encode() + data + extra


two = [("a", "F32", [2, 2], floats(4), None), ("b", "I64", [2], struct.pack("<2q", 1, 2), None)]
put("safetensors", "valid.safetensors", safetensors(two, {"format": "neurocell", "cell": "brc"}))
put("safetensors", "overlap.safetensors",
    safetensors([two[0], ("b", "F32", [2, 2], b"", [0, 16])]))
put("safetensors", "trailing.safetensors", safetensors(two, extra=b"GARBAGE!" * 4))
put("safetensors", "bad_metadata.safetensors", safetensors(two, {"x": [1, {"y": None}]}))

# zip (and .npz)
def zipped(entries, method=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, compress_type=method)
    return out.getvalue()


arrays = [("x.npy", npy("<f4", "(2, 2)", floats(4))), ("y.npy", npy("<f8", "(1,)", struct.pack("<d", 3)))]
put("zip", "stored.npz", zipped(arrays))
put("zip", "deflated.npz", zipped(arrays, zipfile.ZIP_DEFLATED))
put("zip", "negative_dim.npz", zipped([("b.npy", npy("<f4", "(-12,)", floats(12)))]))

# the SRC authors' format: config.json, 0xFF, arrays.npz (tests/fuzz/fuzz_authors_src.cpp)
config = {"cell_config": {"alphas": [0.9], "bias_max": -4.0, "activation": "surrogate_relu", "type": "src"},
          "dataset_config": {"encoding": "rate", "seq_length": 30, "prefix_length": 3, "suffix_length": 0,
                             "rate_gain": 0.25, "name": "mnist"},
          "input_size": 4, "hidden_size": 2, "hidden_layers": 0, "output_size": 2, "readout_input_factor": 1}
layer = [("l0_forward_weights.npy", npy("<f4", "(2, 4)", floats(8, -1)))]
for name, shape, n in [("bias", "(2,)", 2), ("rho", "(2,)", 2), ("r", "(2,)", 2), ("rs", "(2,)", 2),
                       ("zs_dep", "(1, 2)", 2), ("zs_hyp", "(1, 2)", 2), ("initial_i", "(1, 2, 1)", 2),
                       ("initial_h", "(2,)", 2), ("initial_hs", "(2,)", 2)]:
    layer.append(("l0_%s.npy" % name, npy("<f4", shape, floats(n, 0.1))))
layer.append(("readout.npy", npy("<f4", "(2, 2)", floats(4))))
put("authors_src", "valid", json.dumps(config).encode() + b"\xff" + zipped(layer))
nan = [(n, d) if n != "l0_forward_weights.npy" else (n, npy("<f4", "(2, 4)", struct.pack("<8f", *[float("nan")] * 8)))
       for n, d in layer]
put("authors_src", "nan_weights", json.dumps(config).encode() + b"\xff" + zipped(nan))
long_prefix = dict(config, dataset_config=dict(config["dataset_config"], prefix_length=50))
put("authors_src", "prefix_too_long", json.dumps(long_prefix).encode() + b"\xff" + zipped(layer))

# MNIST IDX: 2 labels (1-d), 2 images of 28x28 (3-d), plain and gzip
labels = struct.pack(">II", 0x801, 2) + b"\x03\x07"
images = struct.pack(">IIII", 0x803, 2, 28, 28) + bytes(range(256)) * 6 + bytes(32)
put("idx", "labels-idx1", labels)
put("idx", "images-idx3", images)
put("idx", "labels-idx1.gz", gzip.compress(labels, mtime=0))
put("idx", "truncated-idx3", images[:100])

# suite files
suite = {"name": "tiny", "title": "A tiny suite", "claims": ["a claim"],
         "experiments": [{"id": "copy-5", "metric": "mse", "cells": ["brc", "gru"], "seeds": [1, 2],
                          "args": {"--task": "copy-first-input", "--length": 5, "--hidden": 4, "--steps": 2,
                                   "--lr": 0.01},
                          "quick": {"args": {"--steps": 1}, "seeds": [1], "only_variants": ["brc"]}},
                         {"id": "tmaze", "command": "tmaze", "metric": "success",
                          "variants": [{"name": "gru-warmup", "args": {"--cell": "gru", "--warmup": True}}]}]}
put("suite", "tiny.json", json.dumps(suite, indent=1))
escape = json.loads(json.dumps(suite))
escape["experiments"][0]["id"] = "../../escape"
put("suite", "escape.json", json.dumps(escape))
bad = json.loads(json.dumps(suite))
bad["experiments"][0]["args"]["rm"] = "-rf"
bad["experiments"][0]["args"]["--steps"] = None
put("suite", "bad_args.json", json.dumps(bad))
put("suite", "nul_garbage.json", json.dumps(suite) + "\0GARBAGE")

# .ncm: a 1x2 GRU and a 1x2 BRC (input 1, output 1), CRC-32 as zlib computes it
def ncm(header, tensors):
    text, data = header, b""
    for name, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        text += "tensor %s f32 %s\n" % (name, " ".join(map(str, shape)))
        data += floats(n, -0.5)
    body = b"NCM\0" + struct.pack("<II", 1, len(text)) + text.encode() + data
    return body + struct.pack("<I", zlib.crc32(body) & 0xffffffff)


constants = "constant cmru_levels 3\nconstant fq_theta_on 0.5\nconstant fq_theta_off 0.5\nconstant layer_norm_eps 1e-05\n"
gru = ncm("model sequence\ncell gru\ninput 1\nhidden 2\noutput 1\nlayers 1\nlayer 0 gru 1 2\n" + constants,
          [("stack.layer0.weight_ih", [6, 1]), ("stack.layer0.weight_hh", [6, 2]), ("stack.layer0.bias_ih", [6]),
           ("stack.layer0.bias_hh", [6]), ("readout.weight", [1, 2]), ("readout.bias", [1])])
put("ncm", "gru_1x2.ncm", gru)
put("ncm", "brc_1x2.ncm", ncm("model sequence\ncell brc\ninput 1\nhidden 2\noutput 1\nlayers 1\nlayer 0 brc 1 2\n" + constants,
                              [("stack.layer0.weight_ih", [6, 1]), ("stack.layer0.bias", [6]), ("stack.layer0.w_a", [2]),
                               ("stack.layer0.w_c", [2]), ("readout.weight", [1, 2]), ("readout.bias", [1])]))
put("ncm", "huge_levels.ncm", ncm("model sequence\ncell gru\ninput 1\nhidden 2\noutput 1\nlayers 1\nlayer 0 gru 1 2\n"
                                  "constant cmru_levels 99999999999999999999\n",
                                  [("stack.layer0.weight_ih", [6, 1]), ("stack.layer0.weight_hh", [6, 2]),
                                   ("stack.layer0.bias_ih", [6]), ("stack.layer0.bias_hh", [6]),
                                   ("readout.weight", [1, 2]), ("readout.bias", [1])]))

# run config.json, as `neurocell train` writes it (brc 1x8 on copy-first-input T=5)
run = {"format": "neurocell-run-1", "kind": "regression",
       "model": {"cell": "brc", "input_size": 1, "hidden_size": 8, "layers": 1, "output_size": 1,
                 "double_layer": False, "orthogonal_recurrent": False, "chrono_max_length": 0, "impl": "fused"},
       "task": {"name": "copy-first-input", "length": 5, "no_end": 0},
       "train": {"steps": 2, "batch_size": 8, "learning_rate": 0.001, "lr_schedule": "constant", "clip_norm": 1.0,
                 "skip_nonfinite": True, "eval_every": 100, "validation_size": 8, "test_size": 8, "patience": 0,
                 "seed": 1, "threads": 0},
       "multistability": {"warmup": {"steps": 0, "learning_rate": 0.01, "batch_size": 32, "target": 0.9,
                                     "max_settle": 1000, "settle_growth": 2.0, "eps": 0.01, "seed": 1},
                          "vaa": {"measure": False, "every": 0, "samples": 100, "settle_steps": 1000, "batches": 1,
                                  "eps": 0.01, "seed": 1}}}
put("run_config", "config.json", json.dumps(run))
put("run_config", "format_999.json", json.dumps(dict(run, format="neurocell-run-999")))
put("run_config", "hidden_8.5.json", json.dumps(dict(run, model=dict(run["model"], hidden_size=8.5))))
put("run_config", "hidden_2_63.json", json.dumps(run).replace('"hidden_size": 8', '"hidden_size": 9223372036854775808'))
put("run_config", "nul_garbage.json", json.dumps(run) + "\0GARBAGE" * 4)
