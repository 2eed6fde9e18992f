"""How gradients flow back through an unrolled recurrent cell.

For a loss L on the hidden states, BPTT sends back (002_*.txt, "Difficulty of Learning
Long-Term Dependencies")

    dL/dh_t = (dh_T/dh_t)^T dL/dh_T,     dh_T/dh_t = prod_{k=t+1..T} dh_k/dh_{k-1},

and for a vanilla RNN each factor is diag(sigma'(.)) W_hh, so the norm shrinks or grows
roughly like rho(W_hh)^(T-t) (000_*.txt, "Vanishing Gradients in RNN"). The functions here
measure those quantities by autodiff through the graph :func:`models.unroll` would build.
"""
import os

import numpy as np

import minigrad as mg
from minigrad.serialization import atomic_write

LOSSES = ("last", "all")


# -- running a cell and keeping every step ---------------------------------------------------
def parameter_dtype(cell):
    first = next(cell.parameters(), None)
    return np.dtype(np.float32) if first is None else first.dtype


def cast(cell, dtype="float64"):
    """Convert every parameter of ``cell`` to ``dtype`` in place (float64 for checks against
    finite differences). Returns the cell."""
    for p in cell.parameters():
        p.data = p.data.astype(dtype)
        p.grad = None
    return cell


def as_sequence(cell, xs):
    """``xs`` (T, B, D) as a tensor of the cell's parameter dtype."""
    if isinstance(xs, mg.Tensor):
        data = xs.data
    else:
        data = np.asarray(xs)
    if data.ndim != 3:
        raise ValueError(f"{type(cell).__name__}: xs must have shape (T, batch, features), "
                         f"got {data.shape}")
    return mg.Tensor(data.astype(parameter_dtype(cell), copy=False))


