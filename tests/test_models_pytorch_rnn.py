"""``models.RNN``, ``models.LSTM`` and ``models.GRU`` against ``torch.nn``'s documented
equations, transcribed in NumPy (float64), with state dicts built the way PyTorch lays
them out; gradients against finite differences. torch itself is not needed."""
import numpy as np
import pytest
from test_models_reference import gru_step, rnn_step, sigmoid

import minigrad as mg
import models
from minigrad.testing import gradcheck

GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def torch_state_dict(kind, input_size, hidden, layers, bidirectional, rng, bias=True):
    """The keys, shapes and order of ``torch.nn.<kind>(...).state_dict()``."""
    state, rows = {}, GATES[kind] * hidden
    for layer in range(layers):
        size = input_size if layer == 0 else hidden * (2 if bidirectional else 1)
        for suffix in ("", "_reverse")[:2 if bidirectional else 1]:
            state[f"weight_ih_l{layer}{suffix}"] = rng.uniform(-0.8, 0.8, (rows, size))
            state[f"weight_hh_l{layer}{suffix}"] = rng.uniform(-0.8, 0.8, (rows, hidden))
            if bias:
                state[f"bias_ih_l{layer}{suffix}"] = rng.uniform(-0.5, 0.5, rows)
                state[f"bias_hh_l{layer}{suffix}"] = rng.uniform(-0.5, 0.5, rows)
    return state


def lstm_cell(p, x, h, c):
    """torch.nn.LSTM's documentation, term by term:
    i = sigma(W_ii x + b_ii + W_hi h + b_hi), f = sigma(...), g = tanh(...), o = sigma(...),
    c' = f * c + i * g, h' = o * tanh(c'); W_i* stacked as [W_ii; W_if; W_ig; W_io]."""
    W_ii, W_if, W_ig, W_io = np.split(p["weight_ih"], 4)
    W_hi, W_hf, W_hg, W_ho = np.split(p["weight_hh"], 4)
    b_ii, b_if, b_ig, b_io = np.split(p["bias_ih"], 4)
    b_hi, b_hf, b_hg, b_ho = np.split(p["bias_hh"], 4)
    i = sigmoid(x @ W_ii.T + b_ii + h @ W_hi.T + b_hi)
    f = sigmoid(x @ W_if.T + b_if + h @ W_hf.T + b_hf)
    g = np.tanh(x @ W_ig.T + b_ig + h @ W_hg.T + b_hg)
    o = sigmoid(x @ W_io.T + b_io + h @ W_ho.T + b_ho)
    c = f * c + i * g
    return o * np.tanh(c), c


STEPS = {"lstm": lstm_cell, "gru": gru_step, "rnn": rnn_step,
         "rnn_relu": lambda p, x, h: rnn_step(p, x, h, relu=True)}


