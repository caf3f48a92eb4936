"""The modules: every registered cell through torch conventions, gradients (gradcheck for every
cell: the surrogate-gradient cells under neurocell.surrogate_relaxation(), the smooth forward
their backward is the derivative of; their hard forward's gradients against the reference
implementation's autograd), torch.nn.GRU/LSTM equality, and clear errors."""
import threading

import pytest
import torch

import neurocell

SEQUENCE_CELLS = neurocell.cell_names()
REGISTRY = {c["name"]: c for c in neurocell.cell_registry()}
SURROGATE = [c for c in SEQUENCE_CELLS if REGISTRY[c]["surrogate_gradient"]]


def small(cell, dtype=torch.float64, layers=2, double_layer=False, hidden=4, inputs=3):
    hidden = 8 if (cell.startswith("hybrid") or double_layer) else hidden
    return neurocell.cell_class(cell)(inputs, hidden, num_layers=layers, double_layer=double_layer, dtype=dtype)


def initial_state(model, batch, dtype=torch.float64):
    h0 = torch.randn(model.num_layers, batch, model.hidden_size, dtype=dtype) * 0.5
    if not model.has_second_state:
        return h0
    c0 = torch.randn(model.num_layers, batch, model.second_state_size, dtype=dtype) * 0.5
    return (h0, c0)


def state_tensors(hx):
    return list(hx) if isinstance(hx, tuple) else [hx]


def test_every_registered_cell_has_a_module():
    registered = {c["name"] for c in neurocell.cell_registry()}
    assert registered == set(SEQUENCE_CELLS) | {"src", "lif"}
    for name in registered:
        cls = neurocell.cell_class(name)
        assert issubclass(cls, torch.nn.Module)


@pytest.mark.parametrize("cell", SEQUENCE_CELLS)
def test_shapes_dtypes_and_batch_first(cell):
    model = small(cell, torch.float32)
    x = torch.randn(7, 5, 3)
    out, hx = model(x)
    assert out.shape == (7, 5, model.hidden_size) and out.dtype == torch.float32
    h_n = state_tensors(hx)[0]
    assert h_n.shape == (2, 5, model.hidden_size)
    assert torch.equal(h_n[-1], out[-1])
    model_bf = small(cell, torch.float32)
    model_bf.load_state_dict(model.state_dict())
    model_bf.batch_first = True
    out_bf, _ = model_bf(x.transpose(0, 1).contiguous())
    torch.testing.assert_close(out_bf.transpose(0, 1), out)
    model.double()
    out64, _ = model(x.double())
    assert out64.dtype == torch.float64
    torch.testing.assert_close(out64.float(), out, atol=1e-4, rtol=1e-4)


def gradcheck_sequence_model(model, **kwargs):
    """torch.autograd.gradcheck of a stack's outputs and final states against its input, its
    initial states and every parameter, in float64."""
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    hx = initial_state(model, 2)
    states = [t.requires_grad_() for t in state_tensors(hx)]
    params = list(model.parameters())

    def f(x, *rest):
        s = rest[:len(states)]
        out, hx_n = model(x, tuple(s) if len(s) == 2 else s[0])
        return (out, *state_tensors(hx_n))

    return torch.autograd.gradcheck(f, (x, *states, *params), eps=1e-6, atol=1e-5, **kwargs)


@pytest.mark.parametrize("cell", SEQUENCE_CELLS)
def test_gradcheck_inputs_parameters_initial_states(cell):
    # A surrogate-gradient cell runs its surrogate relaxation: the forward of which its fused
    # backward (the kernels it trains with, unchanged) is the exact derivative.
    with neurocell.surrogate_relaxation(REGISTRY[cell]["surrogate_gradient"]):
        assert gradcheck_sequence_model(small(cell))


@pytest.mark.parametrize("cell", ["bmru", "fq-bmru", "hybrid-cmru-lru"])
def test_gradcheck_fails_on_the_hard_forward(cell):
    # What the relaxation is for: the hard thresholds' finite differences are not the surrogate
    # (0 almost everywhere), so gradcheck of the trained forward fails and must.
    torch.manual_seed(0)
    assert not gradcheck_sequence_model(small(cell), raise_exception=False)
    assert neurocell._C.surrogate_relaxation() is False


