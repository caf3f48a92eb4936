"""Multistability analysis on modules (docs/multistability.md): VAA, VAA*, warmup, fixed
points and the one-unit bifurcation data of BRC and SRC. With the same seed, vaa() and
warmup() give the numbers of the command line's `vaa` and `warmup`."""
import json

import torch

from . import _C
from .modules import SequenceModel

__all__ = ["vaa", "vaa_of_states", "vaa_star", "count_attractors", "warmup", "fixed_points", "gates",
           "brc_unit_fixed_points", "brc_bistable_half_width", "src_unit_fixed_points"]


def _sequence_model(model, who):
    if not isinstance(model, SequenceModel):
        raise TypeError(f"{who}: model must be a neurocell.SequenceModel (stack + readout), got {type(model).__name__}")
    return model._cpp


def _task_json(task, model, who):
    if isinstance(task, str):
        task = {"name": task, "length": 100}
    if task is None:
        task = getattr(model, "run_config", {}).get("task")
    if task is None:
        raise ValueError(f"{who}: give task={{'name': ..., 'length': ...}} or inputs=callable(n) -> (T, n, I)")
    return json.dumps(task)


def vaa(model, task=None, inputs=None, samples=100, settle_steps=10000, batches=10, eps=1e-4, seed=1):
    """VAA of model: the fraction of distinct attractors reached from `samples` inputs of the
    task (or inputs(n) -> (T, n, I)) after `settle_steps` steps of zero input, averaged over
    `batches`. Returns {"vaa", "attractors", "per_batch"}."""
    cpp = _sequence_model(model, "vaa")
    task_json = "" if inputs is not None else _task_json(task, model, "vaa")
    with torch.no_grad():
        return _C.vaa(cpp, task_json, inputs, int(samples), int(settle_steps), int(batches), float(eps), int(seed))


def vaa_of_states(states, eps=1e-4):
    """VAA of a set of final states (n, S): distinct states (eps apart) over n."""
    return _C.vaa_of_states(states, eps)


def vaa_star(states, eps=1e-4):
    """VAA*, the differentiable VAA of the warmup loss, of states (n, S)."""
    return _C.vaa_star(states, eps)


def count_attractors(states, eps=1e-4):
    return _C.count_attractors(states, eps)


def warmup(model, task=None, inputs=None, steps=100, lr=1e-2, batch_size=32, target=0.95, max_settle=200,
           settle_growth=10, eps=1e-4, seed=1, partial="frozen"):
    """Warms model up in place (a fresh Adam over the warmup parameters; with double layers,
    partial warmup: only the first half of every layer is driven and measured; partial="frozen"
    updates only the first halves, the second halves keep their weights; partial="authors"
    updates every stack parameter, as the warmup authors' code). Returns {"steps", "partial",
    "history": [per step {"step", "settle_steps", "loss", "vaa_star", "skipped"}]}."""
    cpp = _sequence_model(model, "warmup")
    task_json = "" if inputs is not None else _task_json(task, model, "warmup")
    options = {"steps": int(steps), "learning_rate": float(lr), "batch_size": int(batch_size), "target": float(target),
               "max_settle": int(max_settle), "settle_growth": int(settle_growth), "eps": float(eps), "seed": int(seed),
               "partial": partial}
    return _C.warmup(cpp, task_json, inputs, json.dumps(options))


def gates(model, x):
    """The gate traces of a BRC or nBRC SequenceModel on x (T, B, I) from the zero state, as the
    authors' cells return them "for analysis": {"a": [per layer a_t (T, B, H)], "c": [per
    layer c_t], "bistable_fraction": share of (step, sample, unit) with a_t > 1}. No gradient."""
    return _C.gate_traces(_sequence_model(model, "gates"), model._time_major(x))


def fixed_points(model, input, starts=200, max_steps=20000, tolerance=1e-9, eps=1e-4, seed=1):
    """Fixed points of the model's joint state under the constant input (I), found from
    `starts` random states: {"points": [{"state", "basin", "spectral_radius", "stable"}],
    "unconverged"}."""
    cpp = _sequence_model(model, "fixed_points")
    return _C.fixed_points(cpp, input, int(starts), int(max_steps), float(tolerance), float(eps), int(seed))


def brc_unit_fixed_points(a, u_min=-3.0, u_max=3.0, n=601):
    """The bifurcation diagram of one BRC unit with feedback a: (u, h, stable) tensors."""
    return _C.brc_unit_fixed_points(float(a), float(u_min), float(u_max), int(n))


def brc_bistable_half_width(a):
    return _C.brc_bistable_half_width(float(a))


def src_unit_fixed_points(r=2.0, r_s=-7.0, bias=-6.0, z_hyp=0.9, z_dep=0.0, x_min=-5.0, x_max=15.0, n=801):
    """Fixed points of one SRC unit against its constant input x: (x, h, stable) tensors."""
    return _C.src_unit_fixed_points(float(r), float(r_s), float(bias), float(z_hyp), float(z_dep), float(x_min),
                                    float(x_max), int(n))
