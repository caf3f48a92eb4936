"""The examples run as documented (shortened) and print their result line."""
import os
import subprocess
import sys

import pytest

from conftest import REPO, run_cli

EXAMPLES = REPO / "examples"


def run_example(name, *args):
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert "result:" in done.stdout, done.stdout
    return done.stdout


def test_brc_on_your_arrays():
    out = run_example("brc_on_your_arrays.py", "--steps", 100)
    mse = float(out.split("test MSE ")[1].split()[0])
    chance = float(out.split("chance ")[1].rstrip(")\n"))
    assert mse < chance  # 100 steps already learn part of it


def test_warmup_gru():
    run_example("warmup_gru.py", "--steps", 3, "--settle", 50)


def test_src_spiking_mnist():
    if not (REPO / "data" / "mnist").exists():
        pytest.skip("MNIST is installed by scripts/install.sh")
    run_example("src_spiking_mnist.py", "--steps", 5, "--images", 500)


def test_continue_a_cli_run(regression_run, tmp_path):
    out = run_example("continue_a_cli_run.py", regression_run, tmp_path / "continued", "--steps", 5)
    _, text, _ = run_cli("eval", "--checkpoint", tmp_path / "continued")
    assert "test MSE" in text