def test_surrogate_relaxation_is_a_scoped_thread_local_mode():
    model = small("bmru")
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    hard, _ = model(x)
    with neurocell.surrogate_relaxation():
        assert neurocell._C.surrogate_relaxation() is True
        with neurocell.surrogate_relaxation(False):
            torch.testing.assert_close(model(x)[0], hard, atol=0, rtol=0)
        relaxed, _ = model(x)
        reference = small("bmru")
        reference.load_state_dict(model.state_dict())
        reference.set_impl("reference")
        torch.testing.assert_close(reference(x)[0], relaxed, atol=1e-12, rtol=1e-12)
        results = []  # another thread keeps its own mode, as with torch.no_grad
        other = threading.Thread(target=lambda: results.append(neurocell._C.surrogate_relaxation()))
        other.start()
        other.join()
        assert results == [False]
    assert neurocell._C.surrogate_relaxation() is False
    assert not torch.equal(relaxed, hard)
    with pytest.raises(RuntimeError, match="inside"):
        with neurocell.surrogate_relaxation():
            raise RuntimeError("inside")
    assert neurocell._C.surrogate_relaxation() is False


@pytest.mark.parametrize("cell", SURROGATE)
def test_surrogate_gradients_match_the_reference(cell):
    # The trained (hard) forward: its surrogate backward is not its derivative, so the fused
    # kernels' gradients must equal the reference implementation's straight-through autograd.
    fused, reference = small(cell), small(cell)
    reference.load_state_dict(fused.state_dict())
    reference.set_impl("reference")
    x = torch.randn(6, 3, 3, dtype=torch.float64)
    grads = []
    for model in (fused, reference):
        xi = x.clone().requires_grad_()
        out, hx = model(xi)
        (out * torch.linspace(-1, 1, out.shape[-1], dtype=out.dtype)).sum().backward()
        grads.append([xi.grad] + [p.grad for p in model.parameters()])
        grads[-1].append(out.detach())
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize("cell", ["brc", "gru", "lstm"])
def test_double_layers(cell):
    model = small(cell, double_layer=True)
    names = [n for n, _ in model.named_parameters()]
    assert any(n.startswith("layer0.first.") for n in names) and any(n.startswith("layer1.second.") for n in names)
    out, _ = model(torch.randn(5, 2, 3, dtype=torch.float64))
    assert out.shape == (5, 2, 8)


def copy_torch_weights(ours, theirs, layers):
    with torch.no_grad():
        for l in range(layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ours, f"layer{l}").get_parameter(name).copy_(getattr(theirs, f"{name}_l{l}"))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_equals_torch_nn(cell):
    torch_cls = torch.nn.GRU if cell == "gru" else torch.nn.LSTM
    theirs = torch_cls(3, 6, num_layers=2, batch_first=True).double()
    ours = neurocell.cell_class(cell)(3, 6, num_layers=2, batch_first=True, dtype=torch.float64)
    copy_torch_weights(ours, theirs, 2)
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, 6, dtype=torch.float64)
    hx = (h0, torch.randn(2, 4, 6, dtype=torch.float64)) if cell == "lstm" else h0
    out_t, hx_t = theirs(x, hx)
    out_o, hx_o = ours(x, hx)
    torch.testing.assert_close(out_o, out_t, atol=1e-12, rtol=1e-10)
    for a, b in zip(state_tensors(hx_o), state_tensors(hx_t)):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)
    out_t.sum().backward()
    out_o.sum().backward()
    for l in range(2):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            torch.testing.assert_close(getattr(ours, f"layer{l}").get_parameter(name).grad,
                                       getattr(theirs, f"{name}_l{l}").grad, atol=1e-10, rtol=1e-8)


