"""torch.nn.Modules over neurocell's C++ layers (fused kernels, hand-written backward).

Each module holds one C++ module (``_cpp``) and mirrors its tree: the C++ parameters and
buffers are registered here as they are (the very tensors the kernels read), under the names
of the C++ modules, which are the names of a run folder's ``model.safetensors``. So
``state_dict()``, ``torch.optim``, ``.double()``, ``load_state_dict()`` and ``torch.no_grad()``
act on what the kernels compute with, and the kernels' autograd nodes join Python's graph.

Shapes follow torch.nn.GRU/LSTM: inputs (T, B, I), or (B, T, I) with ``batch_first=True``;
states (num_layers, B, H).
"""
import json

import torch

from . import _C

__all__ = [
    "RecurrentStack", "BRC", "NBRC", "GRU", "LSTM", "MGU", "BMRU", "CMRU", "ACMRU", "FqBMRU", "MinGRU",
    "LRU", "HybridBMRULRU", "HybridCMRULRU", "HybridACMRULRU", "SequenceModel", "SRC", "LIF", "SRCClassifier",
    "cell_names", "cell_class",
]


def _mirror(py_module, cpp):
    """Registers cpp's own parameters and buffers on py_module, and one _Part per child."""
    for name, tensor in cpp.named_parameters():
        tensor._is_param = True  # isinstance(tensor, torch.nn.Parameter), keeping the C++ tensor itself
        py_module._parameters[name] = tensor
    for name, tensor in cpp.named_buffers():
        py_module._buffers[name] = tensor
    for name, child in cpp.named_children():
        py_module._modules[name] = _Part(child)


class _Mirrored(torch.nn.Module):
    """What every mirrored module shares: conversions (.double(), .to()) change the C++
    tensors in place instead of replacing them, so that the C++ module sees them."""

    def _apply(self, fn):
        buffers = dict(self._buffers)
        super()._apply(fn)  # parameters: param.data = fn(param), in place already
        for name, before in buffers.items():
            after = self._buffers[name]
            if before is not None and after is not before:
                before.data = after
                self._buffers[name] = before
        return self


class _Part(_Mirrored):
    """A sub-module of a C++ module (a layer of a stack, a readout): parameters only; the
    forward pass belongs to the module that owns it."""

    def __init__(self, cpp):
        super().__init__()
        self._cpp = cpp
        _mirror(self, cpp)

    def extra_repr(self):
        return self._cpp.type_name

    def forward(self, *args, **kwargs):
        raise TypeError("this is a part of a neurocell module; call the module that holds it")


class _CppModule(_Mirrored):
    def __init__(self, cpp):
        super().__init__()
        self._cpp = cpp
        _mirror(self, cpp)

    def train(self, mode=True):
        super().train(mode)
        self._cpp.train(mode)
        return self

    def _check_input(self, x, name="input", dims=3):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{type(self).__name__}: {name} must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() != dims:
            raise ValueError(f"{type(self).__name__}: {name} must have {dims} dimensions "
                             f"({self._input_layout()}), got shape {tuple(x.shape)}")
        p = next(iter(self.parameters()), None)
        if p is not None and x.dtype != p.dtype:
            raise ValueError(f"{type(self).__name__}: {name} is {x.dtype} but the parameters are {p.dtype}; "
                             f"convert one of them (module.double() / module.float(), or x.to({p.dtype}))")
        if p is not None and x.device != p.device:
            raise ValueError(f"{type(self).__name__}: {name} is on {x.device} but the parameters are on "
                             f"{p.device}; move one of them (module.to(x.device) or x.to('{p.device}'))")

    def _setup(self, batch_first, dtype):
        self.batch_first = bool(batch_first)
        if dtype is not None:
            self.to(dtype)

    def _time_major(self, x, name="input"):
        """x checked, as (T, B, ...)."""
        self._check_input(x, name)
        return x.transpose(0, 1) if self.batch_first else x

    def _batch_layout(self, y):
        return y.transpose(0, 1) if self.batch_first else y

    def _input_layout(self):
        return "(B, T, I) with batch_first=True" if getattr(self, "batch_first", False) else "(T, B, I)"

    def set_impl(self, impl):
        """'fused' (the CPU kernels, default) or 'reference' (plain LibTorch ops, the ground
        truth: same values and gradients, slower)."""
        self._cpp.set_impl(impl)
        return self


