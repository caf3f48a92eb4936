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
