"""`neurocell train --data FILE.npz`: a regression and a classification problem given as files
are learned, the run folder is like every other (eval, run, export, neurocell.load), and bad
files are refused with one line."""
import json
import re

import numpy as np
import pytest
import torch

import neurocell


def regression_arrays(rng, n, length=10):
    x = rng.uniform(-1, 1, size=(n, length, 2)).astype(np.float32)
    return x, x[:, 0, :1] * 0.8  # the first step's first input, read at the end: (N, 1)


def classification_arrays(rng, n, length=10):
    x = rng.uniform(-1, 1, size=(n, length, 2)).astype(np.float32)
    return x, (x[:, -1, 0] > 0).astype(np.int64) + (x[:, -1, 1] > 0).astype(np.int64)  # 3 classes from the last step


def train(cli, data, out, *extra, check=True, steps=300):
    return cli("train", "--data", data, "--cell", "gru", "--layers", 1, "--hidden", 16, "--steps", steps, "--batch", 32,
               "--lr", 3e-3, "--eval-every", 100, "--seed", 1, "--threads", 1, "--quiet", "--out", out, *extra,
               check=check)


def test_regression_from_a_file(cli, tmp_path):
    rng = np.random.default_rng(0)
    x, y = regression_arrays(rng, 800)
    np.savez(tmp_path / "reg.npz", inputs=x, targets=y)
    _, out, _ = train(cli, tmp_path / "reg.npz", tmp_path / "run")
    mse, chance = map(float, re.search(r"test MSE ([0-9.e+-]+) \(chance ([0-9.e+-]+)", out).groups())
    assert mse < 0.2 * chance, out
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["kind"] == "dataset" and report["problem"] == "regression" and report["test_is_validation"]
    _, again, _ = cli("eval", "--checkpoint", tmp_path / "run")
    assert float(re.search(r"test MSE ([0-9.e+-]+)", again).group(1)) == pytest.approx(mse, rel=1e-5)
    model = neurocell.load(tmp_path / "run")
    assert model.config["input_size"] == 2 and model.config["output_size"] == 1
    # `run` and export read it like any run
    np.save(tmp_path / "x.npy", x[:4].transpose(1, 0, 2).copy())
    cli("run", "--checkpoint", tmp_path / "run", "--input", tmp_path / "x.npy", "--output", tmp_path / "s.npy")
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(np.load(tmp_path / "s.npy")),
                                   model.all_states(torch.from_numpy(x[:4]).transpose(0, 1)), atol=1e-5, rtol=0)
    cli("export", "--checkpoint", tmp_path / "run", "--out", tmp_path / "m.ncm")


def test_classification_with_its_own_splits_time_major(cli, tmp_path):
    rng = np.random.default_rng(1)
    x, labels = classification_arrays(rng, 900)
    vx, vl = classification_arrays(rng, 150)
    tx, tl = classification_arrays(rng, 300)
    tnI = lambda a: a.transpose(1, 0, 2).copy()  # (T, N, I)
    np.savez(tmp_path / "cls.npz", inputs=tnI(x), labels=labels, val_inputs=tnI(vx), val_labels=vl,
             test_inputs=tnI(tx), test_labels=tl)
    _, out, _ = train(cli, tmp_path / "cls.npz", tmp_path / "run", "--data-layout", "TNI", steps=1000)
    accuracy, chance = map(float, re.search(r"test accuracy ([0-9.]+) \(chance ([0-9.]+), 300 sequences of the test split",
                                            out).groups())
    assert accuracy > 0.85 and chance < 0.6, out
    _, again, _ = cli("eval", "--checkpoint", tmp_path / "run")
    assert float(re.search(r"test accuracy ([0-9.]+)", again).group(1)) == pytest.approx(accuracy, abs=1e-9)
    model = neurocell.load(tmp_path / "run")
    with torch.no_grad():
        logits = model(torch.from_numpy(tnI(tx)))[0]
    assert (logits.argmax(1).numpy() == tl).mean() == pytest.approx(accuracy, abs=1e-9)