def cell_names(sequence_models_only=True):
    """The registered cells (neurocell's one list), in the order of docs/cells.md."""
    return [c["name"] for c in _C.cell_registry() if c["sequence_model"] or not sequence_models_only]


class RecurrentStack(_CppModule):
    """num_layers layers of one cell; layer l+1 reads the states of layer l.

    forward(x, hx=None) -> (output, h_n) as torch.nn.GRU, or (output, (h_n, c_n)) for the cells
    with a second state (LSTM's memory cell, a scan block's core state): output (T, B, H) is the
    last layer's state at every step, h_n (num_layers, B, H) the final states, c_n
    (num_layers, B, C). hx is h_0 (num_layers, B, H), or (h_0, c_0), or None for zeros.

    double_layer: every layer is two cells of hidden_size/2 side by side (partial warmup).
    Parameter names: layer0.weight_ih, layer0.first.weight_ih (double), ...
    """

    cell = None  # set by the named subclasses

    def __init__(self, cell=None, input_size=1, hidden_size=100, num_layers=1, batch_first=False,
                 double_layer=False, orthogonal_recurrent=False, chrono_max_length=0, impl="fused", dtype=None,
                 weights_init="torch", chrono_variant="textbook"):
        cell = cell or type(self).cell
        if cell is None:
            raise ValueError(f"RecurrentStack needs a cell: one of {', '.join(cell_names())}")
        super().__init__(_C._Stack(cell, int(input_size), int(hidden_size), int(num_layers), bool(double_layer),
                                   bool(orthogonal_recurrent), int(chrono_max_length), weights_init, chrono_variant))
        self.cell_name = cell
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.double_layer = bool(double_layer)
        self.second_state_size = self._cpp.layers[0].second_state_size
        if impl != "fused":
            self.set_impl(impl)
        self._setup(batch_first, dtype)

    @property
    def has_second_state(self):
        return self.second_state_size > 0

    def _split_state(self, hx):
        if hx is None:
            return None, None
        if isinstance(hx, (tuple, list)):
            if len(hx) != 2:
                raise ValueError(f"{type(self).__name__}: hx must be h_0 or (h_0, c_0), got {len(hx)} tensors")
            if not self.has_second_state:
                raise ValueError(f"{type(self).__name__}: the {self.cell_name} cell has no second state; pass h_0 only")
            return hx[0], hx[1]
        if self.has_second_state and self.cell_name == "lstm":
            raise ValueError("LSTM: hx must be (h_0, c_0), as for torch.nn.LSTM")
        return hx, None

    def forward(self, x, hx=None):
        x = self._time_major(x)
        h0, c0 = self._split_state(hx)
        for name, t in (("h_0", h0), ("c_0", c0)):
            if t is not None:
                self._check_input(t, name)
        output, h_n, c_n = self._cpp.forward(x, h0, c0)
        return self._batch_layout(output), ((h_n, c_n) if c_n is not None else h_n)

    def layer_outputs(self, x):
        """Every layer's states: a list of (h (T, B, H), c (T, B, C) or None), time-major."""
        return self._cpp.layer_outputs(self._time_major(x))

    def extra_repr(self):
        return (f"{self.cell_name}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
                + (", double_layer=True" if self.double_layer else "")
                + (", batch_first=True" if self.batch_first else ""))


def _named(cell_name, class_name, doc):
    def __init__(self, input_size, hidden_size, num_layers=1, **kwargs):
        RecurrentStack.__init__(self, cell_name, input_size, hidden_size, num_layers, **kwargs)
    return type(class_name, (RecurrentStack,), {"cell": cell_name, "__init__": __init__,
                                                "__doc__": doc + "\n\n" + RecurrentStack.__doc__})


