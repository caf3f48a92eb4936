"""The command line's analysis commands on every kind of run: they work or refuse with one
clear line; `run --predict`; SRC runs in `run`; `plot curves`; the progress line; ncm_stream."""
import os
import pathlib
import subprocess

import numpy as np
import pytest
import torch

import neurocell
from conftest import cli_path


def test_run_predict_is_the_readout(cli, regression_run, tmp_path):
    x = torch.randn(12, 3, 1, dtype=torch.float64)
    np.save(tmp_path / "x.npy", x.numpy())
    cli("run", "--checkpoint", regression_run, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy", "--predict")
    y = torch.from_numpy(np.load(tmp_path / "y.npy"))
    assert y.shape == (12, 3, 1)
    model = neurocell.load(regression_run).double()
    with torch.no_grad():
        torch.testing.assert_close(y[-1:], model(x, 1), atol=1e-9, rtol=0)  # the last row is the prediction
    torch.testing.assert_close(neurocell.run_predictions(regression_run, x), y, atol=1e-12, rtol=0)


def test_run_reads_src_runs(cli, tmp_path):
    clf = neurocell.SRCClassifier(input_size=784, hidden_size=8, num_layers=2, classes=10, readout_factor=2)
    run_dir = neurocell.save(clf, tmp_path / "src", task={"name": "spiking-mnist", "prefix": 2, "steps": 10})
    spikes = (torch.rand(15, 2, 784) < 0.05).float()
    np.save(tmp_path / "s.npy", spikes.numpy())
    cli("run", "--checkpoint", run_dir, "--input", tmp_path / "s.npy", "--output", tmp_path / "st.npy")
    cli("run", "--checkpoint", run_dir, "--input", tmp_path / "s.npy", "--output", tmp_path / "lg.npy", "--predict")
    states = np.load(tmp_path / "st.npy")
    assert states.shape == (15, 2, 4 * 8 + 4 * 20)
    logits = torch.from_numpy(np.load(tmp_path / "lg.npy"))
    with torch.no_grad():
        torch.testing.assert_close(logits[-1], clf(spikes), atol=1e-5, rtol=1e-5)


def test_analysis_commands_name_the_run_kind(cli, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(60, 6, 2)).astype(np.float32)
    np.savez(tmp_path / "d.npz", inputs=x, labels=(x[:, 0, 0] > 0).astype(np.int64))
    cli("train", "--data", tmp_path / "d.npz", "--cell", "gru", "--layers", 1, "--hidden", 4, "--steps", 3,
        "--eval-every", 3, "--quiet", "--out", tmp_path / "cls")
    for command in (["vaa"], ["warmup", "--out", tmp_path / "w"], ["attractors", "--input", "0"]):
        code, _, err = cli(command[0], "--checkpoint", tmp_path / "cls", *command[1:], check=False)
        assert code != 0 and "is a dataset run" in err and "json.exception" not in err, (command, err)
        assert len(err.strip().splitlines()) == 1, err


def test_plot_curves_of_several_runs(cli, regression_run, tmp_path):
    _, out, _ = cli("plot", "curves", regression_run, regression_run, "--out", tmp_path / "curves.png")
    assert "learning curves of 2 runs" in out
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    code, _, err = cli("plot", "curves", "--out", tmp_path / "none.png", check=False)
    assert code != 0 and "one or more run folders" in err


def test_progress_line_names_its_metric(cli, tmp_path):
    _, _, err = cli("train", "--task", "copy-first-input", "--cell", "gru", "--layers", 1, "--hidden", 4,
                    "--length", 5, "--steps", 20, "--eval-every", 10, "--val-size", 16, "--test-size", 16,
                    "--out", tmp_path / "r")
    lines = [line for line in err.splitlines() if "ETA" in line]
    assert lines and all("val MSE" in line and "nan" not in line for line in lines), err
    assert "val MSE -" in lines[0]  # before the first validation


def test_ncm_stream_help():
    stream = pathlib.Path(cli_path()).parent / "runtime" / "ncm_stream"
    done = subprocess.run([str(stream), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage:" in done.stdout and "--time" in done.stdout


def test_report_on_every_kind_skips_unfinished(cli, regression_run, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(60, 6, 2)).astype(np.float32)
    np.savez(tmp_path / "d.npz", inputs=x, targets=x[:, 0, :1])
    cli("train", "--data", tmp_path / "d.npz", "--cell", "brc", "--layers", 1, "--hidden", 4, "--steps", 3,
        "--eval-every", 3, "--quiet", "--out", tmp_path / "mine")
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "config.json").write_text("{}")
    _, out, err = cli("report", regression_run, tmp_path / "mine", tmp_path / "unfinished")
    assert "| nbrc (" in out or "| nbrc |" in out, out  # the regression table
    assert "| mine | dataset | brc | 1 x 4 | data (regression) | 3 |" in out, out
    assert "skipping" in err and "unfinished" in err
