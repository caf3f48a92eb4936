"""python3 -m neurocell.bench: one training update (forward, backward, Adam step) timed in one
process for

  - the neurocell module (fused kernels, hand-written backward);
  - the same cell as a Python loop of torch ops, one step at a time, as the papers' public
    code writes BRC and nBRC (and GRU/LSTM through torch.nn.GRUCell/LSTMCell);
  - torch.nn.GRU / torch.nn.LSTM (ATen's own fused CPU RNN);
  - the same update all in C++ (the library's SequenceModel and torch::optim::Adam, as
    `neurocell train` runs it), timed in alternation with the module's, to show what calling
    from Python costs;

at the warmup paper's copy setting (2 layers x 256, T = 100, B = 32) and the BRC paper's
(2 x 100, T = 600, B = 100), with a linear readout of the last state and an MSE loss; and the
stack's forward and backward alone, to show the share of an update spent outside the layers'
kernels. Prints the ratios and writes JSON (--out). Each figure is the median of --repeats updates after
--warmup untimed ones, all measured in this one run.
"""
import argparse
import json
import os
import platform
import statistics
import time

import torch

import neurocell
from neurocell import _C

SHAPES = {"warmup-paper": dict(layers=2, hidden=256, length=100, batch=32),
          "brc-paper": dict(layers=2, hidden=100, length=600, batch=100)}


class LoopCell(torch.nn.Module):
    """A cell written as the papers' code writes it: parameters as torch tensors, the update
    of one step as torch ops, called in a Python loop over time."""

    def __init__(self, cell, input_size, hidden_size):
        super().__init__()
        self.cell, H = cell, hidden_size
        if cell in ("brc", "nbrc"):
            self.U = torch.nn.Linear(input_size, 3 * H)
            if cell == "brc":
                self.w_a = torch.nn.Parameter(torch.ones(H))
                self.w_c = torch.nn.Parameter(torch.ones(H))
            else:
                self.W = torch.nn.Linear(H, 2 * H, bias=False)
        elif cell == "gru":
            self.step_cell = torch.nn.GRUCell(input_size, H)
        elif cell == "lstm":
            self.step_cell = torch.nn.LSTMCell(input_size, H)
        self.hidden_size = H

    def forward(self, x):  # x (T, B, I) -> (T, B, H)
        B, H = x.shape[1], self.hidden_size
        h = x.new_zeros(B, H)
        c = x.new_zeros(B, H)
        out = []
        for t in range(x.shape[0]):
            if self.cell == "gru":
                h = self.step_cell(x[t], h)
            elif self.cell == "lstm":
                h, c = self.step_cell(x[t], (h, c))
            else:
                u_a, u_c, u_h = self.U(x[t]).chunk(3, dim=1)
                if self.cell == "brc":
                    fa, fc = self.w_a * h, self.w_c * h
                else:
                    fa, fc = self.W(h).chunk(2, dim=1)
                a = 1 + torch.tanh(u_a + fa)
                g = torch.sigmoid(u_c + fc)
                h = g * h + (1 - g) * torch.tanh(u_h + a * h)
            out.append(h)
        return torch.stack(out)