BRC = _named("brc", "BRC", "Bistable recurrent cell (cellular feedback w_a, w_c), docs/cells.md section 1.")
NBRC = _named("nbrc", "NBRC", "Neuromodulated BRC (recurrent W_a, W_c), docs/cells.md section 1.")
GRU = _named("gru", "GRU", "GRU with torch.nn.GRU's layout, values and initialisation.")
LSTM = _named("lstm", "LSTM", "LSTM with torch.nn.LSTM's layout, values and initialisation.")
MGU = _named("mgu", "MGU", "Minimal gated unit.")
BMRU = _named("bmru", "BMRU", "Bistable memory recurrent unit block (parallel scan), docs/cells.md section 4.")
CMRU = _named("cmru", "CMRU", "Continuous memory recurrent unit block (parallel scan).")
ACMRU = _named("acmru", "ACMRU", "alpha-CMRU block (parallel scan).")
FqBMRU = _named("fq-bmru", "FqBMRU", "fq-BMRU block (parallel scan).")
MinGRU = _named("mingru", "MinGRU", "minGRU block (parallel scan), docs/cells.md section 3.")
LRU = _named("lru", "LRU", "Linear recurrent unit block (complex diagonal scan), docs/cells.md section 3.")
HybridBMRULRU = _named("hybrid-bmru-lru", "HybridBMRULRU", "A BMRU block and an LRU block side by side.")
HybridCMRULRU = _named("hybrid-cmru-lru", "HybridCMRULRU", "A CMRU block and an LRU block side by side.")
HybridACMRULRU = _named("hybrid-acmru-lru", "HybridACMRULRU", "An aCMRU block and an LRU block side by side.")

_CLASSES = {c.cell: c for c in (BRC, NBRC, GRU, LSTM, MGU, BMRU, CMRU, ACMRU, FqBMRU, MinGRU, LRU,
                                HybridBMRULRU, HybridCMRULRU, HybridACMRULRU)}


def cell_class(name):
    """The module class of a registered cell name ('brc', 'gru', ..., 'src', 'lif')."""
    if name == "src":
        return SRC
    if name == "lif":
        return LIF
    if name not in _CLASSES:
        raise ValueError(f"unknown cell '{name}' (valid: {', '.join(cell_names(False))})")
    return _CLASSES[name]


class SequenceModel(_CppModule):
    """A recurrent stack and a linear readout of its last readout_steps states, the model of
    every regression, sequence-classification and T-maze run folder (names as in its
    model.safetensors: stack.layer0.weight_ih, ..., readout.weight, readout.bias).

    forward(x, readout_steps=1): x (T, B, I) -> (K, B, O), or (B, K, O) with batch_first.
    """

    def __init__(self, cell="nbrc", input_size=1, hidden_size=100, num_layers=2, output_size=1,
                 double_layer=False, orthogonal_recurrent=False, chrono_max_length=0, impl="fused",
                 batch_first=False, dtype=None, _cpp=None, weights_init="torch", chrono_variant="textbook"):
        if _cpp is None:
            config = {"cell": cell, "input_size": int(input_size), "hidden_size": int(hidden_size),
                      "layers": int(num_layers), "output_size": int(output_size), "double_layer": bool(double_layer),
                      "orthogonal_recurrent": bool(orthogonal_recurrent),
                      "chrono_max_length": int(chrono_max_length), "impl": impl,
                      "weights_init": weights_init, "chrono_variant": chrono_variant}
            _cpp = _C._SequenceModel(json.dumps(config))
        super().__init__(_cpp)
        self._setup(batch_first, dtype)

    @property
    def config(self):
        """The model's config, as in a run folder's config.json "model"."""
        return json.loads(self._cpp.config_json())

    def forward(self, x, readout_steps=1):
        return self._batch_layout(self._cpp.forward(self._time_major(x), int(readout_steps)))

    def all_states(self, x):
        """Every layer's states, concatenated: (T, B, S), as `neurocell run` writes them."""
        return self._cpp.all_states(self._time_major(x))

    def extra_repr(self):
        c = self.config
        return (f"{c['cell']} {c['layers']}x{c['hidden_size']}, input {c['input_size']}, output {c['output_size']}"
                + (", double layers" if c.get("double_layer") else ""))


# train_bias=False keeps every bias at bias_init (the SRC authors' exported model: -6, untrained).
_SRC_DEFAULTS = dict(alpha=0.9, rho=3.0, r=2.0, r_s=-7.0, z_hyp=0.9, z_dep=0.0, bias_init=-6.0, bias_max=-4.0,
                     detach_recurrence=False, train_bias=True, arithmetic="float", weight_bits=8)


def _options_of(defaults, given, who):
    """A spiking cell's constants: defaults overridden by given; unknown names refused."""
    unknown = set(given) - set(defaults)
    if unknown:
        raise TypeError(f"{who}: unknown option(s) {', '.join(sorted(unknown))} (valid: {', '.join(defaults)})")
    return dict(defaults, **given)


def _src_options(cell, who):
    """The SRC constants (docs/cells.md section 2), defaults overridden by cell."""
    return _options_of(_SRC_DEFAULTS, cell, who)


