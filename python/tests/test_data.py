"""Tasks, rate coding and analysis helpers as tensors."""
import pytest
import torch

import neurocell


def test_tasks():
    assert "copy-first-input" in neurocell.data.task_names()
    x, y, k = neurocell.data.sample_task("denoising", length=30, batch=4, no_end=5)
    assert x.shape[0] == 30 and x.shape[1] == 4 and y.shape[:2] == (k, 4) and k == 5
    x2, _, _ = neurocell.data.sample_task("denoising", length=30, batch=4, no_end=5)
    assert torch.equal(x, x2)  # the trainer's generators: same seed, same batch
    with pytest.raises(ValueError, match="task"):
        neurocell.data.sample_task("nope")


def test_numpy_permutation_is_numpys():
    """--permutation numpy is numpy.random.RandomState(seed).permutation(n), computed by the
    project's own implementation of numpy's legacy generator: compared with numpy itself."""
    np = pytest.importorskip("numpy")
    for seed in (1, 7, 2**32 - 1):
        expected = np.random.RandomState(seed).permutation(784).tolist()
        assert neurocell.data.image_permutation("psmnist", seed, "numpy") == expected
    assert neurocell.data.image_permutation("prow-mnist", 1, "numpy") == np.random.RandomState(1).permutation(28).tolist()
    np.random.seed(1)  # the BRC 2021 code's psMNIST order
    assert neurocell.data.image_permutation("psmnist", 1, "numpy") == np.random.permutation(784).tolist()


def test_image_sequences():
    images = torch.randint(0, 256, (2, 784), dtype=torch.uint8)
    x = neurocell.data.image_sequences(images, "psmnist-rows", black=3, permutation="numpy", pixels="centred")
    assert x.shape == (31, 2, 28)
    order = neurocell.data.image_permutation("psmnist", 1, "numpy")
    flat = images.float()[:, order] / 255 - 0.5
    assert torch.allclose(x[:28].permute(1, 0, 2).reshape(2, 784), flat)
    assert torch.equal(x[28:], torch.zeros(3, 2, 28))
    with pytest.raises(ValueError, match="pixels"):
        neurocell.data.image_sequences(images, "smnist", pixels="half")


def test_rate_coding():
    images = torch.full((3, 784), 255, dtype=torch.uint8)
    images[1] = 0
    spikes = neurocell.data.rate_code(images, prefix=5, steps=400, gain=0.25, seed=2)
    assert spikes.shape == (405, 3, 784)
    assert spikes[:5].sum() == 0 and spikes[:, 1].sum() == 0
    assert spikes[5:, 0].mean().item() == pytest.approx(0.25, abs=0.01)


def test_states_analysis_and_bifurcation():
    states = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    assert neurocell.analysis.count_attractors(states) == 3
    assert neurocell.analysis.vaa_of_states(states) == pytest.approx(0.75)  # mean of 1/neighbours: (1/2+1/2+1+1)/4
    u, h, stable = neurocell.analysis.brc_unit_fixed_points(a=1.5, n=101)
    assert u.shape == h.shape == stable.shape and stable.any()
    assert neurocell.analysis.brc_bistable_half_width(0.5) == 0
    model = neurocell.SequenceModel("brc", input_size=1, hidden_size=3, num_layers=1, dtype=torch.float64)
    points = neurocell.analysis.fixed_points(model, torch.zeros(1, dtype=torch.float64), starts=10, max_steps=500)
    assert len(points["points"]) >= 1


def test_partial_warmup_moves_the_first_halves_only():
    torch.manual_seed(0)
    model = neurocell.SequenceModel("gru", input_size=1, hidden_size=8, num_layers=2, double_layer=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = neurocell.warmup(model, task={"name": "copy-first-input", "length": 20}, steps=3, max_settle=10)
    assert result["partial"] and result["steps"] == 3
    changed = {k for k, v in model.state_dict().items() if not torch.equal(before[k], v)}
    assert changed and all(".first." in k for k in changed), changed


def test_gate_traces_of_bistable_cells():
    model = neurocell.SequenceModel("nbrc", input_size=2, hidden_size=5, num_layers=2, dtype=torch.float64)
    x = torch.randn(12, 3, 2, dtype=torch.float64)
    out = neurocell.analysis.gates(model, x)
    assert len(out["a"]) == 2 and out["a"][0].shape == (12, 3, 5) and out["c"][1].shape == (12, 3, 5)
    assert ((out["a"][0] >= 0) & (out["a"][0] <= 2)).all()
    fraction = sum(float((a > 1).double().mean()) for a in out["a"]) / 2
    assert out["bistable_fraction"] == pytest.approx(fraction)
    with pytest.raises(ValueError, match="BRC and nBRC"):
        neurocell.analysis.gates(neurocell.SequenceModel("gru", input_size=2, hidden_size=5, num_layers=1), x.float())