def run_steps(cell, xs, state=None):
    """Unroll ``cell`` over ``xs`` like :func:`models.unroll`, but return the state after
    every step (a list of T tuples) so that intermediate tensors can be differentiated."""
    xs = as_sequence(cell, xs)
    if state is None:
        state = cell.initial_state(xs.shape[1], xs.dtype)
    state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
    states = []
    for t in range(xs.shape[0]):
        with mg.scope(f"t={t}"):
            state = cell(xs[t], state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        states.append(state)
    return states


def _loss(hidden, loss):
    if callable(loss):
        return loss(hidden)
    if loss == "last":
        return hidden[-1].sum()
    if loss == "all":
        return mg.stack(hidden).sum()
    raise ValueError(f"loss must be one of {LOSSES} or a callable, got {loss!r}")


def hidden_gradients(cell, xs, state=None, loss="last"):
    """dL/dh_t for every step t, an array (T, B, H).

    ``loss="last"``: L = sum(h_T); ``"all"``: L = sum_t sum(h_t); or a callable taking the
    list of hidden tensors [h_1 .. h_T] and returning a scalar tensor.
    """
    states = run_steps(cell, xs, state)
    hidden = [cell.output(s) for s in states]
    total = _loss(hidden, loss)
    grads = mg.grad(total, hidden, allow_unused=True)
    return np.stack([g.numpy() for g in grads])


def hidden_gradient_norms(cell, xs, state=None, loss="last"):
    """||dL/dh_t|| (Frobenius norm over batch and units) for t = 1..T, an array (T,)."""
    grads = hidden_gradients(cell, xs, state, loss)
    return np.sqrt((grads.astype(np.float64) ** 2).reshape(len(grads), -1).sum(axis=1))


def hidden_jacobians(cell, xs, state=None):
    """dh_T/dh_t for every step t, an array (T, B, H, H) (row: unit of h_T, column: unit
    of h_t), by one reverse pass per unit of h_T. Batch rows do not interact, so each pass
    gives that row of every batch element's Jacobian."""
    states = run_steps(cell, xs, state)
    hidden = [cell.output(s) for s in states]
    last = hidden[-1]
    size = last.shape[1]
    rows = []
    for unit in range(size):
        seed = np.zeros(last.shape, dtype=last.dtype)
        seed[:, unit] = 1
        grads = mg.grad(last, hidden, grad_outputs=mg.Tensor(last.xp.asarray(seed)),
                        retain_graph=True, allow_unused=True)
        rows.append(np.stack([g.numpy() for g in grads]))
    return np.stack(rows, axis=2)


def jacobian_product_norms(cell, xs, state=None):
    """||dh_T/dh_t||_2 (largest singular value, averaged over the batch), an array (T,)."""
    jacobians = hidden_jacobians(cell, xs, state).astype(np.float64)
    return np.linalg.norm(jacobians, ord=2, axis=(-2, -1)).mean(axis=1)


# -- the gradient of W, term by term ---------------------------------------------------------
def lag_gradients(cell, xs, state=None, loss="last", parameter=None):
    """The terms of BPTT's sum for a recurrent weight W (001_*.txt, "dL_t/dW = sum_tau ..."):

        dL/dW = sum_{k=1..T} (dL/dh_k)^T  d+h_k/dW

    where d+h_k/dW is the immediate derivative of step k (h_{k-1} held fixed): what W's use
    at step k contributes. With L a loss on h_T (``loss="last"``) term k is the contribution
    of lag T - k. Exact, by autodiff: each step gets its own copy of W (one leaf per step),
    so the gradient with respect to copy k is term k, and the terms sum to dL/dW.

    ``parameter``: the attribute name of W (default: the cell's recurrent weight,
    ``weight_hh`` for the built-in cells, all gates' blocks stacked); ``loss`` as in
    :func:`hidden_gradients`. Returns an array (T, *W.shape), indexed by step k = 1..T.
    """
    name = parameter or next((n for n in RECURRENT_WEIGHT_NAMES
                              if isinstance(getattr(cell, n, None), mg.Tensor)), None)
    weight = getattr(cell, name, None) if name else None
    if not isinstance(weight, mg.Tensor):
        raise ValueError(f"lag_gradients({type(cell).__name__}): no weight named "
                         f"{parameter or ' or '.join(RECURRENT_WEIGHT_NAMES)} on the cell")
    xs = as_sequence(cell, xs)
    if state is None:
        state = cell.initial_state(xs.shape[1], xs.dtype)
    state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
    copies, hidden = [], []
    try:
        for t in range(xs.shape[0]):
            copy = mg.Tensor(weight.data.copy(), requires_grad=True)
            object.__setattr__(cell, name, copy)   # bypasses the parameter registry
            copies.append(copy)
            with mg.scope(f"t={t}"):
                state = cell(xs[t], state)
            state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
            hidden.append(cell.output(state))
    finally:
        object.__setattr__(cell, name, weight)
    grads = mg.grad(_loss(hidden, loss), copies, allow_unused=True)
    return np.stack([g.numpy() for g in grads])


def lag_gradient_norms(cell, xs, state=None, loss="last", parameter=None):
    """||term k|| of :func:`lag_gradients` (Frobenius), indexed by lag T - k = 0..T-1."""
    terms = lag_gradients(cell, xs, state, loss, parameter).astype(np.float64)
    return np.sqrt((terms ** 2).reshape(len(terms), -1).sum(axis=1))[::-1].copy()


# -- recurrent weights ------------------------------------------------------------------------
RECURRENT_WEIGHT_NAMES = ("weight_hh", "weight_yh", "weight_oh", "weight_rec")


def recurrent_parameter(cell):
    """The parameter that multiplies the previous state, found by name."""
    for name in RECURRENT_WEIGHT_NAMES:
        p = getattr(cell, name, None)
        if isinstance(p, mg.Tensor):
            return p
    inner = getattr(cell, "cell", None)
    if inner is not None:
        return recurrent_parameter(inner)
    raise ValueError(f"{type(cell).__name__}: no recurrent weight found (looked for "
                     f"{', '.join(RECURRENT_WEIGHT_NAMES)})")


def _is_jordan(cell):
    return hasattr(cell, "weight_yh") and hasattr(cell, "weight_hy")


def recurrent_blocks(cell):
    """The square recurrent matrices of a cell, one per gate: {name: array (H, H)}.

    Gated cells stack theirs (LSTM: i, f, g, o; GRU: r, z, n) in ``weight_hh`` (kH, H).
    A Jordan cell's state y returns through W_yh then W_hy: its block is W_hy W_yh.
    """
    if _is_jordan(cell):
        return {"recurrent": cell.weight_hy.numpy() @ cell.weight_yh.numpy()}
    weight = recurrent_parameter(cell).numpy()
    rows, columns = weight.shape
    if rows % columns:
        raise ValueError(f"{type(cell).__name__}: recurrent weight of shape {weight.shape} is "
                         f"not a stack of square blocks")
    count = rows // columns
    names = getattr(cell, "gate_names", None)
    if names is None or len(names) != count:
        names = ("recurrent",) if count == 1 else tuple(f"block{k}" for k in range(count))
    return {name: weight[k * columns:(k + 1) * columns] for k, name in enumerate(names)}


def _matrices(weights):
    if isinstance(weights, np.ndarray):
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
            raise ValueError(f"expected a square matrix, got shape {weights.shape}")
        return [weights]
    if isinstance(weights, mg.Tensor):
        return _matrices(weights.numpy())
    return list(recurrent_blocks(weights).values())


def spectral_radius(weights):
    """max |eigenvalue| of a square matrix, or of a cell's recurrent blocks (the largest)."""
    return max(float(np.abs(np.linalg.eigvals(m.astype(np.float64))).max())
               for m in _matrices(weights))


def largest_singular_value(weights):
    """||W||_2 of a square matrix, or the largest over a cell's recurrent blocks."""
    return max(float(np.linalg.norm(m.astype(np.float64), ord=2)) for m in _matrices(weights))


def scale_spectral_radius(cell, radius, gates=None):
    """Scale the cell's recurrent matrix (each block named in ``gates``, all by default) in
    place so that its spectral radius is ``radius``. Returns the cell."""
    if radius < 0:
        raise ValueError(f"scale_spectral_radius: radius must be >= 0, got {radius}")
    param = recurrent_parameter(cell)
    blocks = recurrent_blocks(cell)
    unknown = set(gates or ()) - set(blocks)
    if unknown:
        raise ValueError(f"scale_spectral_radius({type(cell).__name__}): unknown gates "
                         f"{sorted(unknown)}; the cell has {list(blocks)}")
    data = param.numpy().copy()
    if _is_jordan(cell):
        param.data = param.xp.asarray(
            (data * (radius / spectral_radius(blocks["recurrent"]))).astype(param.dtype))
        return cell
    size = data.shape[1]
    for k, (name, block) in enumerate(blocks.items()):
        if gates is not None and name not in gates:
            continue
        current = spectral_radius(block)
        if current == 0:
            raise ValueError(f"scale_spectral_radius({type(cell).__name__}): block {name} is "
                             f"nilpotent (spectral radius 0) and cannot be scaled")
        data[k * size:(k + 1) * size] = block * (radius / current)
    param.data = param.xp.asarray(data.astype(param.dtype))
    return cell


KEEPING_GATES = ("forget_gate", "update_gate")
"""The gate whose opening keeps the state: the LSTM's forget gate f (c_t = f c_{t-1} + ...),
the GRU's update gate z (h_t = z h_{t-1} + (1 - z) h'_t)."""


def set_keeping_gate_bias(cell, bias=1.0):
    """Set the bias of the gate that keeps the state to ``bias`` (in ``bias_ih``; the gate's
    ``bias_hh`` block to 0), in place; returns the cell. LSTMs: b_f = 1 is Jozefowicz,
    Zaremba & Sutskever's (2015) recommendation (Gers et al. 2000 already opened the gate);
    GRU: b_z = 1, the same opening (z ~ 0.73) for its update gate, which keeps h_{t-1}."""
    names = getattr(cell, "gate_names", ())
    gate = next((name for name in KEEPING_GATES if name in names), None)
    if gate is None or getattr(cell, "bias_ih", None) is None:
        raise ValueError(f"set_keeping_gate_bias: {type(cell).__name__} has no "
                         f"{' or '.join(KEEPING_GATES)} with a bias (gates: {names or 'none'})")
    size, block = cell.hidden_size, names.index(gate)
    rows = slice(block * size, (block + 1) * size)
    cell.bias_ih.data[rows] = bias
    cell.bias_hh.data[rows] = 0
    return cell


# -- pictures ---------------------------------------------------------------------------------
def write_figure(figure, path):
    """Save a matplotlib figure as PNG or SVG (by suffix), atomically."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix not in ("png", "svg"):
        raise ValueError(f"figure file {path!r} must end in .png or .svg")
    with atomic_write(path) as f:
        figure.savefig(f, format=suffix, dpi=120, bbox_inches="tight")
    return path


def plot_gradient_flow(curves, path, title="Gradient flow through time",
                       ylabel=r"$\|\partial L/\partial h_t\|$", xlabel="time step t",
                       references=None, marker=None):
    """One log-y line per entry of ``curves`` ({label: values (T,)}) on the same axes,
    dashed ``references`` ({label: values}) for predictions, saved to ``path``. Zeros and
    NaNs are left out; ``marker`` (e.g. ".") also marks every point."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2))
    try:
        for label, values in curves.items():
            values = np.asarray(values, dtype=np.float64)
            steps = np.arange(1, len(values) + 1)
            shown = np.isfinite(values) & (values > 0)
            axes.plot(steps[shown], values[shown], label=label, linewidth=1.6, marker=marker,
                      markersize=3)
        for label, values in (references or {}).items():
            values = np.asarray(values, dtype=np.float64)
            axes.plot(np.arange(1, len(values) + 1), values, "--", color="gray",
                      linewidth=1, label=label)
        axes.set_yscale("log")
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        return write_figure(figure, path)
    finally:
        plt.close(figure)
