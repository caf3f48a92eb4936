"""Run folders both ways: what the command line writes, Python loads and computes the same;
what Python saves, the command line evaluates, runs and exports; vaa and warmup give the
command line's numbers for the same seed."""
import json
import re

import numpy as np
import pytest
import torch

import neurocell


def cli_states(cli, run_dir, x, tmp_path):
    np.save(tmp_path / "x.npy", x.numpy())
    cli("run", "--checkpoint", run_dir, "--input", tmp_path / "x.npy", "--output", tmp_path / "states.npy")
    return torch.from_numpy(np.load(tmp_path / "states.npy"))


def test_load_equals_cli_run_float64(cli, regression_run, tmp_path):
    model = neurocell.load(regression_run)
    assert isinstance(model, neurocell.SequenceModel) and model.run_kind == "regression"
    assert model.config["cell"] == "nbrc" and not model.training
    x = torch.randn(15, 3, 1, dtype=torch.float64)
    expected = cli_states(cli, regression_run, x, tmp_path)
    assert expected.dtype == torch.float64
    model.double()
    with torch.no_grad():
        got = model.all_states(x)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(neurocell.run_states(regression_run, x), expected, atol=1e-12, rtol=0)


def test_state_dict_names_are_the_checkpoint_names(regression_run):
    from safetensors_names import read_names  # noqa: E402 (tests/safetensors_names.py)
    model = neurocell.load(regression_run)
    assert set(model.state_dict()) == set(read_names(regression_run / "model.safetensors"))


def test_save_is_a_run_the_cli_reads(cli, tmp_path):
    torch.manual_seed(5)
    model = neurocell.SequenceModel("gru", input_size=1, hidden_size=6, num_layers=2, output_size=1)
    task = {"name": "copy-first-input", "length": 10}
    run_dir = neurocell.save(model, tmp_path / "saved", task=task, train={"seed": 2, "test_size": 64})
    _, out, _ = cli("eval", "--checkpoint", run_dir)
    mse = float(re.search(r"test MSE ([0-9.e+-]+)", out).group(1))
    inputs, targets, k = neurocell.data.sample_task("copy-first-input", length=10, batch=64, seed=2, stream=2)
    with torch.no_grad():
        ours = torch.nn.functional.mse_loss(model(inputs, k), targets).item()
    assert mse == pytest.approx(ours, rel=1e-4)
    x = torch.randn(8, 2, 1, dtype=torch.float64)
    with torch.no_grad():
        ours_states = model.double().all_states(x)
    torch.testing.assert_close(cli_states(cli, run_dir, x, tmp_path), ours_states, atol=1e-6, rtol=0)
    model.float()
    _, out, _ = cli("export", "--checkpoint", run_dir, "--out", tmp_path / "cli.ncm")
    neurocell.export(model, tmp_path / "py.ncm")
    assert (tmp_path / "cli.ncm").read_bytes() == (tmp_path / "py.ncm").read_bytes()
    # and back: load(save(model)) is the model
    again = neurocell.load(run_dir)
    for (n1, t1), (n2, t2) in zip(model.state_dict().items(), again.state_dict().items()):
        assert n1 == n2 and torch.equal(t1, t2)
    report = json.loads((tmp_path / "saved" / "report.json").read_text())
    assert report["saved"] is True
    with pytest.raises(ValueError, match="exists|overwrite"):
        neurocell.save(model, run_dir, task=task)
    neurocell.save(model, run_dir, task=task, overwrite=True)


def test_load_save_roundtrip_of_a_cli_run(cli, regression_run, tmp_path):
    model = neurocell.load(regression_run)
    with torch.no_grad():
        model.get_parameter("readout.bias").add_(0.25)
    copy = neurocell.save(model, tmp_path / "continued")  # task and train from the loaded run
    config = json.loads((tmp_path / "continued" / "config.json").read_text())
    original = json.loads((regression_run / "config.json").read_text())
    assert config["task"] == original["task"] and config["model"] == original["model"]
    _, out, _ = cli("eval", "--checkpoint", copy)
    assert "test MSE" in out


def test_save_refuses_what_does_not_fit(tmp_path):
    model = neurocell.SequenceModel("brc", input_size=3, hidden_size=4, num_layers=1)
    with pytest.raises(ValueError, match="task"):
        neurocell.save(model, tmp_path / "a")
    with pytest.raises(ValueError, match="reads 1 inputs"):
        neurocell.save(model, tmp_path / "b", task={"name": "copy-first-input", "length": 10})
    assert not (tmp_path / "b" / "config.json").exists()
    with pytest.raises(ValueError, match="no config.json|not found|missing|exist"):
        neurocell.load(tmp_path / "nothing")


def test_vaa_gives_the_cli_numbers(cli, regression_run):
    _, out, _ = cli("vaa", "--checkpoint", regression_run, "--vaa-samples", 20, "--vaa-settle", 50,
                    "--vaa-batches", 2, "--vaa-seed", 4)
    expected = float(re.search(r"VAA ([0-9.]+)", out).group(1))
    model = neurocell.load(regression_run)
    result = neurocell.vaa(model, samples=20, settle_steps=50, batches=2, seed=4)
    assert result["vaa"] == pytest.approx(expected, abs=6e-5)  # the CLI prints 4 decimals
    assert len(result["per_batch"]) == 2