class SRC(_CppModule):
    """One layer of spiking recurrent cells (docs/cells.md section 2), fused kernels with a
    surrogate (straight-through) backward.

    forward(x, state=None) -> (spikes, (i_T, h_T, hs_T)): x (T, B, I) input spikes, spikes
    (T, B, H); state (i_0, h_0, hs_0), each (B, H), or None for the layer's learned initial
    states. sequences(x) gives every state. After each optimiser step call clamp_bias()
    (b <= bias_max), as neurocell's own training does.
    """

    def __init__(self, input_size, hidden_size, batch_first=False, dtype=None, **cell):
        options = _src_options(cell, "SRC")
        super().__init__(_C._SrcLayer(int(input_size), int(hidden_size), **options))
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.options = options
        self._setup(batch_first, dtype)

    def sequences(self, x, state=None):
        """(spikes, i, h, h_s), each (T, B, H) (batch first with batch_first)."""
        x = self._time_major(x)
        if state is not None:
            if len(state) != 3:
                raise ValueError("SRC: state must be (i_0, h_0, hs_0)")
            for t in state:
                self._check_input(t, "initial state", dims=2)
            out = self._cpp.forward(x, *state)
        else:
            out = self._cpp.forward(x)
        return tuple(self._batch_layout(t) for t in out)

    def forward(self, x, state=None):
        spikes, i, h, h_s = self.sequences(x, state)
        last = (lambda t: t[:, -1]) if self.batch_first else (lambda t: t[-1])
        return spikes, (last(i), last(h), last(h_s))

    def clamp_bias(self):
        self._cpp.clamp_bias()

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


# The LIF baseline's constants (docs/cells.md section 2, "LIF baseline"): fixed leak beta,
# threshold theta and the slope k of the fast-sigmoid surrogate 1 / (1 + k |u - theta|)^2.
_LIF_DEFAULTS = dict(beta=0.9, threshold=1.0, slope=25.0)


def _lif_options(options, who):
    return _options_of(_LIF_DEFAULTS, options, who)


class LIF(_CppModule):
    """One layer of leaky integrate-and-fire neurons (docs/cells.md section 2, "LIF baseline":
    snnTorch's Leaky with reset by subtraction), fused kernels with the fast-sigmoid surrogate
    backward. Learned: weight (H, I), bias (H), initial_u (H).

    forward(x, u0=None) -> (spikes, u_T): x (T, B, I) input spikes, spikes (T, B, H) of 0/1;
    u0 (B, H), or None for the layer's learned initial membrane. sequences(x) gives (spikes, u),
    each (T, B, H).
    """

    def __init__(self, input_size, hidden_size, batch_first=False, dtype=None, **options):
        options = _lif_options(options, "LIF")
        super().__init__(_C._LifLayer(int(input_size), int(hidden_size), **options))
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.options = options
        self._setup(batch_first, dtype)

    def sequences(self, x, u0=None):
        """(spikes, u), each (T, B, H) (batch first with batch_first)."""
        x = self._time_major(x)
        if u0 is not None:
            self._check_input(u0, "initial membrane", dims=2)
            out = self._cpp.forward(x, u0)
        else:
            out = self._cpp.forward(x)
        return tuple(self._batch_layout(t) for t in out)

    def forward(self, x, u0=None):
        spikes, u = self.sequences(x, u0)
        return spikes, (u[:, -1] if self.batch_first else u[-1])

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, beta={self.options['beta']}"


