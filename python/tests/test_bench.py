"""The Python benchmark's GEMM bound counts the matrix products an update really makes: its
FLOP count equals torch.profiler's count of the matrix products in one update of the Python
loop (which runs them all as separate mm/addmm ops), within the readout and the first step's
zero state that the count leaves out."""
import pytest
import torch

from neurocell import bench


@pytest.mark.parametrize("cell", ["brc", "nbrc", "gru", "lstm"])
def test_gemm_flops_is_what_the_loop_computes(cell):
    shape = dict(layers=2, hidden=16, length=7, batch=5)
    update = bench.make_update(bench.LoopStack(cell, 1, shape["hidden"], shape["layers"]), shape)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], with_flops=True) as prof:
        update()
    counted = sum(e.flops for e in prof.key_averages() if e.key in ("aten::mm", "aten::addmm"))
    assert counted == pytest.approx(bench.gemm_flops(cell, shape), rel=0.05)


def test_gemm_flops_by_hand():
    # BRC, 2 x 256, T = 100, B = 32: the second layer's projection 2 T B H 3H, three times
    # (forward, weight gradient, input gradient), the first layer's (I = 1) twice.
    shape = bench.SHAPES["warmup-paper"]
    T, B, H = 100, 32, 256
    assert bench.gemm_flops("brc", shape) == 3 * 2 * T * B * H * 3 * H + 2 * 2 * T * B * 1 * 3 * H
    # nBRC adds W h (2 H x H) forward and both gradients in both layers.
    assert bench.gemm_flops("nbrc", shape) - bench.gemm_flops("brc", shape) == 2 * 3 * 2 * T * B * H * 2 * H


def test_the_benchmark_runs_end_to_end(monkeypatch, capsys):
    # Every column, the bound and the profiles, at a tiny shape (timings are not checked here:
    # targets live in the benchmark's output, not in tests).
    monkeypatch.setitem(bench.SHAPES, "tiny", dict(layers=2, hidden=8, length=5, batch=3))
    rows = bench.run(["tiny"], ["brc", "gru"], repeats=1, warmup=0, profile=True)
    assert [r["cell"] for r in rows] == ["brc", "gru"]
    for r in rows:
        assert r["gemm_bound_s"] > 0 and r["best_possible_speedup_vs_python_loop"] > 0
        assert "aten::" in r["profile_neurocell"] and "aten::" in r["profile_python_loop"]
    assert "torch_nn_s" in rows[1] and "torch_nn_s" not in rows[0]
    assert "GEMM bound" in capsys.readouterr().out
