"""Every cell: its equations (against NumPy transcriptions), its gradients (against finite
differences), causality, state dicts (including torch-shaped ones) and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_models_reference import (
    coupled_step,
    deep_transition_step,
    gru_step,
    jordan_step,
    leaky_step,
    lstm_step,
    params,
    peephole_step,
    rnn_step,
    run,
    t64,
    to_float64,
)

import minigrad as mg
import models
from minigrad.testing import gradcheck, jacobian

TAUS = (1.0, 2.0, 5.0, 1.5)


def make(name, D, H, **kwargs):
    """(cell, NumPy step(p, x, *state)) for each cell kind."""
    if name == "rnn":
        return models.RNNCell(D, H, **kwargs), rnn_step
    if name == "rnn_relu":
        return models.RNNCell(D, H, nonlinearity="relu", **kwargs), \
            lambda p, x, h: rnn_step(p, x, h, relu=True)
    if name == "lstm":
        return models.LSTMCell(D, H, **kwargs), lstm_step
    if name == "gru":
        return models.GRUCell(D, H, **kwargs), gru_step
    if name == "peephole":
        return models.PeepholeLSTMCell(D, H, **kwargs), peephole_step
    if name == "coupled":
        return models.CoupledLSTMCell(D, H, **kwargs), coupled_step
    if name == "leaky":
        tau = np.array([TAUS[i % len(TAUS)] for i in range(H)])
        return models.LeakyRNNCell(D, H, tau=tau, **kwargs), \
            lambda p, x, h: leaky_step(p, x, h, tau)
    if name == "leaky_learned":
        cell = models.LeakyRNNCell(D, H, tau=3.0, learn_tau=True, **kwargs)
        return cell, lambda p, x, h: leaky_step(
            p, x, h, 1 + np.log1p(np.exp(p["tau_parameter"])))
    if name == "jordan":
        return models.JordanRNNCell(D, H, output_size=H + 1, **kwargs), jordan_step
    if name == "deep_transition":
        return models.DeepTransitionRNNCell(D, H, transition_depth=3, **kwargs), \
            lambda p, x, h: deep_transition_step(p, x, h, 3, False)
    if name == "deep_transition_shortcut":
        return models.DeepTransitionRNNCell(D, H, transition_depth=2, shortcut=True, **kwargs), \
            lambda p, x, h: deep_transition_step(p, x, h, 2, True)
    raise KeyError(name)


CELLS = ["rnn", "rnn_relu", "lstm", "gru", "peephole", "coupled", "leaky", "leaky_learned",
         "jordan", "deep_transition", "deep_transition_shortcut"]


def random_state(cell, B, rng):
    return tuple(rng.normal(size=(B, size)) for size in cell.state_sizes())


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("reverse", [False, True])
def test_unroll_matches_numpy_transcription(name, reverse, rng):
    cell, step = make(name, 3, 4)
    for p in cell.parameters():           # move away from the init so every term matters
        p.data = (p.data + rng.normal(scale=0.3, size=p.shape)).astype(np.float32)
    to_float64(cell)
    xs = rng.normal(size=(5, 2, 3))
    state = random_state(cell, 2, rng)
    hs, final = models.unroll(cell, t64(xs), tuple(t64(s) for s in state), reverse=reverse)
    p = params(cell)
    expected_hs, expected_final = run(lambda x, *s: step(p, x, *s), xs, state, reverse)
    np.testing.assert_allclose(hs.numpy(), expected_hs, rtol=1e-10, atol=1e-12)
    for got, want in zip(final, expected_final):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    assert hs.shape == (5, 2, cell.output_size)


@pytest.mark.parametrize("name", CELLS)
def test_one_call_equals_one_unroll_step(name, rng):
    cell, _ = make(name, 2, 3)
    to_float64(cell)
    x, state = rng.normal(size=(2, 2)), random_state(cell, 2, rng)
    direct = cell(t64(x), tuple(t64(s) for s in state))
    _, unrolled = models.unroll(cell, t64(x[None]), tuple(t64(s) for s in state))
    for a, b in zip(direct, unrolled):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


sizes = st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3))


@pytest.mark.parametrize("name", CELLS)
@settings(max_examples=8)
@given(sizes=sizes, seed=st.integers(0, 2 ** 16))
def test_gradcheck_unroll_inputs_parameters_initial_state(name, sizes, seed):
    T, B, D, H = sizes
    rng = np.random.default_rng(seed)
    mg.manual_seed(seed)
    cell, _ = make(name, D, H)
    to_float64(cell)
    xs = t64(rng.normal(size=(T, B, D)), requires_grad=True)
    state = [t64(s, requires_grad=True) for s in random_state(cell, B, rng)]
    n = len(state)

    def fn(xs, *rest):
        hs, final = models.unroll(cell, xs, tuple(rest[:n]))
        return (hs, *final)

    assert gradcheck(fn, [xs, *state, *cell.parameters()], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "jordan", "leaky_learned"])
def test_learned_initial_state_is_used_and_trained(name, rng):
    cell, _ = make(name, 2, 3, learn_initial_state=True)
    to_float64(cell)
    learned = [getattr(cell, f"initial_{s}") for s in cell.state_names]
    for p in learned:
        p.data = rng.normal(size=p.shape)
    initial = cell.initial_state(4, np.float64)
    for p, s in zip(learned, initial):
        np.testing.assert_array_equal(s.numpy(), np.broadcast_to(p.numpy(), (4, p.shape[0])))
    xs = t64(rng.normal(size=(2, 2, 2)))
    gradcheck(lambda *ps: models.unroll(cell, xs)[0], learned, atol=1e-6, rtol=1e-4)
    hs, _ = models.unroll(cell, xs)
    hs.sum().backward()
    assert all(np.abs(p.grad.numpy()).sum() > 0 for p in learned)
    assert "initial_" + cell.state_names[0] in cell.state_dict()
    plain, _ = make(name, 2, 3)
    assert not any(k.startswith("initial_") for k in plain.state_dict())


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "peephole", "leaky", "jordan",
                                  "deep_transition"])
def test_unroll_is_causal(name, rng):
    """dh_t/dx_s = 0 exactly for s > t, and != 0 for s <= t (same batch element only)."""
    cell, _ = make(name, 2, 3)
    to_float64(cell)
    T, B = 4, 2
    xs = t64(rng.normal(size=(T, B, 2)), requires_grad=True)
    J, = jacobian(lambda xs: models.unroll(cell, xs)[0], [xs])
    J = np.abs(J.reshape(T, B, cell.output_size, T, B, 2)).sum(axis=(2, 5))
    for t in range(T):
        for s in range(T):
            for b in range(B):
                for b2 in range(B):
                    if s > t or b != b2:
                        assert J[t, b, s, b2] == 0, (t, s, b, b2)
                    else:
                        assert J[t, b, s, b2] > 0, (t, s, b, b2)


def test_reverse_unroll_is_anticausal(rng):
    cell = to_float64(models.GRUCell(2, 3))
    xs = t64(rng.normal(size=(4, 1, 2)), requires_grad=True)
    J, = jacobian(lambda xs: models.unroll(cell, xs, reverse=True)[0], [xs])
    J = np.abs(J.reshape(4, 3, 4, 2)).sum(axis=(1, 3))
    assert np.all(np.tril(J, -1) == 0) and np.all(J[np.triu_indices(4)] > 0)


# -- PyTorch compatibility -----------------------------------------------------------------
TORCH_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_loads_a_torch_shaped_state_dict_and_matches_torch_formulas(name, rng):
    """A dict with torch.nn.{RNN,LSTM,GRU}Cell's keys and shapes (built here with NumPy)
    loads unchanged and gives the numbers of torch's documented formulas."""
    D, H, G = 3, 4, TORCH_GATES[name]
    torch_dict = {"weight_ih": rng.normal(size=(G * H, D)), "weight_hh": rng.normal(size=(G * H, H)),
                  "bias_ih": rng.normal(size=G * H), "bias_hh": rng.normal(size=G * H)}
    cell, step = make(name, D, H)
    to_float64(cell)
    cell.load_state_dict(torch_dict)
    assert sorted(cell.state_dict()) == sorted(torch_dict)
    xs, state = rng.normal(size=(3, 2, D)), random_state(cell, 2, rng)
    hs, _ = models.unroll(cell, t64(xs), tuple(t64(s) for s in state))
    expected, _ = run(lambda x, *s: step(torch_dict, x, *s), xs, state)
    np.testing.assert_allclose(hs.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_default_init_is_torch_uniform(name):
    H = 64
    cell, _ = make(name, 5, H)
    bound = 1 / np.sqrt(H)
    for key, value in cell.state_dict().items():
        assert value.shape[0] == TORCH_GATES[name] * H, key
        assert np.abs(value).max() <= bound and np.abs(value).max() > 0.9 * bound, key


@pytest.mark.parametrize("name", CELLS)
def test_state_dict_round_trip(name, rng):
    cell, _ = make(name, 2, 3, learn_initial_state=True)
    other, _ = make(name, 2, 3, learn_initial_state=True)
    saved = {k: v + rng.normal(size=v.shape).astype(v.dtype) for k, v in cell.state_dict().items()}
    other.load_state_dict(saved)
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v, saved[k])
    xs = mg.tensor(rng.normal(size=(3, 2, 2)), dtype="float32")
    cell.load_state_dict(saved)
    np.testing.assert_array_equal(models.unroll(cell, xs)[0].numpy(),
                                  models.unroll(other, xs)[0].numpy())
    wrong = dict(saved)
    key = next(iter(wrong))
    wrong[key] = np.zeros((7, 7))
    with pytest.raises(ValueError, match=key):
        other.load_state_dict(wrong)