class SRCClassifier(_CppModule):
    """The deep spiking network of the SRC paper: num_layers layers of cell ("src", or "lif"
    for the LIF baseline; the last of classes * readout_factor neurons) and a frozen readout
    summing each class's spikes. forward(spikes (T, B, I)) -> logits (B, classes). Call
    clamp_biases() after each optimiser step (SRC's b <= bias_max). The model of every spiking
    run folder (names as in its model.safetensors). The cell's constants are keywords: SRC's
    alpha, rho, ..., train_bias; LIF's beta, threshold, slope.
    """

    def __init__(self, input_size=784, hidden_size=100, num_layers=1, classes=10, readout_factor=10,
                 logit_scale=0.0, impl="fused", batch_first=False, dtype=None, cell="src", _cpp=None, **options):
        if _cpp is None:
            if cell not in ("src", "lif"):
                raise ValueError(f"SRCClassifier: cell must be 'src' or 'lif', got {cell!r}")
            config = (_src_options if cell == "src" else _lif_options)(options, "SRCClassifier")
            config.update({"cell": cell, "input_size": int(input_size), "hidden_size": int(hidden_size),
                           "layers": int(num_layers), "classes": int(classes),
                           "readout_factor": int(readout_factor), "logit_scale": float(logit_scale), "impl": impl})
            _cpp = _C._SrcClassifier(json.dumps(config))
        super().__init__(_cpp)
        self._setup(batch_first, dtype)

    @property
    def config(self):
        """The model's config, as in a spiking run folder's config.json "model"."""
        return json.loads(self._cpp.config_json())

    def forward(self, spikes):
        return self._cpp.forward(self._time_major(spikes, "spikes"))

    def all_layers(self, spikes):
        """Per layer (spikes, i, h, h_s), each (T, B, H_l), time-major (SRC only)."""
        return self._cpp.all_layers(self._time_major(spikes, "spikes"))

    def layer_states(self, spikes):
        """Per layer its states, each (T, B, H_l), time-major: SRC (spikes, i, h, h_s), LIF (spikes, u)."""
        return self._cpp.layer_states(self._time_major(spikes, "spikes"))

    def clamp_biases(self):
        self._cpp.clamp_biases()

    def extra_repr(self):
        c = self.config
        return f"{c['input_size']} -> {c['layers']} {c['cell'].upper()} layers -> {c['classes']} classes"


class ModulatedLinear(_CppModule):
    """The neuromodulated affine layer of the NMD paper (docs/tasks.md, "Meta-reinforcement
    learning"): y = f((x W^T) * (1 + z W_s^T) + b + z W_b^T), f = clip(., -1, 1) when saturate
    (hidden layers) or the identity (heads). forward(x (..., I), z (..., Z)) -> (..., O).
    Parameters: weight (O, I), weight_scale (O, Z), weight_shift (O, Z), bias (O)."""

    def __init__(self, input_size, output_size, modulation_size, saturate=True, dtype=None):
        super().__init__(_C._ModulatedLinear(int(input_size), int(output_size), int(modulation_size), bool(saturate)))
        self._setup(False, dtype)

    def forward(self, x, z):
        for t, name in ((x, "x"), (z, "z")):
            self._check_input(t, name, dims=t.dim() if isinstance(t, torch.Tensor) else 1)
        if x.shape[:-1] != z.shape[:-1]:
            raise ValueError(f"ModulatedLinear: x {tuple(x.shape)} and z {tuple(z.shape)} must share their leading "
                             "dimensions")
        return self._cpp.forward(x, z)


class NMD(_CppModule):
    """The NMD network of the PLoS ONE 2020 paper (Vecoven et al.), or with
    architecture="recurrent" its plain recurrent baseline of the same sizes: a neuromodulatory
    recurrent network (cell, one layer per recurrent_sizes entry) reads [observation,
    feedback] -> dense ReLU layers (modulator_sizes; the last gives z) -> a main network fed the
    observation alone, each layer modulated by z (main_sizes, saturated) -> a modulated head.
    forward(observation (T, B, O), feedback (T, B, F)) -> (T, B, output_size) from zero
    states; modulation(...) -> z (T, B, Z). The authors' benchmark-1 sizes are the defaults."""

    def __init__(self, observation_size, feedback_size, output_size, architecture="nmd", cell="gru",
                 recurrent_sizes=(50,), modulator_sizes=(20,), main_sizes=(10,), dtype=None):
        super().__init__(_C._NmdNetwork(int(observation_size), int(feedback_size), int(output_size), architecture,
                                        cell, [int(v) for v in recurrent_sizes], [int(v) for v in modulator_sizes],
                                        [int(v) for v in main_sizes]))
        self._setup(False, dtype)

    @property
    def config(self):
        return json.loads(self._cpp.config_json())

    def _inputs(self, observation, feedback):
        self._check_input(observation, "observation")
        self._check_input(feedback, "feedback")
        if observation.shape[:2] != feedback.shape[:2]:
            raise ValueError(f"NMD: observation {tuple(observation.shape)} and feedback {tuple(feedback.shape)} must "
                             "share (T, B)")
        return observation, feedback

    def forward(self, observation, feedback):
        return self._cpp.forward(*self._inputs(observation, feedback))

    def modulation(self, observation, feedback):
        return self._cpp.modulation(*self._inputs(observation, feedback))
