"""Properties every recurrent cell must have, as plain functions that raise
``AssertionError`` (a :class:`minigrad.testing.GradcheckError` for gradients) when violated.
Call them from pytest, with or without hypothesis:

    from tools.checks import properties
    properties.unroll_gradients_match_finite_differences(cell, xs)   # cell in float64

Cells are unrolled with :func:`models.unroll`, wrappers (Stacked, Bidirectional, TCN) run
with :func:`models.run_sequence`; models must be float64 where gradients are compared with
finite differences (:func:`tools.gradflow.cast`).
"""
import numpy as np

import minigrad as mg
import models
from minigrad.testing import gradcheck
from tools import jacobian as cell_jacobian
from tools.gradflow import parameter_dtype


def _inputs(cell, xs, requires_grad=True):
    data = xs.data if isinstance(xs, mg.Tensor) else np.asarray(xs)
    return mg.Tensor(data.astype(parameter_dtype(cell)), requires_grad=requires_grad)


def _require_float64(cell, what):
    dtype = parameter_dtype(cell)
    if dtype != np.float64:
        raise TypeError(f"{what}: {type(cell).__name__} has {dtype} parameters; finite "
                        f"differences need float64 (tools.gradflow.cast(cell))")


def _projection(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _tensors(state):
    if state is None:
        return []
    if isinstance(state, mg.Tensor):
        return [state]
    return [t for part in state for t in _tensors(part)]


def run(model, xs, state=None):
    """(hs, final state) of a cell unrolled over xs, or of a sequence wrapper (Stacked,
    Bidirectional, TCN) run on it: :func:`models.run_sequence`."""
    return models.run_sequence(model, xs, state)


def unroll_outputs(cell, xs, state=None):
    """hs (T, B, H) and the final state tensors flattened into one (B, sum of sizes)
    tensor (None for a stateless model): everything the model exposes."""
    hs, final = run(cell, xs, state)
    parts = _tensors(final)
    return hs, (mg.concat(parts, axis=1) if parts else None)


def unroll_gradients_match_finite_differences(cell, xs, state=None, seed=0, atol=1e-6,
                                              rtol=1e-5):
    """Autodiff gradients of a random projection of (hs, final state) with respect to the
    inputs and every parameter equal central differences (BPTT is right)."""
    _require_float64(cell, "unroll_gradients_match_finite_differences")
    x = _inputs(cell, xs)
    params = list(cell.parameters())
    hs, final = unroll_outputs(cell, x, state)
    weights_hs = mg.Tensor(_projection(hs.shape, seed))
    weights_final = None if final is None else mg.Tensor(_projection(final.shape, seed + 1))

    def loss(*_):
        outputs, last = unroll_outputs(cell, x, state)
        total = (outputs * weights_hs).sum()
        return total if last is None else total + (last * weights_final).sum()

    gradcheck(loss, [x, *params], eps=1e-6, atol=atol, rtol=rtol)


def cell_state_jacobian_matches_closed_form(cell, xs, state=None, atol=1e-10):
    """dc_t/dc_{t-1} by autodiff equals the closed form of 000_*.txt (LSTM variants): the
    derivative of the network as built, with o_{t-1} in all three terms that pass through
    h_{t-1} (000_*.txt prints it only in the first; see :mod:`tools.jacobian`)."""
    _require_float64(cell, "cell_state_jacobian_matches_closed_form")
    autodiff = cell_jacobian.cell_state_jacobians(cell, xs, state, "autodiff")
    closed = cell_jacobian.cell_state_jacobians(cell, xs, state, "closed_form")
    error = np.abs(autodiff - closed)
    if error.max() > atol:
        t, b, row, column = np.unravel_index(int(error.argmax()), error.shape)
        raise AssertionError(
            f"{type(cell).__name__}: dc_t/dc_(t-1) at t={t}, batch {b}, entry ({row}, "
            f"{column}): autodiff {autodiff[t, b, row, column]!r} vs closed form "
            f"{closed[t, b, row, column]!r} (atol {atol})")


def causal(cell, xs, state=None):
    """h_t depends on x_1..x_t only: changing a later input leaves earlier outputs
    unchanged, and d h_t / d x_s is exactly zero for s > t."""
    x = _inputs(cell, xs)
    steps = x.shape[0]
    hs, _ = run(cell, x, state)
    for t in range(steps - 1):
        g, = mg.grad(hs[t].sum(), [x], retain_graph=True)
        late = np.abs(g.numpy()[t + 1:])
        if late.max() != 0:
            raise AssertionError(f"{type(cell).__name__}: output at t={t} has a nonzero "
                                 f"gradient {late.max():.3e} with respect to a later input")
    if steps > 1:
        changed = x.numpy().copy()
        changed[steps // 2:] += 1.0
        with mg.no_grad():
            before = run(cell, _inputs(cell, x.numpy(), False), state)[0].numpy()
            after = run(cell, _inputs(cell, changed, False), state)[0].numpy()
        if not np.array_equal(before[:steps // 2], after[:steps // 2]):
            raise AssertionError(f"{type(cell).__name__}: changing inputs from t={steps // 2} "
                                 f"on changed an earlier output")


def vjp_dot_product(cell, xs, state=None, seed=0, rtol=1e-8, fd_rtol=1e-5):
    """The dot-product test <v, J u> = <J^T v, u> for the unroll map (xs, params) -> hs,
    with J u by double backward (differentiating the VJP with respect to v), and J u
    against a central difference of the map along u."""
    _require_float64(cell, "vjp_dot_product")
    rng = np.random.default_rng(seed)
    x = _inputs(cell, xs)
    inputs = [x, *cell.parameters()]
    hs, _ = run(cell, x, state)
    v = rng.standard_normal(hs.shape)
    directions = [rng.standard_normal(t.shape) for t in inputs]
    probe = mg.Tensor(v.copy(), requires_grad=True)
    vjps = mg.grad(hs, inputs, grad_outputs=probe, create_graph=True, allow_unused=True)
    pairing = sum((g * mg.Tensor(u)).sum() for g, u in zip(vjps, directions))
    jvp, = mg.grad(pairing, [probe])
    left = float((v * jvp.numpy()).sum())
    right = float(pairing.numpy())
    scale = max(abs(left), abs(right), 1e-12)
    if abs(left - right) > rtol * scale:
        raise AssertionError(f"{type(cell).__name__}: <v, Ju> = {left!r} but <J^T v, u> = "
                             f"{right!r} (rtol {rtol})")
    eps = 1e-6
    shifted = []
    for sign in (1, -1):
        originals = [t.data for t in inputs]
        for t, u in zip(inputs, directions):
            t.data = t.data + sign * eps * u
        try:
            with mg.no_grad():
                shifted.append(run(cell, x, state)[0].numpy())
        finally:
            for t, original in zip(inputs, originals):
                t.data = original
    numeric = (shifted[0] - shifted[1]) / (2 * eps)
    error = np.abs(numeric - jvp.numpy()).max()
    if error > fd_rtol * max(1.0, np.abs(numeric).max()):
        raise AssertionError(f"{type(cell).__name__}: Ju by double backward differs from a "
                             f"central difference by {error:.3e}")


def user_cell_gradients(constructor, max_examples=20, seed=0, kinds_of_check=None):
    """Run the gradient, causality and dot-product properties on a cell class you wrote,
    ``constructor(input_size, hidden_size)``, over hypothesis-drawn sizes and inputs.
    Raises the shrunk failure; returns the :class:`tools.checks.runner.Result` list."""
    from .runner import run_properties
    results = run_properties({"user": constructor}, max_examples, seed, kinds_of_check)
    for result in results:
        if not result.passed:
            raise AssertionError(f"{result.property} failed on {result.example!r}: "
                                 f"{result.error}")
    return results


PROPERTIES = {
    "gradients": unroll_gradients_match_finite_differences,
    "causality": causal,
    "vjp_dot_product": vjp_dot_product,
    "cell_state_jacobian": cell_state_jacobian_matches_closed_form,
}
"""Name -> property, in the order the check table shows them."""


def applies(name, cell):
    """Whether property ``name`` is defined for ``cell``: the Jacobian needs an LSTM-like
    cell, causality a model without a backward-running part (Bidirectional)."""
    if name == "causality":
        return not any(isinstance(m, models.Bidirectional) for _, m in cell.named_modules())
    if name == "cell_state_jacobian":
        try:
            cell_jacobian.variant_of(cell)
        except TypeError:
            return False
    return True