def reference(kind, state, xs, h0, c0, layers, bidirectional):
    """Multi-layer (bidirectional) network over xs (T, B, D): layer l reads layer l-1's
    outputs, the reverse direction runs from t = T-1 down; returns output, h_n, c_n."""
    step, directions = STEPS[kind], 2 if bidirectional else 1
    h_n, c_n, inputs = [], [], xs
    for layer in range(layers):
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            p = {k: state[k + suffix] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            index = layer * directions + direction
            carry = (h0[index], c0[index]) if kind == "lstm" else (h0[index],)
            hs = [None] * len(xs)
            for t in (range(len(xs) - 1, -1, -1) if direction else range(len(xs))):
                carry = step(p, inputs[t], *carry)
                hs[t] = carry[0]
            outputs.append(np.stack(hs))
            h_n.append(carry[0])
            c_n.append(carry[-1])
        inputs = np.concatenate(outputs, axis=2)
    return inputs, np.stack(h_n), np.stack(c_n)


def t64(array, requires_grad=False):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def make(kind, *args, **kwargs):
    if kind == "rnn_relu":
        return models.RNN(*args, nonlinearity="relu", **kwargs)
    return getattr(models, kind.upper())(*args, **kwargs)


def test_a_torch_lstm_state_dict_loads_unchanged_and_gives_pytorchs_outputs():
    rng = np.random.default_rng(0)
    T, B, D, H = 5, 3, 4, 6
    state = torch_state_dict("lstm", D, H, 2, True, rng)
    lstm = models.LSTM(D, H, num_layers=2, bidirectional=True).double()
    assert list(lstm.state_dict()) == list(state)            # PyTorch's keys, in its order
    assert lstm.load_state_dict(state) == ([], [])           # strict, unchanged
    xs = rng.standard_normal((T, B, D))
    h0, c0 = rng.standard_normal((4, B, H)), rng.standard_normal((4, B, H))
    output, (h_n, c_n) = lstm(t64(xs), (t64(h0), t64(c0)))
    expected = reference("lstm", state, xs, h0, c0, 2, True)
    assert output.shape == (T, B, 2 * H) and h_n.shape == c_n.shape == (4, B, H)
    for got, want in zip((output, h_n, c_n), expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    for key, value in lstm.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    # zeros when no state is given; batch_first swaps the first two axes of input and output
    first = models.LSTM(D, H, num_layers=2, bidirectional=True, batch_first=True).double()
    first.load_state_dict(state)
    out, (h, _) = first(t64(xs.transpose(1, 0, 2)))
    zeros = np.zeros((4, B, H))
    want = reference("lstm", state, xs, zeros, zeros, 2, True)
    np.testing.assert_allclose(out.numpy(), want[0].transpose(1, 0, 2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), want[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["gru", "rnn", "rnn_relu", "lstm"])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (3, False), (2, True)])
def test_every_kind_matches_its_reference(kind, layers, bidirectional):
    rng = np.random.default_rng(layers)
    T, B, D, H = 4, 2, 3, 5
    state = torch_state_dict(kind.split("_")[0], D, H, layers, bidirectional, rng)
    net = make(kind, D, H, layers, bidirectional=bidirectional).double()
    assert net.load_state_dict(state) == ([], [])
    xs = rng.standard_normal((T, B, D))
    n = layers * (2 if bidirectional else 1)
    h0, c0 = rng.standard_normal((n, B, H)), rng.standard_normal((n, B, H))
    hx = (t64(h0), t64(c0)) if kind == "lstm" else t64(h0)
    output, final = net(t64(xs), hx)
    want = reference(kind, state, xs, h0, c0, layers, bidirectional)
    np.testing.assert_allclose(output.numpy(), want[0], rtol=1e-12, atol=1e-12)
    h_n = final[0] if kind == "lstm" else final
    np.testing.assert_allclose(h_n.numpy(), want[1], rtol=1e-12, atol=1e-12)
    unbatched, _ = net(t64(xs[:, 0]), (t64(h0[:, 0]), t64(c0[:, 0])) if kind == "lstm"
                       else t64(h0[:, 0]))                   # (T, D): one sequence
    np.testing.assert_allclose(unbatched.numpy(), want[0][:, 0], rtol=1e-12, atol=1e-12)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    lstm = models.LSTM(2, 2, num_layers=2, bidirectional=True).double()
    xs = t64(rng.standard_normal((3, 2, 2)), True)
    h0 = t64(rng.standard_normal((4, 2, 2)), True)
    c0 = t64(rng.standard_normal((4, 2, 2)), True)

    def run(xs, h0, c0, *_):
        output, (h_n, c_n) = lstm(xs, (h0, c0))
        return output, h_n, c_n

    assert gradcheck(run, [xs, h0, c0, *lstm.parameters()], atol=1e-6, rtol=1e-4)
    gru = models.GRU(2, 3, num_layers=2, batch_first=True).double()
    assert gradcheck(lambda x, *_: gru(x)[0], [xs, *gru.parameters()], atol=1e-6, rtol=1e-4)


def _scopes(root):
    seen, stack, found = set(), [root], set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        found.add(t.scope)
        stack.extend(t.parents)
    return found


def test_each_step_keeps_its_scopes_and_the_graph_renders():
    from tools.render import to_dot

    lstm = models.LSTM(2, 3, num_layers=2, bidirectional=True)
    output, _ = lstm(mg.randn(4, 1, 2))
    scopes = _scopes(output)
    assert "layer=1/forward/t=3/lstm/forget_gate" in scopes
    assert "layer=0/backward/t=0/lstm/cell_state" in scopes
    gru = models.GRU(2, 3, num_layers=2)
    output, _ = gru(mg.randn(3, 1, 2))
    assert "layer=1/t=2/gru/update_gate" in _scopes(output)
    dot = to_dot(output, module=gru).source
    assert "weight_hh_l1" in dot and "t=2" in dot


def test_dropout_between_layers_only_while_training():
    mg.manual_seed(0)
    lstm = models.LSTM(3, 4, num_layers=2, dropout=0.5)
    xs = mg.randn(5, 2, 3)
    lstm.eval()
    quiet, _ = lstm(xs)
    np.testing.assert_array_equal(lstm(xs)[0].numpy(), quiet.numpy())
    lstm.train()
    noisy, _ = lstm(xs)
    assert np.abs(noisy.numpy() - quiet.numpy()).max() > 1e-3
    assert "layer=1/dropout" in _scopes(noisy)
    with pytest.warns(UserWarning, match="dropout=0.5 acts between layers, so with "
                      "num_layers=1 it does nothing") as caught:
        single = models.LSTM(3, 4, num_layers=1, dropout=0.5)   # nothing between layers
    assert caught[0].filename == __file__                    # points at the caller's line
    np.testing.assert_array_equal(single(xs)[0].numpy(), single.eval()(xs)[0].numpy())


def test_parameters_are_the_cells_and_casts_reach_them():
    gru = models.GRU(3, 4, num_layers=2, bias=False)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0",
                                                     "weight_ih_l1", "weight_hh_l1"]
    assert gru.weight_ih_l1 is gru.cells[1].weight_ih and gru.weight_ih_l1.shape == (12, 4)
    gru.double()
    assert all(cell.weight_hh.dtype == np.float64 for cell in gru.cells)
    bound = 1 / np.sqrt(4)                                   # PyTorch's U(-1/sqrt(H), ...)
    assert all(np.abs(p.numpy()).max() <= bound for p in gru.parameters())


