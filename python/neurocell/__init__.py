"""neurocell: neuro-inspired recurrent cells (bistable, spiking, memory units) as torch.nn
Modules over the library's fused CPU kernels (hand-written backward), with the run folders,
analysis and data of the command line.

    import torch, neurocell
    model = neurocell.BRC(input_size=1, hidden_size=64, num_layers=2)
    out, h_n = model(torch.randn(100, 32, 1))          # (T, B, H), (num_layers, B, H)

See docs/python.md."""
import contextlib

import torch  # noqa: F401  (loads libtorch before the extension)

from . import _C
from .modules import (ACMRU, BMRU, BRC, CMRU, GRU, LIF, LRU, LSTM, MGU, NBRC, NMD, SRC, FqBMRU, HybridACMRULRU,
                      HybridBMRULRU, HybridCMRULRU, MinGRU, ModulatedLinear, RecurrentStack, SequenceModel,
                      SRCClassifier, cell_class, cell_names)
from .runs import export, load, resume, run_kind, run_predictions, run_states, save, train
from . import analysis, data
from .analysis import vaa, vaa_star, warmup

__version__ = "0.1.0"


def cell_registry():
    """The registered cells: name, family, gate counts, whether the gradient is a surrogate."""
    return list(_C.cell_registry())


@contextlib.contextmanager
def surrogate_relaxation(enabled=True):
    """Within the block (on this thread, like torch.no_grad), the cells trained through a
    surrogate gradient (BMRU, CMRU, aCMRU, fq-BMRU, the hybrids' MRU halves, SRC, LIF) run the
    smooth forward of which their backward is the exact derivative: the straight-through
    relaxation instead of the hard thresholds, SRC's h instead of ReLU(h), LIF's fast sigmoid
    (u - theta) / (1 + k |u - theta|) instead of the spike. Their unchanged fused backward can
    then be checked by torch.autograd.gradcheck. A verification mode, not a training mode
    (docs/cells.md, "Checking a surrogate gradient"); the integer-arithmetic SRC refuses it.

        with neurocell.surrogate_relaxation():
            torch.autograd.gradcheck(lambda x: model(x)[0], (x,))
    """
    previous = _C.set_surrogate_relaxation(enabled)
    try:
        yield
    finally:
        _C.set_surrogate_relaxation(previous)
