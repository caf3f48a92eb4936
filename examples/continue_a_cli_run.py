#!/usr/bin/python3
"""Load a run folder the command line wrote, train it further in Python, and save it back as a
run folder the command line can `eval`, `run` and `export`.
    ./build/neurocell train --task copy-first-input --cell nbrc --layers 2 --hidden 32 \
        --length 50 --steps 200 --out runs/cli-nbrc
    /usr/bin/python3 examples/continue_a_cli_run.py runs/cli-nbrc runs/cli-nbrc-continued
    ./build/neurocell eval --checkpoint runs/cli-nbrc-continued
"""
import argparse

import torch

import neurocell


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    model = neurocell.load(args.run_dir)           # SequenceModel: stack + readout, config.json's task
    task = model.run_config["task"]
    train = model.run_config["train"]
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=train["learning_rate"])
    for step in range(1, args.steps + 1):
        # the trainer's own batches, from a stream of this seed it does not use
        x, y, k = neurocell.data.sample_task(task["name"], task["length"], batch=train["batch_size"],
                                             no_end=task.get("no_end", 0), seed=1000 + step, stream=0)
        loss = torch.nn.functional.mse_loss(model(x, k), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, y, k = neurocell.data.sample_task(task["name"], task["length"], batch=train["test_size"],
                                         no_end=task.get("no_end", 0), seed=train["seed"], stream=2)
    with torch.no_grad():
        mse = torch.nn.functional.mse_loss(model(x, k), y).item()
    neurocell.save(model, args.out_dir, overwrite=args.overwrite)  # task and train options kept
    print(f"result: test MSE {mse:.6g} after {args.steps} more steps, saved in {args.out_dir}")


if __name__ == "__main__":
    main()