# -- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, slot", [(models.LSTMCell, 1), (models.PeepholeLSTMCell, 1),
                                       (models.CoupledLSTMCell, 0)])
def test_forget_bias_sets_the_forget_gate_bias(cls, slot):
    H = 3
    cell = cls(2, H, forget_bias=1.0)
    total = cell.bias_ih.numpy() + cell.bias_hh.numpy()
    np.testing.assert_array_equal(total[slot * H:(slot + 1) * H], np.ones(H))
    assert not np.allclose(total, 1.0)


def test_learned_tau_stays_at_least_one_and_starts_where_asked():
    cell = models.LeakyRNNCell(2, 3, tau=[1.5, 4.0, 40.0], learn_tau=True)
    np.testing.assert_allclose(cell.tau.numpy(), [1.5, 4.0, 40.0], rtol=1e-5)
    cell.tau_parameter.data = np.array([-80.0, 0.0, 80.0], dtype=np.float32)
    tau = cell.tau.numpy()
    assert np.all(np.isfinite(tau)) and np.all(tau >= 1)
    np.testing.assert_allclose(tau, [1.0, 1 + np.log(2), 81.0], rtol=1e-6)
    with pytest.raises(ValueError, match="LeakyRNNCell"):
        models.LeakyRNNCell(2, 3, tau=0.5)
    with pytest.raises(ValueError, match="LeakyRNNCell"):
        models.LeakyRNNCell(2, 3, tau=1.0, learn_tau=True)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        models.LeakyRNNCell(2, 3, tau=[2.0, 2.0])


