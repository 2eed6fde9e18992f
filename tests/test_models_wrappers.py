"""Bidirectional, Stacked, TimeDelayCell and TCN: their equations, gradients, the structure
of their Jacobians, and their scopes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_models_reference import gru_step, lin, lstm_step, params, run, t64, to_float64

import minigrad as mg
import models
from minigrad.testing import gradcheck, jacobian


def scopes_of(*outputs):
    seen, found, stack = set(), set(), list(outputs)
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            found.add(node.scope)
            stack.extend(node.parents)
    return found


def block_dependence(J, T, out_features, in_features):
    """|d out_t / d x_s| summed over batch and features: a (T, T) matrix."""
    B = J.shape[0] // (T * out_features)
    return np.abs(J.reshape(T, B, out_features, T, B, in_features)).sum(axis=(1, 2, 4, 5))


# -- Bidirectional -----------------------------------------------------------------------------
def test_bidirectional_is_forward_and_reversed_runs_side_by_side(rng):
    bi = to_float64(models.Bidirectional(models.LSTMCell(3, 4), models.GRUCell(3, 2)))
    xs = rng.normal(size=(5, 2, 3))
    hs, (forward_state, backward_state) = bi(t64(xs))
    pf, pb = params(bi.forward_cell), params(bi.backward_cell)
    hf, sf = run(lambda x, h, c: lstm_step(pf, x, h, c), xs, (np.zeros((2, 4)),) * 2)
    hb, sb = run(lambda x, h: gru_step(pb, x, h), xs, (np.zeros((2, 2)),), reverse=True)
    np.testing.assert_allclose(hs.numpy(), np.concatenate([hf, hb], axis=2), rtol=1e-10)
    np.testing.assert_allclose(backward_state[0].numpy(), sb[0], rtol=1e-10)
    np.testing.assert_allclose(sb[0], hb[0])
    np.testing.assert_allclose(forward_state[1].numpy(), sf[1], rtol=1e-10)
    assert hs.shape == (5, 2, bi.output_size) == (5, 2, 6)


def test_bidirectional_output_depends_on_every_step(rng):
    bi = to_float64(models.Bidirectional(models.RNNCell(2, 3), models.RNNCell(2, 3)))
    T = 4
    xs = t64(rng.normal(size=(T, 1, 2)), requires_grad=True)
    J, = jacobian(lambda xs: bi(xs)[0], [xs])
    full = block_dependence(J, T, 6, 2)
    assert np.all(full > 0)
    forward_half = np.abs(J.reshape(T, 6, T, 2)[:, :3]).sum(axis=(1, 3))
    backward_half = np.abs(J.reshape(T, 6, T, 2)[:, 3:]).sum(axis=(1, 3))
    assert np.all(np.triu(forward_half, 1) == 0) and np.all(np.tril(backward_half, -1) == 0)


@settings(max_examples=3)
@given(T=st.integers(1, 3), B=st.integers(1, 2), D=st.integers(1, 2), H=st.integers(1, 2))
def test_bidirectional_gradcheck(T, B, D, H):
    bi = to_float64(models.Bidirectional(models.GRUCell(D, H), models.RNNCell(D, H)))
    rng = np.random.default_rng(T * 7 + B)
    xs = t64(rng.normal(size=(T, B, D)), requires_grad=True)
    gradcheck(lambda xs, *_: bi(xs)[0], [xs, *bi.parameters()], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("T, B", [(3, 1), (5, 2)])
def test_bidirectional_gradcheck_over_several_steps(T, B):
    """Both directions carry a state over several steps (the hypothesis run above may draw
    only T = 1 or 2): an LSTM forward, a GRU backward, every output and final state against
    finite differences in float64."""
    bi = to_float64(models.Bidirectional(models.LSTMCell(2, 2), models.GRUCell(2, 2)))
    xs = t64(np.random.default_rng(T).normal(size=(T, B, 2)), requires_grad=True)

    def fn(xs, *_):
        hs, ((h, c), (g,)) = bi(xs)
        return hs, h, c, g
    gradcheck(fn, [xs, *bi.parameters()], atol=1e-6, rtol=1e-4)


def test_bidirectional_scopes_and_bad_input(rng):
    bi = models.Bidirectional(models.LSTMCell(2, 3), models.LSTMCell(2, 3))
    hs, _ = bi(mg.tensor(rng.normal(size=(3, 1, 2)), requires_grad=True, dtype="float32"))
    found = scopes_of(hs)
    assert {"forward/t=0/lstm/forget_gate", "backward/t=2/lstm/forget_gate", "concat"} <= found
    with pytest.raises(ValueError, match="Bidirectional.*input_size 2.*3"):
        models.Bidirectional(models.LSTMCell(2, 3), models.LSTMCell(3, 3))
    with pytest.raises(ValueError, match=r"LSTMCell.*\(T, batch, 2\)"):
        bi(mg.zeros(3, 1, 5))


# -- Stacked -------------------------------------------------------------------------------------
def test_stacked_equals_composing_layers_by_hand(rng):
    layers = [models.LSTMCell(3, 4), models.GRUCell(4, 2), models.RNNCell(2, 5)]
    stacked = models.Stacked(layers)
    xs = mg.tensor(rng.normal(size=(4, 2, 3)), dtype="float32")
    out, states = stacked(xs)
    h = xs
    for layer, state in zip(layers, states):
        h, final = models.unroll(layer, h)
        for a, b in zip(final, state):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(out.numpy(), h.numpy())
    assert stacked.output_size == 5


def test_stacked_with_skip_feeds_input_to_every_layer_and_every_layer_to_output(rng):
    layers = [models.RNNCell(3, 4), models.GRUCell(3 + 4, 2), models.LSTMCell(3 + 2, 1)]
    stacked = models.Stacked(layers, skip=True)
    xs = mg.tensor(rng.normal(size=(4, 2, 3)), dtype="float32")
    out, _ = stacked(xs)
    h0, _ = models.unroll(layers[0], xs)
    h1, _ = models.unroll(layers[1], mg.concat([xs, h0], axis=2))
    h2, _ = models.unroll(layers[2], mg.concat([xs, h1], axis=2))
    np.testing.assert_allclose(out.numpy(), np.concatenate([h0.numpy(), h1.numpy(), h2.numpy()],
                                                           axis=2), rtol=1e-6)
    assert stacked.output_size == 7


def test_stacked_states_are_used_and_state_dict_round_trips(rng):
    def make():
        return models.Stacked([models.LSTMCell(2, 3), models.LSTMCell(3, 3)])

    a, b = make(), make()
    b.load_state_dict(a.state_dict())
    assert sorted(a.state_dict()) == sorted(f"layer{i}.{n}" for i in range(2)
                                            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    xs = mg.tensor(rng.normal(size=(3, 2, 2)), dtype="float32")
    states = tuple(tuple(mg.tensor(rng.normal(size=(2, 3)), dtype="float32") for _ in range(2)) for _ in range(2))
    np.testing.assert_array_equal(a(xs, states)[0].numpy(), b(xs, states)[0].numpy())
    assert not np.allclose(a(xs, states)[0].numpy(), a(xs)[0].numpy())


@settings(max_examples=3)
@given(T=st.integers(1, 3), B=st.integers(1, 2), skip=st.booleans())
def test_stacked_gradcheck(T, B, skip):
    D, H = 2, 2
    layers = [models.RNNCell(D, H), models.GRUCell(H + (D if skip else 0), H)]
    stacked = to_float64(models.Stacked(layers, skip=skip))
    rng = np.random.default_rng(T + 10 * B)
    xs = t64(rng.normal(size=(T, B, D)), requires_grad=True)
    gradcheck(lambda xs, *_: stacked(xs)[0], [xs, *stacked.parameters()], atol=1e-6, rtol=1e-4)


def test_stacked_scopes_and_bad_sizes(rng):
    stacked = models.Stacked([models.RNNCell(2, 3), models.RNNCell(3, 3)])
    out, _ = stacked(mg.tensor(rng.normal(size=(2, 1, 2)), requires_grad=True, dtype="float32"))
    assert {"layer=0/t=1/rnn/hidden", "layer=1/t=1/rnn/hidden"} <= scopes_of(out)
    with pytest.raises(ValueError, match="layer 1 .RNNCell. has input_size 3, expected 5"):
        models.Stacked([models.RNNCell(2, 3), models.RNNCell(3, 3)], skip=True)
    with pytest.raises(ValueError, match="layer 1 .GRUCell. has input_size 4, expected 3"):
        models.Stacked([models.RNNCell(2, 3), models.GRUCell(4, 3)])
    with pytest.raises(ValueError, match="one entry per layer"):
        stacked(mg.zeros(2, 1, 2), [None])


# -- time delay ----------------------------------------------------------------------------------
@pytest.mark.parametrize("delay", [1, 2, 3])
def test_time_delay_matches_its_equation(delay, rng):
    D, H, T = 2, 3, 6
    cell = to_float64(models.TimeDelayCell(models.RNNCell(D + H, H), delay))
    p = params(cell.cell)
    w_x, w_d = p["weight_ih"][:, :D], p["weight_ih"][:, D:]
    xs = rng.normal(size=(T, 2, D))
    hs_ref, h = [], np.zeros((2, H))
    for t in range(T):
        delayed = hs_ref[t - delay] if t >= delay else np.zeros((2, H))
        h = np.tanh(lin(xs[t], w_x, p["bias_ih"]) + lin(delayed, w_d) + lin(h, p["weight_hh"],
                                                                              p["bias_hh"]))
        hs_ref.append(h)
    hs, state = models.unroll(cell, t64(xs))
    np.testing.assert_allclose(hs.numpy(), np.stack(hs_ref), rtol=1e-10)
    assert len(state) == 1 + delay
    np.testing.assert_allclose(state[-1].numpy(), hs_ref[-1], rtol=1e-10)
    np.testing.assert_allclose(state[1].numpy(), hs_ref[T - delay], rtol=1e-10)


def test_time_delay_shortens_the_path_from_the_past(rng):
    """With W_hh = 0 only the delayed connection carries memory: h_t depends on x_s only
    when t - s is a multiple of D."""
    D, H, T, delay = 1, 2, 7, 3
    cell = to_float64(models.TimeDelayCell(models.RNNCell(D + H, H), delay))
    cell.cell.weight_hh.data[:] = 0
    xs = t64(rng.normal(size=(T, 1, D)), requires_grad=True)
    J, = jacobian(lambda xs: models.unroll(cell, xs)[0], [xs])
    dependence = block_dependence(J, T, H, D)
    for t in range(T):
        for s in range(T):
            assert (dependence[t, s] > 0) == (s <= t and (t - s) % delay == 0), (t, s)


@settings(max_examples=3)
@given(T=st.integers(1, 4), delay=st.integers(1, 3), B=st.integers(1, 2))
def test_time_delay_gradcheck_with_learned_initial_state(T, delay, B):
    inner = models.LSTMCell(2 + 2, 2, learn_initial_state=True)
    cell = to_float64(models.TimeDelayCell(inner, delay))
    for p in (inner.initial_h, inner.initial_c):
        p.data = np.random.default_rng(delay).normal(size=p.shape)
    xs = t64(np.random.default_rng(T).normal(size=(T, B, 2)), requires_grad=True)

    def fn(xs, *_):
        hs, state = models.unroll(cell, xs)
        return (hs, *state)
    gradcheck(fn, [xs, *cell.parameters()], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("T, delay, inner", [(4, 1, "rnn"), (5, 2, "lstm"), (7, 3, "gru")])
def test_time_delay_gradcheck_beyond_the_delay(T, delay, inner):
    """T > delay, so h_{t-D} is a computed state for the last T - D steps, not the initial
    one: gradients through the delayed connection against finite differences."""
    H = 2
    cell = to_float64(models.TimeDelayCell(models.make_cell(inner, 2 + H, H), delay))
    xs = t64(np.random.default_rng(T).normal(size=(T, 2, 2)), requires_grad=True)

    def fn(xs, *_):
        hs, state = models.unroll(cell, xs)
        return (hs, *state)
    gradcheck(fn, [xs, *cell.parameters()], atol=1e-6, rtol=1e-4)


def test_time_delay_bad_input():
    with pytest.raises(ValueError, match="TimeDelayCell.*input_size 3"):
        models.TimeDelayCell(models.RNNCell(3, 3), 2)
    with pytest.raises(ValueError, match="delay"):
        models.TimeDelayCell(models.RNNCell(5, 3), 0)
    cell = models.TimeDelayCell(models.RNNCell(5, 3), 2)
    with pytest.raises(ValueError, match=r"TimeDelayCell.*\(T, batch, 2\)"):
        models.unroll(cell, mg.zeros(3, 1, 5))


# -- TCN -------------------------------------------------------------------------------------
def causal_conv_reference(x, weight, bias, dilation):
    """y[t, b, o] = bias[o] + sum_{i, j} W[o, i, j] x[t - (k-1-j) d, b, i] (torch layout)."""
    T, B, _ = x.shape
    k = weight.shape[2]
    y = np.tile(bias, (T, B, 1)).astype(np.float64)
    for t in range(T):
        for j in range(k):
            s = t - (k - 1 - j) * dilation
            if s >= 0:
                y[t] += x[s] @ weight[:, :, j].T
    return y


def tcn_reference(tcn, x):
    p = params(tcn)
    for index, dilation in enumerate(tcn.dilations):
        z = np.maximum(causal_conv_reference(x, p[f"block{index}.conv1.weight"],
                                             p[f"block{index}.conv1.bias"], dilation), 0)
        z = np.maximum(causal_conv_reference(z, p[f"block{index}.conv2.weight"],
                                             p[f"block{index}.conv2.bias"], dilation), 0)
        if f"block{index}.downsample.weight" in p:
            x = causal_conv_reference(x, p[f"block{index}.downsample.weight"],
                                      p[f"block{index}.downsample.bias"], 1)
        x = np.maximum(z + x, 0)
    return x


@pytest.mark.parametrize("kernel_size, dilations, channels", [
    (2, None, [3, 3, 4]), (3, [1, 3], [2, 5]), (1, [1], [4])])
def test_tcn_matches_direct_convolution(kernel_size, dilations, channels, rng):
    tcn = to_float64(models.TCN(2, channels, kernel_size, dilations))
    x = rng.normal(size=(9, 2, 2))
    out = tcn(t64(x))
    np.testing.assert_allclose(out.numpy(), tcn_reference(tcn, x), rtol=1e-10, atol=1e-12)
    assert out.shape == (9, 2, channels[-1])


@pytest.mark.parametrize("kernel_size, dilations", [(2, [1, 2]), (3, [1, 2]), (2, [1, 1, 4])])
def test_tcn_output_depends_exactly_on_its_receptive_field(kernel_size, dilations, rng):
    tcn = to_float64(models.TCN(1, [2] * len(dilations), kernel_size, dilations))
    for name, p in tcn.named_parameters():      # keep every ReLU open, so no path is cut
        if name.endswith("bias"):
            p.data[:] = 3.0
        else:
            p.data = np.abs(p.data) + 0.1
    R = tcn.receptive_field
    assert R == 1 + 2 * (kernel_size - 1) * sum(dilations)
    T = R + 3
    xs = t64(rng.normal(size=(T, 1, 1)), requires_grad=True)
    J, = jacobian(tcn, [xs])
    dependence = block_dependence(J, T, 2, 1)
    for t in range(T):
        for s in range(T):
            assert (dependence[t, s] > 0) == (t - R < s <= t), (t, s, R)


@settings(max_examples=3)
@given(T=st.integers(1, 4), B=st.integers(1, 2), kernel_size=st.integers(1, 3))
def test_tcn_gradcheck(T, B, kernel_size):
    tcn = to_float64(models.TCN(2, [2, 3], kernel_size, [1, 2]))
    for name, p in tcn.named_parameters():      # away from ReLU kinks
        if name.endswith("bias"):
            p.data[:] = 0.5
    xs = t64(np.random.default_rng(T).normal(size=(T, B, 2)), requires_grad=True)
    gradcheck(tcn, [xs], atol=1e-6, rtol=1e-4)
    gradcheck(lambda w, b: tcn(xs), [tcn.block1.conv1.weight, tcn.block1.downsample.bias],
              atol=1e-6, rtol=1e-4)


def test_tcn_scopes_layout_and_bad_input(rng):
    tcn = models.TCN(2, [3, 3], kernel_size=2)
    out = tcn(mg.tensor(rng.normal(size=(4, 1, 2)), requires_grad=True, dtype="float32"))
    assert {"block=0 dilation=1/conv1/matmul", "block=1 dilation=2/conv2/taps",
            "block=1 dilation=2/residual"} <= scopes_of(out)
    assert tcn.block0.conv1.weight.shape == (3, 2, 2)       # (C_out, C_in, k) as torch.nn.Conv1d
    with pytest.raises(ValueError, match=r"TCN.*\(T >= 1, batch, 2\).*\(4, 1, 3\)"):
        tcn(mg.zeros(4, 1, 3))
    with pytest.raises(ValueError, match="TCN"):
        tcn(mg.zeros(0, 1, 2))
    with pytest.raises(ValueError, match="one dilation per block"):
        models.TCN(2, [3, 3], 2, [1])
