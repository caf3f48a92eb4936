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

Each row also gives the update's GEMM bound: its matrix-product FLOPs (input projections and
recurrent products, forward and both gradients; gemm_flops) at the best GEMM throughput
measured in this run (gemm_throughput, before every row). Both the neurocell module and the Python loop
compute these products, so loop time / bound is the largest speed-up over the loop that any
implementation could show on this machine. --profile prints torch.profiler's table of one
update of each (the ops by self CPU time).
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


def gates(cell):
    """The registry's gate rows per unit of the input projection and of the recurrent matrix
    (BRC's recurrence is a diagonal w * h: 0; nBRC's W h gives a and c: 2)."""
    row = next(c for c in _C.cell_registry() if c["name"] == cell)
    return row["input_gates"], row["recurrent_gates"]


def gemm_flops(cell, shape, input_size=1):
    """Matrix-product FLOPs of one update of the stack: per layer, the input projection
    (2 T B I g H) and the recurrent products (2 T B H r H) forward, and in the backward the
    weight gradient of each and the gradient of each product's input (none for the first
    layer's input, which needs no gradient). The readout's and the pointwise work are left out."""
    T, B, H = shape["length"], shape["batch"], shape["hidden"]
    input_gates, recurrent_gates = gates(cell)
    total = 0
    for layer in range(shape["layers"]):
        inputs = input_size if layer == 0 else H
        projection = 2 * T * B * inputs * input_gates * H
        recurrent = 2 * T * B * H * recurrent_gates * H
        total += projection * (2 if layer == 0 else 3) + 3 * recurrent
    return total


def gemm_throughput(shape, repeats=10):
    """The best FLOP/s of torch.mm measured here (median of `repeats` per shape) over the
    update's own products, (T B, H) x (H, 4 H) and its two gradients' shapes, and a square
    1024 product: the bound must use the fastest GEMM this machine runs, or an implementation
    that blocks its products better than one torch.mm would beat it."""
    TB, H = shape["length"] * shape["batch"], shape["hidden"]
    best = 0.0
    for m, k, n in ((TB, H, 4 * H), (H, TB, 4 * H), (TB, 4 * H, H), (1024, 1024, 1024)):
        a, b = torch.rand(m, k), torch.rand(k, n)
        for _ in range(2):
            torch.mm(a, b)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b)
            times.append(time.perf_counter() - start)
        best = max(best, 2 * m * k * n / statistics.median(times))
    return best


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


def profile_update(body, shape, title, rows=12):
    """torch.profiler's table of one update (after two untimed ones), by self CPU time."""
    update = make_update(body, shape)
    update()
    update()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        update()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    print(f"profile: {title}\n{table}", flush=True)
    return table


def run(shapes, cells, repeats, warmup, profile=False):
    results = []
    throughput = 0.0
    for shape_name in shapes:
        shape = SHAPES[shape_name]
        for cell in cells:
            # Measured again before every row, the best of the whole run kept (the machine's
            # GEMM speed, not a shape's): this shared machine's speed drifts within a run, and a
            # bound measured in a slow moment is no bound.
            throughput = max(throughput, gemm_throughput(shape))
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
            row["gemm_gflop"] = gemm_flops(cell, shape) / 1e9
            row["gemm_gflop_per_s"] = throughput / 1e9
            row["gemm_bound_s"] = gemm_flops(cell, shape) / throughput
            row["neurocell_over_bound"] = row["neurocell_s"] / row["gemm_bound_s"]
            row["best_possible_speedup_vs_python_loop"] = row["python_loop_s"] / row["gemm_bound_s"]
            if profile:
                row["profile_neurocell"] = profile_update(Neurocell(*args), shape, f"{shape_name} {cell} neurocell")
                row["profile_python_loop"] = profile_update(LoopStack(*args), shape, f"{shape_name} {cell} python loop")
            results.append(row)
            line = (f"{shape_name:13s} {cell:5s} neurocell {row['neurocell_s'] * 1e3:8.1f} ms "
                    f"(C++ {row['cpp_update_s'] * 1e3:7.1f} ms, {100 * row['python_overhead']:+.1f} %; layers "
                    f"{row['layers_s'] * 1e3:7.1f} ms, {100 * row['outside_layers_share']:.0f} % outside) | python loop "
                    f"{row['python_loop_s'] * 1e3:8.1f} ms ({row['speedup_vs_python_loop']:.1f}x)")
            if "torch_nn_s" in row:
                line += f" | torch.nn {row['torch_nn_s'] * 1e3:8.1f} ms ({row['speedup_vs_torch_nn']:.2f}x)"
            line += (f"\n{'':19s} GEMM bound {row['gemm_bound_s'] * 1e3:6.1f} ms ({row['gemm_gflop']:.2f} GFLOP at "
                     f"{row['gemm_gflop_per_s']:.0f} GFLOP/s): neurocell at {row['neurocell_over_bound']:.2f}x the bound, "
                     f"so at most {row['best_possible_speedup_vs_python_loop']:.1f}x over the loop here")
            if row["neurocell_over_bound"] < 1:
                line += " (no bound: the GEMM throughput measured here was lower than the update reached)"
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
    parser.add_argument("--profile", action="store_true",
                        help="also print torch.profiler's table of one update of the module and of the loop")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"one training update (forward, backward, Adam), {torch.get_num_threads()} threads, torch {torch.__version__}")
    results = run(args.shapes, args.cells, args.repeats, args.warmup, args.profile)
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
