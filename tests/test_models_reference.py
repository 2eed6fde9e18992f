"""Direct NumPy (float64) transcriptions of the cells' equations, written from the lecture
notes and PyTorch's documented formulas, independently of ``models``. Shared by the
tests/test_models_*.py files."""
import numpy as np

import minigrad as mg


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lin(x, w, b=None):
    return x @ w.T + (0 if b is None else b)


def rnn_step(p, x, h, relu=False):
    pre = lin(x, p["weight_ih"], p["bias_ih"]) + lin(h, p["weight_hh"], p["bias_hh"])
    return (np.maximum(pre, 0) if relu else np.tanh(pre),)


def lstm_step(p, x, h, c):
    """torch.nn.LSTMCell: gates i, f, g, o stacked in W_ih, W_hh."""
    pre = lin(x, p["weight_ih"], p["bias_ih"]) + lin(h, p["weight_hh"], p["bias_hh"])
    i, f, g, o = np.split(pre, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def gru_step(p, x, h):
    """torch.nn.GRUCell: r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    xr, xz, xn = np.split(lin(x, p["weight_ih"], p["bias_ih"]), 3, axis=1)
    hr, hz, hn = np.split(lin(h, p["weight_hh"], p["bias_hh"]), 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return ((1 - z) * n + z * h,)


def peephole_step(p, x, h, c):
    pre = lin(x, p["weight_ih"], p["bias_ih"]) + lin(h, p["weight_hh"], p["bias_hh"])
    i, f, g, o = np.split(pre, 4, axis=1)
    i = sigmoid(i + p["peephole_input"] * c)
    f = sigmoid(f + p["peephole_forget"] * c)
    c = f * c + i * np.tanh(g)
    o = sigmoid(o + p["peephole_output"] * c)
    return o * np.tanh(c), c


def coupled_step(p, x, h, c):
    pre = lin(x, p["weight_ih"], p["bias_ih"]) + lin(h, p["weight_hh"], p["bias_hh"])
    f, g, o = np.split(pre, 3, axis=1)
    f = sigmoid(f)
    c = f * c + (1 - f) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def leaky_step(p, x, h, tau):
    pre = lin(x, p["weight_ih"], p["bias_ih"]) + lin(h, p["weight_hh"], p["bias_hh"])
    return ((1 - 1 / tau) * h + (1 / tau) * np.tanh(pre),)


def jordan_step(p, x, y):
    hidden = np.tanh(lin(x, p["weight_ih"], p["bias_ih"]) + lin(y, p["weight_yh"], p["bias_hh"]))
    return (np.tanh(lin(hidden, p["weight_hy"], p["bias_hy"])),)


def deep_transition_step(p, x, h, depth, shortcut):
    z = np.tanh(lin(x, p["weight_ih"], p["bias_ih"]) + lin(h, p["weight_hh"], p["bias_hh"]))
    for layer in range(2, depth + 1):
        pre = lin(z, p[f"transition_weight_{layer}"], p[f"transition_bias_{layer}"])
        if shortcut and layer == depth:
            pre = pre + lin(h, p["weight_shortcut"])
        z = np.tanh(pre)
    return (z,)


def run(step, xs, state, reverse=False):
    """Loop a NumPy step over time; returns hs (T, B, H) (first state tensor) and the state."""
    hs = [None] * len(xs)
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    for t in order:
        state = step(xs[t], *state)
        hs[t] = state[0]
    return np.stack(hs), state


def to_float64(module):
    """Make every parameter of ``module`` float64 (finite differences need it)."""
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


def params(module):
    return {k: v.astype(np.float64) for k, v in module.state_dict().items()}


def t64(array, requires_grad=False):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad,
                     dtype="float64")


def test_reference_transcriptions_agree_where_the_equations_coincide():
    """Sanity of the references themselves: tau = 1 leaky units are the Elman RNN, and a
    peephole LSTM with zero peepholes is the LSTM."""
    rng = np.random.default_rng(0)
    p = {"weight_ih": rng.normal(size=(4, 3)), "weight_hh": rng.normal(size=(4, 4)),
         "bias_ih": rng.normal(size=4), "bias_hh": rng.normal(size=4)}
    x, h = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    np.testing.assert_allclose(leaky_step(p, x, h, np.ones(4))[0], rnn_step(p, x, h)[0])
    assert not np.allclose(leaky_step(p, x, h, np.full(4, 2.0))[0], rnn_step(p, x, h)[0])
    q = {"weight_ih": rng.normal(size=(8, 3)), "weight_hh": rng.normal(size=(8, 2)),
         "bias_ih": rng.normal(size=8), "bias_hh": rng.normal(size=8),
         "peephole_input": np.zeros(2), "peephole_forget": np.zeros(2),
         "peephole_output": np.zeros(2)}
    h, c = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    np.testing.assert_allclose(peephole_step(q, x, h, c), lstm_step(q, x, h, c))