def test_bad_files_are_refused(cli, tmp_path):
    rng = np.random.default_rng(2)
    x, y = regression_arrays(rng, 50)
    cases = {
        "unknown": dict(inputs=x, targets=y, weights=y),
        "both": dict(inputs=x, targets=y, labels=np.zeros(50, np.int64)),
        "rows": dict(inputs=x, targets=y[:40]),
        "dims": dict(inputs=x[:, :, 0], targets=y),
        "nan": dict(inputs=np.where(x > 0.99, np.nan, x).astype(np.float32), targets=y),
        "float_labels": dict(inputs=x, labels=y[:, 0]),
    }
    messages = {"unknown": "unknown array 'weights'", "both": "exactly one of 'targets'", "rows": "has 40 rows",
                "dims": "must have 3 dimensions", "nan": "NaN", "float_labels": "integer class labels"}
    for name, arrays in cases.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
        code, _, err = train(cli, tmp_path / f"{name}.npz", tmp_path / name, check=False)
        assert code != 0 and messages[name] in err, (name, err)
        assert len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / name / "config.json").exists()
    code, _, err = cli("train", "--data", tmp_path / "nan.npz", "--task", "denoising", "--out", tmp_path / "t",
                       check=False)
    assert code != 0 and "leave out --task" in err


def test_eval_refuses_a_changed_file(cli, tmp_path):
    rng = np.random.default_rng(3)
    x, y = regression_arrays(rng, 200)
    np.savez(tmp_path / "d.npz", inputs=x, targets=y)
    cli("train", "--data", tmp_path / "d.npz", "--cell", "brc", "--layers", 1, "--hidden", 4, "--steps", 5,
        "--eval-every", 5, "--quiet", "--out", tmp_path / "run")
    np.savez(tmp_path / "d.npz", inputs=x * 2, targets=y)
    code, _, err = cli("eval", "--checkpoint", tmp_path / "run", check=False)
    assert code != 0 and "has changed since the run was trained" in err
    code, _, err = cli("vaa", "--checkpoint", tmp_path / "run", check=False)
    assert code != 0 and "is a dataset run" in err


def test_masked_targets_do_not_count(cli, tmp_path):
    rng = np.random.default_rng(4)
    x, y = regression_arrays(rng, 800)
    noise = rng.normal(size=(800, 1, 1)).astype(np.float32) * 3
    targets = np.concatenate([noise, y[:, None, :]], axis=1)  # (N, K=2, 1): a noisy step, then the learnable one
    mask = np.tile(np.array([[0.0, 1.0]], np.float32), (800, 1))  # (N, K): the noisy step does not count
    np.savez(tmp_path / "m.npz", inputs=x, targets=targets, mask=mask)
    _, out, _ = train(cli, tmp_path / "m.npz", tmp_path / "run")
    mse, chance = map(float, re.search(r"test MSE ([0-9.e+-]+) \(chance ([0-9.e+-]+)", out).groups())
    assert chance == pytest.approx(float(np.var(y)), rel=0.3) and mse < 0.2 * chance, out
    _, again, _ = cli("eval", "--checkpoint", tmp_path / "run")
    assert float(re.search(r"test MSE ([0-9.e+-]+)", again).group(1)) == pytest.approx(mse, rel=1e-5)
    for name, arrays, message in [
            ("shape", dict(inputs=x, targets=targets, mask=mask[:, :1]), "must have the shape of targets"),
            ("negative", dict(inputs=x, targets=targets, mask=-mask), "weights >= 0"),
            ("zero", dict(inputs=x, targets=targets, mask=0 * mask), "nothing would count"),
            ("labels", dict(inputs=x, labels=np.zeros(800, np.int64), mask=mask), "classification file has none")]:
        np.savez(tmp_path / f"{name}.npz", **arrays)
        code, _, err = train(cli, tmp_path / f"{name}.npz", tmp_path / name, check=False)
        assert code != 0 and message in err, (name, err)