def test_fixed_tau_is_not_a_parameter():
    cell = models.LeakyRNNCell(2, 3, tau=4.0)
    assert "tau_parameter" not in cell.state_dict()
    np.testing.assert_array_equal(cell.tau.numpy(), [4.0, 4.0, 4.0])


def test_leaky_cell_tau_is_a_buffer_and_reading_it_changes_nothing():
    cell = models.LeakyRNNCell(2, 3, tau=[2.0, 3.0, 4.0])
    before = dict(cell.__dict__)
    np.testing.assert_array_equal(cell.tau.numpy(), [2.0, 3.0, 4.0])
    assert dict(cell.__dict__) == before
    state = cell.state_dict()
    np.testing.assert_array_equal(state["fixed_tau"], [2.0, 3.0, 4.0])
    other = models.LeakyRNNCell(2, 3, tau=9.0)
    assert other.load_state_dict(state) == ([], [])
    np.testing.assert_array_equal(other.tau.numpy(), [2.0, 3.0, 4.0])


def test_each_step_is_scoped_by_time_cell_and_gate():
    cell = models.LSTMCell(2, 3)
    hs, (h, c) = models.unroll(cell, mg.ones(3, 1, 2, requires_grad=True))
    assert c.scope == "t=2/lstm/cell_state" and h.scope == "t=2/lstm/hidden"
    scopes, stack = set(), [hs]
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        scopes.add(node.scope)
        stack.extend(node.parents)
    for gate in ("input_gate", "forget_gate", "cell_candidate", "output_gate"):
        assert {f"t={t}/lstm/{gate}" for t in range(3)} <= scopes


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CELLS)
def test_bad_input_names_cell_time_step_and_shapes(name):
    cell, _ = make(name, 3, 4)
    cls = type(cell).__name__
    good = cell.initial_state(2)
    with pytest.raises(ValueError, match=rf"{cls}.*\(T, batch, 3\).*\(4, 2, 5\)"):
        models.unroll(cell, mg.zeros(4, 2, 5))
    with pytest.raises(ValueError, match=rf"{cls}.*T = 0"):
        models.unroll(cell, mg.zeros(0, 2, 3))
    wrong_batch = tuple(mg.zeros(3, s.shape[1]) for s in good)
    with pytest.raises(ValueError, match=rf"{cls} at 't=0'.*\(2, {good[0].shape[1]}\).*\(3, "):
        models.unroll(cell, mg.zeros(4, 2, 3), wrong_batch)
    wrong_size = tuple(mg.zeros(2, s.shape[1] + 1) for s in good)
    with pytest.raises(ValueError, match=rf"{cls} at 't=3'.*got \(2, "):
        models.unroll(cell, mg.zeros(4, 2, 3), wrong_size, reverse=True)
    with pytest.raises(ValueError, match=rf"{cls}.*\(batch, 3\).*\(2, 7\)"):
        cell(mg.zeros(2, 7), good)
    with pytest.raises(ValueError, match=cls):
        cell(mg.zeros(2, 3), good[:-1] + (good[-1], good[-1]))
