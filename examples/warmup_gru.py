#!/usr/bin/python3
"""A GRU warmed up to multistability (docs/multistability.md): VAA before and after.
    /usr/bin/python3 examples/warmup_gru.py [--steps 100]
"""
import argparse

import torch

import neurocell


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--settle", type=int, default=1000, help="VAA: settling steps")
    args = parser.parse_args()
    torch.manual_seed(1)
    model = neurocell.SequenceModel("gru", input_size=1, hidden_size=64, num_layers=2)
    task = {"name": "copy-first-input", "length": 100}  # the inputs that drive the network
    before = neurocell.vaa(model, task=task, samples=50, settle_steps=args.settle, batches=2)
    summary = neurocell.warmup(model, task=task, steps=args.steps, max_settle=200)
    after = neurocell.vaa(model, task=task, samples=50, settle_steps=args.settle, batches=2)
    last = summary["history"][-1]
    print(f"warmup: {summary['steps']} steps, last loss {last['loss']:.4f}, VAA* per layer "
          + ", ".join(f"{v:.2f}" for v in last["vaa_star"]))
    print(f"result: VAA {before['vaa']:.3f} -> {after['vaa']:.3f} "
          f"({before['attractors']:.1f} -> {after['attractors']:.1f} attractors among 50 inputs)")


if __name__ == "__main__":
    main()
