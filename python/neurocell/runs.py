"""Run folders from Python: load the model of any run the command line wrote, save a model
as a run folder the command line can `eval`, `run` and `export`, and export to .ncm."""
import json
import os

import torch

from . import _C
from .modules import SequenceModel, SRCClassifier

__all__ = ["load", "save", "train", "resume", "run_kind", "run_states", "run_predictions", "export"]


def run_kind(run_dir):
    """'regression' | 'sequence-classification' | 'spiking' | 'tmaze'."""
    return _C.detect_run_kind(os.fspath(run_dir))


def load(run_dir):
    """The trained model of a run folder, in evaluation mode: a SequenceModel (stack and
    readout) for regression, sequence-classification and T-maze runs, an SRCClassifier for
    spiking runs. Its config.json is the model's ``run_config`` attribute."""
    kind, config, cpp = _C.load_model(os.fspath(run_dir))
    model = SRCClassifier(_cpp=cpp) if kind == "spiking" else SequenceModel(_cpp=cpp)
    model.eval()
    model.run_config = config
    model.run_kind = kind
    return model


def _default_task(model):
    raise ValueError("save: give the task the model solves, e.g. task={'name': 'copy-first-input', 'length': 100} "
                     "(regression), {'name': 'smnist', ...} with kind='sequence-classification', or the spiking "
                     "task of an SRC classifier")


def save(model, run_dir, task=None, train=None, kind=None, overwrite=False, **extra):
    """Writes model as a run folder: config.json, model.safetensors and a report.json saying
    the run was saved, not trained by the command line.

    task: the task config as in a run's config.json "task" (regression: {"name":
    "copy-first-input", "length": 100, "no_end": 0}); train: "train" options (seed,
    test_size, ...: what `eval` uses to draw its test set); kind: "regression" (default for a
    SequenceModel), "sequence-classification", or "spiking" (an SRCClassifier). A model loaded
    with load() keeps its run's task and train options unless new ones are given."""
    previous = getattr(model, "run_config", None) or {}
    if isinstance(model, SRCClassifier):
        kind = kind or "spiking"
    elif isinstance(model, SequenceModel):
        kind = kind or previous.get("kind", "regression")
    else:
        raise TypeError(f"save: model must be a neurocell.SequenceModel or SRCClassifier, got {type(model).__name__}")
    task = task if task is not None else previous.get("task")
    if task is None:
        _default_task(model)
    config = {"kind": kind, "model": model.config, "task": task}
    train = train if train is not None else previous.get("train")
    if train is not None:
        config["train"] = train
    config.update(extra)
    was_double = next(model.parameters()).dtype != torch.float32
    if was_double:
        raise ValueError("save: run folders hold float32 weights; call model.float() first")
    _C.save_model(os.fspath(run_dir), json.dumps(config), model._cpp, bool(overwrite))
    return os.fspath(run_dir)


def train(config, run_dir, overwrite=False, resume=False):
    """Trains the run a config describes into run_dir, as `neurocell train` does, and returns
    its report.json as a dict. config is a dict shaped as a run folder's config.json: "kind"
    (regression by default, sequence-classification, spiking, dataset), "model", "task" (or
    "data"), "train" (steps, batch_size, learning_rate, seed, checkpoint_every, ...); missing
    options take the command line's defaults.

    The run writes a resume checkpoint every train.checkpoint_every updates (0: at every
    validation) and on SIGINT/SIGTERM, which then raise KeyboardInterrupt with the state saved;
    resume=True (or neurocell.resume(run_dir)) continues it, bit-identical to a run that was
    never interrupted. overwrite=True replaces a run already in run_dir."""
    if overwrite and resume:
        raise ValueError("train: overwrite and resume exclude each other")
    existing = "resume" if resume else "overwrite" if overwrite else "refuse"
    _value, report, _text = _C.train_run(json.dumps(config), os.fspath(run_dir), existing)
    return report


def resume(run_dir):
    """Continues the interrupted training in run_dir (its own config.json) from its last
    checkpoint; a run stopped before its first checkpoint starts again. Returns report.json."""
    path = os.path.join(os.fspath(run_dir), "config.json")
    if not os.path.exists(path):
        raise ValueError(f"resume: '{os.fspath(run_dir)}' holds no run (config.json not found)")
    with open(path) as f:
        config = json.load(f)
    return train(config, run_dir, resume=True)


def run_states(run_dir, x):
    """Every layer's states (T, B, S) of a run's model on x (T, B, I), as `neurocell run`
    (an SRC run: every layer's spikes, i, h, h_s)."""
    return _C.run_states(os.fspath(run_dir), x)


def run_predictions(run_dir, x):
    """The readout at every step (T, B, O), as `neurocell run --predict`."""
    return _C.run_predictions(os.fspath(run_dir), x)


def export(model, path):
    """Writes model (SequenceModel or SRCClassifier) as a .ncm file for the dependency-free
    runtime (ncm_stream, runtime/)."""
    if not isinstance(model, (SequenceModel, SRCClassifier)):
        raise TypeError(f"export: model must be a neurocell.SequenceModel or SRCClassifier, got {type(model).__name__}")
    _C.export_ncm(model._cpp, os.fspath(path))
    return os.fspath(path)