def test_warmup_gives_the_cli_weights(cli, regression_run, tmp_path):
    # One thread on both sides: the same kernels then sum in the same order, bit for bit.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        check_warmup(cli, regression_run, tmp_path)
    finally:
        torch.set_num_threads(threads)


def check_warmup(cli, regression_run, tmp_path):
    out_dir = tmp_path / "warm"
    cli("warmup", "--checkpoint", regression_run, "--out", out_dir, "--steps", 5, "--max-settle", 20, "--seed", 7,
        "--vaa-samples", 10, "--vaa-settle", 20, "--vaa-batches", 1, "--quiet", "--threads", 1)
    cli_warm = neurocell.load(out_dir)
    model = neurocell.load(regression_run)
    result = neurocell.warmup(model, steps=5, max_settle=20, seed=7)
    assert result["steps"] == 5 and len(result["history"]) == 5
    cli_losses = [json.loads(line)["loss"] for line in (out_dir / "metrics.jsonl").read_text().splitlines()
                  if json.loads(line).get("phase") == "warmup"]
    assert [h["loss"] for h in result["history"]] == cli_losses
    for (n1, t1), (n2, t2) in zip(model.state_dict().items(), cli_warm.state_dict().items()):
        assert n1 == n2 and torch.equal(t1, t2), n1


def test_src_classifier_save_and_export(cli, tmp_path):
    clf = neurocell.SRCClassifier(input_size=784, hidden_size=16, num_layers=2, classes=10, readout_factor=2)
    task = {"name": "spiking-mnist", "prefix": 2, "steps": 10, "gain": 0.25, "subsample": 0}
    run_dir = neurocell.save(clf, tmp_path / "src", task=task)
    assert neurocell.run_kind(run_dir) == "spiking"
    cli("export", "--checkpoint", run_dir, "--out", tmp_path / "cli.ncm")
    neurocell.export(clf, tmp_path / "py.ncm")
    assert (tmp_path / "cli.ncm").read_bytes() == (tmp_path / "py.ncm").read_bytes()
    again = neurocell.load(run_dir)
    assert isinstance(again, neurocell.SRCClassifier)
    for t1, t2 in zip(clf.state_dict().values(), again.state_dict().values()):
        assert torch.equal(t1, t2)


@pytest.mark.parametrize("cell", neurocell.cell_names())
def test_every_cell_loaded_equals_cli_run(cli, cell, tmp_path):
    run_dir = tmp_path / cell
    cli("train", "--task", "copy-first-input", "--cell", cell, "--layers", 2, "--hidden", 8, "--length", 6,
        "--batch", 8, "--steps", 3, "--eval-every", 3, "--val-size", 8, "--test-size", 8, "--quiet", "--out", run_dir)
    x = torch.randn(9, 2, 1, dtype=torch.float64)
    expected = cli_states(cli, run_dir, x, tmp_path)
    model = neurocell.load(run_dir).double()
    with torch.no_grad():
        torch.testing.assert_close(model.all_states(x), expected, atol=1e-6, rtol=0)


def _copy_config(steps):
    return {"model": {"cell": "nbrc", "layers": 2, "hidden_size": 16},
            "task": {"name": "copy-first-input", "length": 20},
            "train": {"steps": steps, "batch_size": 16, "eval_every": 25, "validation_size": 32, "test_size": 64,
                      "seed": 4, "threads": 1, "checkpoint_every": 5}}


def test_train_from_python_equals_the_cli(cli, tmp_path):
    report = neurocell.train(_copy_config(30), tmp_path / "py")
    cli("train", "--task", "copy-first-input", "--cell", "nbrc", "--layers", 2, "--hidden", 16, "--length", 20,
        "--batch", 16, "--steps", 30, "--eval-every", 25, "--val-size", 32, "--test-size", 64, "--seed", 4,
        "--threads", 1, "--checkpoint-every", 5, "--quiet", "--out", tmp_path / "cli")
    assert (tmp_path / "py" / "model.safetensors").read_bytes() == (tmp_path / "cli" / "model.safetensors").read_bytes()
    assert report["test"]["mse"] == json.loads((tmp_path / "cli" / "report.json").read_text())["test"]["mse"]
    with pytest.raises(ValueError, match="already holds a run"):
        neurocell.train(_copy_config(30), tmp_path / "py")
    with pytest.raises(ValueError, match="nothing to resume"):
        neurocell.resume(tmp_path / "py")


def test_a_python_training_stopped_by_sigterm_resumes_bit_identical(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    reference = neurocell.train(_copy_config(400), tmp_path / "reference")
    run = tmp_path / "stopped"
    (tmp_path / "config.json").write_text(json.dumps(_copy_config(400)))
    script = (f"import json, neurocell; "
              f"neurocell.train(json.load(open({str(tmp_path / 'config.json')!r})), {str(run)!r})")
    child = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (run / "resume.safetensors").exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.01)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    if (run / "report.json").exists():
        pytest.skip("the training finished before SIGTERM arrived (machine too fast for this run)")
    assert child.returncode != 0 and "KeyboardInterrupt" in err and "--resume" in err, err
    resumed = neurocell.resume(run)
    assert resumed["resumed_from"] > 0
    assert (run / "model.safetensors").read_bytes() == (tmp_path / "reference" / "model.safetensors").read_bytes()
    assert resumed["test"] == reference["test"] and resumed["best_step"] == reference["best_step"]