def test_bad_arguments_are_named():
    lstm = models.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"h_0 must have shape .* = \(2, 5, 4\), got \(1, 5, 4\)"):
        lstm(mg.zeros(6, 5, 3), (mg.zeros(1, 5, 4), mg.zeros(1, 5, 4)))
    with pytest.raises(ValueError, match=r"hx must be 2 tensor\(s\)"):
        lstm(mg.zeros(6, 5, 3), mg.zeros(2, 5, 4))
    with pytest.raises(ValueError, match=r"LSTM: input has 7 features, input_size is 3"):
        lstm(mg.zeros(6, 5, 7))
    with pytest.raises(TypeError, match="input x_t is float64 but the parameters are float32"):
        lstm(mg.tensor(np.zeros((6, 5, 3))))
    with pytest.raises(ValueError, match="LSTM: input must have shape"):
        lstm(mg.zeros(6))
    with pytest.raises(ValueError, match="nonlinearity"):
        models.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout must be"):
        models.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="num_layers"):
        models.GRU(3, 4, num_layers=0)


def test_unbatched_input_names_its_own_state_shape():
    """torch.nn: unbatched (T, D) input takes 2-D (L * dirs, H) states; the message gives
    the shapes the caller passed, not the ones made internally by adding a batch axis."""
    lstm = models.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: for unbatched \(T, D\) input, h_0 must have "
                       r"shape .* = \(2, 4\), got \(2, 1, 4\)"):
        lstm(mg.zeros(5, 3), (mg.zeros(2, 1, 4), mg.zeros(2, 1, 4)))
    with pytest.raises(ValueError, match=r"c_0 must have shape .* = \(2, 4\), got \(2, 5\)"):
        lstm(mg.zeros(5, 3), (mg.zeros(2, 4), mg.zeros(2, 5)))


def test_arrays_and_torch_only_arguments_are_refused_by_name():
    gru = models.GRU(3, 4)
    with pytest.raises(TypeError, match="GRU: input must be a minigrad Tensor, got ndarray"):
        gru(np.zeros((5, 2, 3), np.float32))
    with pytest.raises(TypeError, match=r"GRU: hx must be a Tensor or a tuple of Tensors "
                                        r"\('h_0',\), got ndarray"):
        gru(mg.zeros(5, 2, 3), np.zeros((1, 2, 4), np.float32))
    for option in ("proj_size", "device", "dtype"):
        with pytest.raises(TypeError, match=f"LSTM: unsupported argument\\(s\\) {option}"):
            models.LSTM(3, 4, **{option: 2})


def test_dropout_of_one_is_accepted_and_runs():
    """The constructor takes dropout in [0, 1] as torch.nn; p = 1 zeroes layer 0's output
    on its way up, so layer 1 sees only zeros (it crashed in F.dropout before)."""
    mg.manual_seed(0)
    lstm = models.LSTM(3, 4, num_layers=2, dropout=1.0)
    dropped, _ = lstm(mg.randn(4, 2, 3))
    zeros_in, _ = unroll_reference_of_layer_1(lstm)
    np.testing.assert_allclose(dropped.numpy(), zeros_in.numpy(), rtol=1e-6, atol=1e-7)


def unroll_reference_of_layer_1(lstm):
    """Layer 1 of ``lstm`` run on all-zero inputs from zero states, by the cell itself."""
    from models.cell import unroll
    return unroll(lstm.cells[1], mg.zeros(4, 2, 4), lstm.cells[1].initial_state(2, np.float32))
