"""Shared fixtures: the command line (the same build as the package) and small run folders it
trains, so that the package is checked against what the CLI writes and reads."""
import os
import pathlib
import subprocess

import pytest
import torch

REPO = pathlib.Path(__file__).resolve().parents[2]


def cli_path():
    path = os.environ.get("NEUROCELL_BINARY", str(REPO / "build" / "neurocell"))
    if not os.path.exists(path):
        pytest.fail(f"the neurocell command line is not built at {path} (run scripts/build.sh, or set NEUROCELL_BINARY)")
    return path


def run_cli(*args, check=True):
    """Runs `neurocell ARGS`; returns (returncode, stdout, stderr)."""
    done = subprocess.run([cli_path(), *map(str, args)], capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"neurocell {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="session")
def cli():
    return run_cli


@pytest.fixture(scope="session")
def regression_run(tmp_path_factory):
    """A 2x8 nBRC trained for a few steps on copy-first-input T=12 by the command line."""
    out = tmp_path_factory.mktemp("runs") / "nbrc"
    run_cli("train", "--task", "copy-first-input", "--cell", "nbrc", "--layers", 2, "--hidden", 8, "--length", 12,
            "--batch", 16, "--steps", 20, "--eval-every", 10, "--val-size", 32, "--test-size", 64, "--seed", 3,
            "--threads", 1, "--out", out)
    return out


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