class LoopStack(torch.nn.Module):
    def __init__(self, cell, input_size, hidden, layers):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            [LoopCell(cell, input_size if l == 0 else hidden, hidden) for l in range(layers)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class TorchNN(torch.nn.Module):
    def __init__(self, cell, input_size, hidden, layers):
        super().__init__()
        self.rnn = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(input_size, hidden, num_layers=layers)

    def forward(self, x):
        return self.rnn(x)[0]


class Neurocell(torch.nn.Module):
    def __init__(self, cell, input_size, hidden, layers):
        super().__init__()
        self.stack = neurocell.cell_class(cell)(input_size, hidden, num_layers=layers)

    def forward(self, x):
        return self.stack(x)[0]


def make_update(body, shape):
    """One update of body: forward of the stack, readout of the last state, MSE, backward,
    Adam step. Returns a function that runs it and returns its seconds."""
    torch.manual_seed(1)
    x = torch.rand(shape["length"], shape["batch"], 1) * 2 - 1
    y = x[0]
    readout = torch.nn.Linear(shape["hidden"], 1)
    opt = torch.optim.Adam(list(body.parameters()) + list(readout.parameters()), lr=1e-3)

    def update():
        start = time.perf_counter()
        loss = torch.nn.functional.mse_loss(readout(body(x)[-1]), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - start
    return update


def time_update(body, shape, repeats, warmup):
    """Median seconds of one update after `warmup` untimed ones."""
    update = make_update(body, shape)
    for _ in range(warmup):
        update()
    return statistics.median(update() for _ in range(repeats))


def time_layers(body, shape, repeats, warmup):
    """Median seconds of the stack's forward and backward alone, with the gradient the update
    gives it (at the last step only): what the update costs in the layers' kernels. The rest
    of an update (readout, loss, autograd's bookkeeping, Adam, allocations) is outside them."""
    torch.manual_seed(1)
    x = torch.rand(shape["length"], shape["batch"], 1) * 2 - 1
    grad = torch.zeros(shape["length"], shape["batch"], shape["hidden"])
    grad[-1] = torch.randn(shape["batch"], shape["hidden"])

    def run():
        start = time.perf_counter()
        for p in body.parameters():
            p.grad = None
        body(x).backward(grad)
        return time.perf_counter() - start
    for _ in range(warmup):
        run()
    return statistics.median(run() for _ in range(repeats))


def time_python_against_cpp(cell, shape, repeats, warmup):
    """(Python, C++) median seconds of the same update, timed in alternation so that both
    see the same machine (a shared machine's speed drifts by more than the difference)."""
    update = make_update(Neurocell(cell, 1, shape["hidden"], shape["layers"]), shape)
    config = json.dumps({"cell": cell, "input_size": 1, "hidden_size": shape["hidden"], "layers": shape["layers"],
                         "output_size": 1})
    for _ in range(warmup):
        update()
    python, cpp = [], []
    for _ in range(repeats):
        python.append(update())
        cpp.append(_C.time_training_update(config, shape["length"], shape["batch"], 1, 1))
    return statistics.median(python), statistics.median(cpp)


def run(shapes, cells, repeats, warmup):
    results = []
    for shape_name in shapes:
        shape = SHAPES[shape_name]
        for cell in cells:
            args = (cell, 1, shape["hidden"], shape["layers"])
            neurocell_s, cpp_s = time_python_against_cpp(cell, shape, repeats, warmup)
            row = {"shape": shape_name, **shape, "cell": cell, "neurocell_s": neurocell_s, "cpp_update_s": cpp_s,
                   "layers_s": time_layers(Neurocell(*args), shape, repeats, warmup),
                   "python_loop_s": time_update(LoopStack(*args), shape, max(1, repeats // 2), 1)}
            row["outside_layers_share"] = 1 - row["layers_s"] / row["neurocell_s"]
            if cell in ("gru", "lstm"):
                row["torch_nn_s"] = time_update(TorchNN(*args), shape, repeats, warmup)
                row["speedup_vs_torch_nn"] = row["torch_nn_s"] / row["neurocell_s"]
            row["speedup_vs_python_loop"] = row["python_loop_s"] / row["neurocell_s"]
            row["python_overhead"] = row["neurocell_s"] / row["cpp_update_s"] - 1
            results.append(row)
            line = (f"{shape_name:13s} {cell:5s} neurocell {row['neurocell_s'] * 1e3:8.1f} ms "
                    f"(C++ {row['cpp_update_s'] * 1e3:7.1f} ms, {100 * row['python_overhead']:+.1f} %; layers "
                    f"{row['layers_s'] * 1e3:7.1f} ms, {100 * row['outside_layers_share']:.0f} % outside) | python loop "
                    f"{row['python_loop_s'] * 1e3:8.1f} ms ({row['speedup_vs_python_loop']:.1f}x)")
            if "torch_nn_s" in row:
                line += f" | torch.nn {row['torch_nn_s'] * 1e3:8.1f} ms ({row['speedup_vs_torch_nn']:.2f}x)"
            print(line, flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m neurocell.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--cells", nargs="+", default=["brc", "nbrc", "gru", "lstm"],
                        choices=["brc", "nbrc", "gru", "lstm"])
    parser.add_argument("--repeats", type=int, default=10, help="timed updates per figure (median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed updates first")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--out", default="", help="JSON file to write")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"one training update (forward, backward, Adam), {torch.get_num_threads()} threads, torch {torch.__version__}")
    results = run(args.shapes, args.cells, args.repeats, args.warmup)
    if args.out:
        doc = {"benchmark": "python-update", "threads": torch.get_num_threads(), "torch": torch.__version__,
               "machine": platform.machine(), "cpus": os.cpu_count(), "repeats": args.repeats, "results": results}
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