def test_torch_conventions_sequential_optim_no_grad_state_dict():
    class Last(torch.nn.Module):
        def forward(self, pair):
            return pair[0][-1]

    net = torch.nn.Sequential(neurocell.BRC(2, 16, num_layers=2), Last(), torch.nn.Linear(16, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.randn(10, 32, 2)
    y = x[0, :, :1]
    losses = []
    for _ in range(60):
        loss = torch.nn.functional.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        out = net(x)
    assert out.grad_fn is None
    brc = net[0]
    assert all(isinstance(p, torch.nn.Parameter) for p in brc.parameters())
    other = neurocell.BRC(2, 16, num_layers=2)
    other.load_state_dict(brc.state_dict())
    torch.testing.assert_close(other(x)[0], brc(x)[0])
    assert set(brc.state_dict()) == {f"layer{l}.{n}" for l in range(2) for n in ("weight_ih", "bias", "w_a", "w_c")}


def test_double_conversion_reaches_the_kernels():
    model = neurocell.NBRC(3, 5)
    model.double()
    assert all(p.dtype == torch.float64 for p in model.parameters())
    out, _ = model(torch.randn(4, 2, 3, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_clear_errors_on_wrong_inputs():
    model = neurocell.GRU(3, 5)
    with pytest.raises(ValueError, match="3 dimensions"):
        model(torch.randn(4, 3))
    with pytest.raises(ValueError, match="float64 but the parameters are torch.float32"):
        model(torch.randn(4, 2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="input width 4 does not match"):
        model(torch.randn(4, 2, 4))
    with pytest.raises(ValueError, match="initial h"):
        model(torch.randn(4, 2, 3), torch.randn(1, 3, 5))
    with pytest.raises(ValueError, match="device"):
        model(torch.randn(4, 2, 3, device="meta"))
    with pytest.raises(ValueError, match="LSTM: hx must be"):
        neurocell.LSTM(3, 5)(torch.randn(4, 2, 3), torch.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="unknown cell"):
        neurocell.RecurrentStack("nope", 3, 5)
    with pytest.raises(ValueError, match="hidden size must be at least 1"):
        neurocell.BRC(3, 0)


def test_src_layer_and_classifier():
    layer = neurocell.SRC(6, 5, dtype=torch.float64)
    x = (torch.rand(30, 4, 6, dtype=torch.float64) < 0.3).double()
    spikes, (i, h, hs) = layer(x)
    assert spikes.shape == (30, 4, 5) and i.shape == h.shape == hs.shape == (4, 5)
    reference = neurocell.SRC(6, 5, dtype=torch.float64)
    reference.load_state_dict(layer.state_dict())
    reference.set_impl("reference")
    grads = []
    for m in (layer, reference):
        seq = m.sequences(x)
        (seq[2] * 0.3 + seq[0]).sum().backward()
        grads.append([p.grad for p in m.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-7)
    state = (torch.zeros(4, 5, dtype=torch.float64), h, hs)
    spikes2, _ = layer(x, state)
    assert spikes2.shape == (30, 4, 5)

    clf = neurocell.SRCClassifier(input_size=6, hidden_size=8, num_layers=2, classes=3, readout_factor=2)
    logits = clf((torch.rand(25, 7, 6) < 0.3).float())
    assert logits.shape == (7, 3)
    logits.sum().backward()
    assert clf.get_parameter("layer0.weight").grad is not None
    clf.clamp_biases()
    assert "readout" in dict(clf.named_buffers())


def test_lif_fused_gradients_match_the_reference_in_float64():
    """The hard forward's surrogate backward is not its derivative: the fused backward is
    checked against the reference's autograd, in float64 (gradcheck: under the relaxation,
    test_gradcheck_spiking_layers)."""
    for sparse in (True, False):
        torch.manual_seed(4)
        layer = neurocell.LIF(7, 9, dtype=torch.float64, beta=0.8, slope=10.0)
        with torch.no_grad():
            layer.get_parameter("weight").mul_(4)
            layer.get_parameter("initial_u").uniform_(-0.5, 1.5)
        layer._cpp.sparse_input = sparse
        reference = neurocell.LIF(7, 9, dtype=torch.float64, beta=0.8, slope=10.0)
        reference.load_state_dict(layer.state_dict())
        reference.set_impl("reference")
        x = (torch.rand(17, 3, 7, dtype=torch.float64) < 0.4).double()
        probe_s, probe_u = torch.randn(17, 3, 9, dtype=torch.float64), torch.randn(17, 3, 9, dtype=torch.float64)
        results = []
        for m in (layer, reference):
            xi = x.clone().requires_grad_(True)
            spikes, u = m.sequences(xi)
            ((spikes * probe_s).sum() + (u * probe_u).sum()).backward()
            results.append([spikes.detach(), u.detach(), xi.grad] + [p.grad for p in m.parameters()])
        assert 0 < results[0][0].sum() < results[0][0].numel()  # some spikes, some silence
        for a, b in zip(*results):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
    spikes, u_last = layer(x, torch.zeros(3, 9, dtype=torch.float64))
    assert spikes.shape == (17, 3, 9) and u_last.shape == (3, 9)
    with pytest.raises(TypeError, match="unknown option"):
        neurocell.LIF(3, 4, alpha=0.5)
    assert neurocell.cell_class("lif") is neurocell.LIF


@pytest.mark.parametrize("cls", [neurocell.SRC, neurocell.LIF])
def test_gradcheck_spiking_layers(cls):
    """gradcheck of SRC and LIF layers under the surrogate relaxation (SRC's spikes are h, LIF's
    the fast sigmoid of u - theta): inputs, given initial states, and W, b and the learned
    initial states; then of a two-layer classifier's logits."""
    torch.manual_seed(3)
    layer = cls(3, 4, dtype=torch.float64)
    with torch.no_grad():
        layer.get_parameter("weight").mul_(3)
    x = torch.rand(5, 2, 3, dtype=torch.float64, requires_grad=True)
    states = [torch.rand(2, 4, dtype=torch.float64, requires_grad=True) * 0.8
              for _ in range(3 if cls is neurocell.SRC else 1)]
    states = [s.detach().requires_grad_() for s in states]
    params = [layer.get_parameter("weight"), layer.get_parameter("bias")]
    initial = [p for n, p in layer.named_parameters() if n.startswith("initial")]

    def given_states(x, *rest):
        s = rest[:len(states)]
        return layer.sequences(x, tuple(s) if cls is neurocell.SRC else s[0])

    with neurocell.surrogate_relaxation():
        assert torch.autograd.gradcheck(given_states, (x, *states, *params))
        assert torch.autograd.gradcheck(lambda x, *p: layer.sequences(x), (x, *params, *initial))
        clf = neurocell.SRCClassifier(input_size=3, hidden_size=4, num_layers=2, classes=2, readout_factor=2,
                                      cell="src" if cls is neurocell.SRC else "lif").double()
        assert torch.autograd.gradcheck(lambda x, *p: clf(x), (x, *clf.parameters()))
    assert not torch.autograd.gradcheck(lambda x, *p: clf(x), (x, *clf.parameters()), raise_exception=False)


def test_lif_classifier():
    clf = neurocell.SRCClassifier(input_size=6, hidden_size=8, num_layers=2, classes=3, readout_factor=2,
                                  cell="lif", beta=0.7)
    assert clf.config["cell"] == "lif" and clf.config["beta"] == 0.7
    assert [n for n, _ in clf.named_parameters()] == ["layer0.weight", "layer0.bias", "layer0.initial_u",
                                                      "layer1.weight", "layer1.bias", "layer1.initial_u"]
    x = (torch.rand(25, 7, 6) < 0.3).float()
    logits = clf(x)
    assert logits.shape == (7, 3)
    logits.sum().backward()
    assert clf.get_parameter("layer0.weight").grad is not None
    states = clf.layer_states(x)
    assert len(states) == 2 and [t.shape for t in states[1]] == [(25, 7, 6), (25, 7, 6)]
    with pytest.raises(TypeError, match="unknown option"):
        neurocell.SRCClassifier(cell="lif", rho=3.0)
    with pytest.raises(ValueError, match="cell must be"):
        neurocell.SRCClassifier(cell="gru")


def test_src_in_the_fpga_integer_arithmetic():
    """arithmetic="integer": the forward is the FPGA design's (binary spikes, h on the design's
    thousandths), only W is trained (surrogate backward, docs/cells.md section 2), and a trained
    bias is refused."""
    torch.manual_seed(2)
    clf = neurocell.SRCClassifier(input_size=6, hidden_size=8, num_layers=2, classes=3, readout_factor=2,
                                  train_bias=False, arithmetic="integer", weight_bits=5)
    assert clf.config["arithmetic"] == "integer" and clf.config["weight_bits"] == 5
    assert [n for n, p in clf.named_parameters() if p.requires_grad] == ["layer0.weight", "layer1.weight"]
    with torch.no_grad():
        for name in ("layer0.weight", "layer1.weight"):
            clf.get_parameter(name).normal_(0.2, 1.0)
    x = (torch.rand(40, 4, 6) < 0.4).float()
    spikes, i, h, h_s = clf.all_layers(x)[0]
    assert set(spikes.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(h * 1000, (h * 1000).round(), atol=1e-4, rtol=0)
    logits = clf(x)
    logits.sum().backward()
    assert clf.get_parameter("layer0.weight").grad.abs().sum() > 0
    with pytest.raises(ValueError, match="frozen bias"):
        neurocell.SRCClassifier(input_size=6, hidden_size=8, arithmetic="integer")
    with pytest.raises(ValueError, match="spikes"):
        clf(x * 0.5)
    with neurocell.surrogate_relaxation(), pytest.raises(ValueError, match="no surrogate relaxation"):
        clf(x)


def test_frozen_src_bias_and_keras_initialisation():
    """train_bias=False keeps the SRC bias at -6 (the SRC authors' model); weights_init="keras"
    is the authors' GRU/LSTM initialisation (Glorot / orthogonal per gate, zero biases, LSTM
    forget bias 1)."""
    clf = neurocell.SRCClassifier(input_size=6, hidden_size=8, num_layers=1, classes=3, readout_factor=2,
                                  train_bias=False)
    assert clf.config["train_bias"] is False
    bias = clf.get_parameter("layer0.bias")
    assert not bias.requires_grad and torch.equal(bias, torch.full((6,), -6.0))
    optimiser = torch.optim.Adam([p for p in clf.parameters() if p.requires_grad], lr=0.1)
    clf((torch.rand(25, 7, 6) < 0.5).float()).sum().backward()
    optimiser.step()
    assert torch.equal(clf.get_parameter("layer0.bias"), torch.full((6,), -6.0))

    gru = neurocell.GRU(3, 8, weights_init="keras")
    w_hh = gru.get_parameter("layer0.weight_hh")
    for g in range(3):
        block = w_hh[g * 8:(g + 1) * 8]
        torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=1e-5)
    assert torch.count_nonzero(gru.get_parameter("layer0.bias_ih")) == 0
    lstm = neurocell.SequenceModel("lstm", 3, 8, 1, 1, weights_init="keras")
    assert torch.equal(lstm.get_parameter("stack.layer0.bias_ih")[8:16], torch.ones(8))
    with pytest.raises(ValueError, match="weights-init keras is for gru and lstm"):
        neurocell.RecurrentStack("brc", 3, 8, weights_init="keras")


def test_modulated_linear_by_hand_and_nmd_gradcheck():
    """The NMD paper's modulated layer y = clip((x W^T) (1 + z W_s^T) + b + z W_b^T, -1, 1) by hand,
    and torch.autograd.gradcheck of the NMD network and its recurrent baseline in float64
    (observation, feedback and every parameter)."""
    layer = neurocell.ModulatedLinear(2, 1, 1, saturate=False, dtype=torch.float64)
    with torch.no_grad():
        for name, value in (("weight", [[0.5, -1.0]]), ("weight_scale", [[2.0]]), ("weight_shift", [[0.25]]),
                            ("bias", [0.1])):
            layer.get_parameter(name).copy_(torch.tensor(value, dtype=torch.float64))
    x, z = torch.tensor([[1.0, 0.5]], dtype=torch.float64), torch.tensor([[0.3]], dtype=torch.float64)
    # (0.5 - 0.5) * (1 + 0.6) + 0.1 + 0.075 = 0.175
    torch.testing.assert_close(layer(x, z), torch.tensor([[0.175]], dtype=torch.float64))
    saturating = neurocell.ModulatedLinear(2, 1, 1, saturate=True, dtype=torch.float64)
    saturating.load_state_dict(layer.state_dict())
    # x = (10, 0): 5 * 1.6 + 0.175 = 8.175, clipped to 1; x = (0, 10): -10 * 1.6 + 0.175 -> -1
    assert saturating(torch.tensor([[10.0, 0.0]], dtype=torch.float64), z).item() == 1.0
    assert saturating(torch.tensor([[0.0, 10.0]], dtype=torch.float64), z).item() == -1.0
    with pytest.raises(ValueError, match="leading dimensions"):
        layer(x, torch.zeros(2, 1, dtype=torch.float64))
    torch.manual_seed(3)
    for architecture in ("nmd", "recurrent"):
        net = neurocell.NMD(2, 2, 1, architecture=architecture, recurrent_sizes=[3], modulator_sizes=[2],
                            main_sizes=[3], dtype=torch.float64)
        obs = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
        feedback = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
        assert net(obs, feedback).shape == (4, 2, 1)
        assert torch.autograd.gradcheck(lambda o, f: net(o, f), (obs, feedback))
        # every parameter: its gradient's first entry against a central difference
        probe = torch.randn(4, 2, 1, dtype=torch.float64)
        net.zero_grad()
        (net(obs, feedback) * probe).sum().backward()
        for name, p in net.named_parameters():
            with torch.no_grad():
                flat = p.view(-1)
                flat[0] += 1e-6
                up = (net(obs, feedback) * probe).sum().item()
                flat[0] -= 2e-6
                down = (net(obs, feedback) * probe).sum().item()
                flat[0] += 1e-6
            assert abs((up - down) / 2e-6 - p.grad.view(-1)[0].item()) < 1e-6, name
        assert net.config["architecture"] == architecture
    assert net.modulation(obs, feedback).shape == (4, 2, 2)
    with pytest.raises(ValueError, match="share"):
        net(obs, feedback[:3])
    with pytest.raises(ValueError, match="unknown model"):
        neurocell.NMD(2, 2, 1, architecture="transformer")
