#!/usr/bin/python3
"""A BRC trained on your own NumPy arrays in a plain PyTorch loop.

The arrays here are made up on the spot (a noisy delayed sum: remember the first input, add
the last); replace `make_arrays` by np.load of your own (N, T, I) inputs and (N, O) targets.
    /usr/bin/python3 examples/brc_on_your_arrays.py [--steps 300]
"""
import argparse

import numpy as np
import torch

import neurocell


def make_arrays(n, length, rng):
    x = rng.uniform(-1, 1, size=(n, length, 1)).astype(np.float32)
    y = (x[:, 0, :] + 0.5 * x[:, -1, :]).astype(np.float32)  # (N, 1)
    return x, y


class Regressor(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.rnn = neurocell.BRC(1, hidden, num_layers=2, batch_first=True)  # fused kernels
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x):                # x (B, T, 1)
        out, h_n = self.rnn(x)           # out (B, T, H), h_n (2, B, H)
        return self.head(out[:, -1])     # (B, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    x_train, y_train = make_arrays(2048, 50, rng)
    x_test, y_test = make_arrays(512, 50, rng)
    x_train, y_train, x_test, y_test = map(torch.from_numpy, (x_train, y_train, x_test, y_test))

    model = Regressor(hidden=32)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(x_train), (64,))
        loss = torch.nn.functional.mse_loss(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step}: train MSE {loss.item():.4f}")
    with torch.no_grad():
        test = torch.nn.functional.mse_loss(model(x_test), y_test).item()
    chance = y_test.var(unbiased=False).item()
    print(f"result: test MSE {test:.4f} (chance {chance:.4f})")


if __name__ == "__main__":
    main()
