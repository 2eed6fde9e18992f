"""The LSTM cell-state Jacobian J_t = dc_t/dc_{t-1} of the network as built, by autodiff
and in closed form, and the multi-step dc_T/dc_t, exact or as the notes' product of J_t.

Perturb c_{t-1} and let everything downstream of it move. It reaches c_t = f_t * c_{t-1} +
i_t * g_t directly, through the peepholes of i_t and f_t when the cell has them, and through
h_{t-1} = o_{t-1} * tanh(c_{t-1}), which feeds the gates f_t, i_t, g_t. With
D = dh_{t-1}/dc_{t-1} = diag(o_{t-1} * tanh'(c_{t-1}) + tanh(c_{t-1}) * do_{t-1}/dc_{t-1}),
the four terms of 000_*.txt ("Let's consider dc_t/dc_{t-1}") are

    J_t = diag(c_{t-1} * sigma'(a_f)) W_hf D          through the forget gate
        + diag(f_t)                                    the direct path
        + diag(g_t * sigma'(a_i)) W_hi D               through the input gate
        + diag(i_t * tanh'(a_g)) W_hc D                through the cell candidate

where a_* are the gates' pre-activations. 000's printed formula has o_{t-1} only in its
first term (W_hf o_{t-1} tanh'(c_{t-1}), then W_hi tanh'(c_{t-1}) and W_hc tanh'(c_{t-1})).
All three terms pass through the same h_{t-1} = o_{t-1} tanh(c_{t-1}), so o_{t-1} belongs
in all three: this module puts it there, and autodiff and finite differences agree.

do_{t-1}/dc_{t-1} is zero for the LSTM and the coupled LSTM, and for the peephole LSTM in
the notes' form (o_t sees c_{t-1}). In Gers & Schmidhuber's form (o_t sees c_t) o_{t-1}
depends on c_{t-1}: do_{t-1}/dc_{t-1} = sigma'(a_o,t-1) w_co. Peephole cells also add the
direct terms diag(c_{t-1} sigma'(a_f) w_cf) + diag(g_t sigma'(a_i) w_ci); the coupled cell
(i_t = 1 - f_t) has a forget-gate term with (c_{t-1} - g_t) and no input-gate term. At the
first step the initial h does not depend on c, so J_0 has no term through h.

Over several steps, 001_*.txt writes dc_t/dc_tau = prod_k dc_k/dc_{k-1}: the product of the
J_k (``method="cell_product"``). It is an approximation: c_{k-1} also reaches c_k through
h_{k-1}'s own past, which the product leaves out. The exact dc_T/dc_t
(``method="exact"``) multiplies the full state Jacobians d(h_k, c_k)/d(h_{k-1}, c_{k-1}).
"""
import numpy as np

import minigrad as mg

from .gradflow import as_sequence, run_steps

METHODS = ("autodiff", "closed_form")
MULTI_STEP_METHODS = ("exact", "cell_product")
MULTI_STEP_LABELS = {"exact": "exact dc_T/dc_t", "cell_product": "prod_k dc_k/dc_(k-1)"}
"""How printouts and figures name each multi-step method."""

NOTE_ON_000 = ("o_(t-1) enters all three terms through h_(t-1) = o_(t-1) tanh(c_(t-1)); "
               "000_*.txt prints it only in the first (forget-gate) term")
"""The one line printouts show next to a cell-state Jacobian."""


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _sigmoid_prime(x):
    s = _sigmoid(x)
    return s * (1 - s)


def _tanh_prime(x):
    return 1 - np.tanh(x) ** 2


def _blocks(weight_hh, hidden_size):
    count = weight_hh.shape[0] // hidden_size
    return [weight_hh[k * hidden_size:(k + 1) * hidden_size] for k in range(count)]


def _diagonal(values):
    jac = np.zeros(values.shape + values.shape[-1:], dtype=np.float64)
    units = np.arange(values.shape[-1])
    jac[:, units, units] = values
    return jac


def _through_hidden(jac, terms, through_hidden):
    """Add sum_k diag(left_k) W_k D for the paths c_{t-1} -> h_{t-1} -> gate -> c_t."""
    if through_hidden is not None:
        for left, weight in terms:
            jac += left[:, :, None] * weight[None] * through_hidden[:, None, :]
    return jac


class LSTMVariant:
    """:class:`models.LSTMCell`: gates i, f, g, o; the four terms of the module docstring.

    A variant knows one LSTM-like class: its gates' pre-activations at a step, its output
    gate and how that gate depends on the new cell state, and J_t in closed form."""

    def preactivations(self, cell, x, h, c):
        """{"input_gate", "forget_gate", "cell_candidate", "output_gate": array (B, H)};
        the output gate's without any peephole."""
        with mg.no_grad():
            parts = cell.gates(cell.input_projection(x), h)
        return dict(zip(("input_gate", "forget_gate", "cell_candidate", "output_gate"),
                        (p.numpy() for p in parts)))

    def output_gate(self, cell, x, h, c, c_new):
        """o_t (B, H) as a tensor; ``c_new`` may be a tensor that requires a gradient, and
        o_t then depends on it where the cell's output gate sees c_t."""
        a = self.preactivations(cell, x, h, c)["output_gate"]
        return mg.Tensor(c_new.xp.asarray(_sigmoid(a)))

    def output_gate_slope(self, cell, x, h, c, c_new):
        """do_t/dc_t (B, H): zero unless the output gate sees c_t."""
        return np.zeros(c_new.shape)

    def through_hidden(self, cell, record):
        """D = dh/dc of the step ``record`` = (x, h, c, c_new) made, as a vector (B, H)."""
        x, h, c, c_new = record
        with mg.no_grad():
            o = self.output_gate(cell, x, h, c, c_new).numpy()
        c_new = c_new.numpy()
        return (o * _tanh_prime(c_new)
                + np.tanh(c_new) * self.output_gate_slope(cell, x, h, c, c_new))

    def closed_form(self, cell, x, h, c, through_hidden):
        """J (B, H, H) at one step; ``through_hidden`` = D (B, H), or None when h_{t-1}
        does not depend on c_{t-1}."""
        a = self.preactivations(cell, x, h, c)
        c = c.numpy()
        w_i, w_f, w_g, _ = _blocks(cell.weight_hh.numpy(), cell.hidden_size)
        jac = _diagonal(_sigmoid(a["forget_gate"]))
        return _through_hidden(jac, [
            (c * _sigmoid_prime(a["forget_gate"]), w_f),
            (np.tanh(a["cell_candidate"]) * _sigmoid_prime(a["input_gate"]), w_i),
            (_sigmoid(a["input_gate"]) * _tanh_prime(a["cell_candidate"]), w_g),
        ], through_hidden)


class PeepholeVariant(LSTMVariant):
    """:class:`models.PeepholeLSTMCell`: i and f also see c_{t-1} through the diagonal
    weights w_ci, w_cf, which adds two diagonal terms to the four; o_t sees c_t
    (``output_peephole="current"``, then o_{t-1} moves with c_{t-1}) or c_{t-1}."""

    def preactivations(self, cell, x, h, c):
        a = super().preactivations(cell, x, h, c)
        c = c.numpy()
        a["input_gate"] = a["input_gate"] + cell.peephole_input.numpy() * c
        a["forget_gate"] = a["forget_gate"] + cell.peephole_forget.numpy() * c
        return a

    def _sees_current(self, cell):
        return cell.output_peephole == "current"

    def output_gate(self, cell, x, h, c, c_new):
        a = mg.Tensor(c_new.xp.asarray(LSTMVariant.preactivations(self, cell, x, h, c)
                                       ["output_gate"]))
        seen = c_new if self._sees_current(cell) else mg.Tensor(c.data)
        return (a + mg.Tensor(cell.peephole_output.data) * seen).sigmoid()

    def output_gate_slope(self, cell, x, h, c, c_new):
        if not self._sees_current(cell):
            return np.zeros(c_new.shape)
        a = LSTMVariant.preactivations(self, cell, x, h, c)["output_gate"]
        weight = cell.peephole_output.numpy()
        return _sigmoid_prime(a + weight * c_new) * weight

    def closed_form(self, cell, x, h, c, through_hidden):
        jac = super().closed_form(cell, x, h, c, through_hidden)
        a = self.preactivations(cell, x, h, c)
        c = c.numpy()
        jac += _diagonal(c * _sigmoid_prime(a["forget_gate"]) * cell.peephole_forget.numpy())
        jac += _diagonal(np.tanh(a["cell_candidate"]) * _sigmoid_prime(a["input_gate"])
                         * cell.peephole_input.numpy())
        return jac


class CoupledVariant(LSTMVariant):
    """:class:`models.CoupledLSTMCell` (i_t = 1 - f_t; gates f, g, o): c_t = f_t c_{t-1} +
    (1 - f_t) g_t, so J_t = diag(f_t) + diag((c_{t-1} - g_t) sigma'(a_f)) W_hf D
    + diag((1 - f_t) tanh'(a_g)) W_hc D."""

    def preactivations(self, cell, x, h, c):
        with mg.no_grad():
            pre = cell.recurrence(cell.input_projection(x), h).numpy()
        f, g, o = np.split(pre, 3, axis=1)
        return {"forget_gate": f, "cell_candidate": g, "output_gate": o}

    def closed_form(self, cell, x, h, c, through_hidden):
        a = self.preactivations(cell, x, h, c)
        c = c.numpy()
        w_f, w_g, _ = _blocks(cell.weight_hh.numpy(), cell.hidden_size)
        forget = _sigmoid(a["forget_gate"])
        return _through_hidden(_diagonal(forget), [
            ((c - np.tanh(a["cell_candidate"])) * _sigmoid_prime(a["forget_gate"]), w_f),
            ((1 - forget) * _tanh_prime(a["cell_candidate"]), w_g),
        ], through_hidden)


VARIANTS = {"PeepholeLSTMCell": PeepholeVariant(), "CoupledLSTMCell": CoupledVariant(),
            "LSTMCell": LSTMVariant()}


def variant_of(cell):
    for klass in type(cell).__mro__:
        if klass.__name__ in VARIANTS:
            return VARIANTS[klass.__name__]
    raise TypeError(f"cell_state_jacobians: no cell-state Jacobian for {type(cell).__name__}; "
                    f"supported: {', '.join(VARIANTS)}")


def _forward_record(cell, xs, state):
    """Per step t: (x_t, h_{t-1}, c_{t-1}, c_t) as tensors, no graph."""
    with mg.no_grad():
        states = run_steps(cell, xs, state)
        if state is None:
            state = cell.initial_state(xs.shape[1], xs.dtype)
        previous = [tuple(state)] + states[:-1]
    return [(xs[t], h, c, states[t][1]) for t, (h, c) in enumerate(previous)]


def _check_method(name, method, methods):
    if method not in methods:
        raise ValueError(f"{name}: method must be one of {methods}, got {method!r}")


def cell_state_jacobians(cell, xs, state=None, method="autodiff"):
    """J_t = dc_t/dc_{t-1} for t = 0..T-1 of an LSTM-like cell unrolled over ``xs``, an
    array (T, B, H, H) (row: unit of c_t, column: unit of c_{t-1}): the derivative of the
    network as built, h_{t-1} (and o_{t-1} where it sees c_{t-1}) moving with c_{t-1}.
    o_{t-1} enters all three terms through h_{t-1}, where 000_*.txt prints it only in the
    first (see the module docstring)."""
    _check_method("cell_state_jacobians", method, METHODS)
    variant = variant_of(cell)
    xs = as_sequence(cell, xs)
    records = _forward_record(cell, xs, state)
    jacobians = []
    for t, (x, h, c, _) in enumerate(records):
        before = records[t - 1] if t else None
        if method == "closed_form":
            through_hidden = None if before is None else variant.through_hidden(cell, before)
            jacobians.append(variant.closed_form(cell, x, h, c, through_hidden))
        else:
            jacobians.append(_autodiff_step(cell, variant, x, h, c, before))
    return np.stack(jacobians)


def _rows(output, leaf):
    """d output / d leaf (B, rows of output, units of leaf): one reverse pass per unit of
    ``output``; batch rows do not interact, so each pass gives that row for every example."""
    batch, size = output.shape
    rows = []
    for unit in range(size):
        seed = np.zeros((batch, size), dtype=output.dtype)
        seed[:, unit] = 1
        g, = mg.grad(output, [leaf], grad_outputs=mg.Tensor(output.xp.asarray(seed)),
                     retain_graph=True)
        rows.append(g.numpy())
    return np.stack(rows, axis=1)


def _autodiff_step(cell, variant, x, h, c, before):
    """dc_t/dc_{t-1} through the cell's own step, with h_{t-1} rebuilt from a c_{t-1} leaf
    as o_{t-1}(c_{t-1}) * tanh(c_{t-1}) from the step ``before`` that made it."""
    c_leaf = mg.Tensor(c.data.copy(), requires_grad=True)
    if before is not None:
        x_before, h_before, c_before, _ = before
        rebuilt = variant.output_gate(cell, x_before, h_before, c_before, c_leaf) * \
            c_leaf.tanh()
        if not np.allclose(rebuilt.numpy(), h.numpy(), rtol=1e-5, atol=1e-6):
            raise AssertionError(f"{type(cell).__name__}: o_{{t-1}} * tanh(c_{{t-1}}) does not "
                                 f"reproduce h_{{t-1}}; the variant's output gate is wrong")
        h = rebuilt
    _, c_new = cell(x, (h, c_leaf))
    return _rows(c_new, c_leaf)


def state_jacobians(cell, xs, state=None):
    """S_t = d(h_t, c_t)/d(h_{t-1}, c_{t-1}) for t = 0..T-1, with h_{t-1} and c_{t-1} the
    step's two independent inputs: an array (T, B, 2H, 2H), rows and columns ordered
    (h units, c units). By autodiff through the cell's step."""
    variant_of(cell)
    xs = as_sequence(cell, xs)
    jacobians = []
    for x, h, c, _ in _forward_record(cell, xs, state):
        leaf = mg.Tensor(mg.concat([h, c], axis=1).data.copy(), requires_grad=True)
        h_leaf, c_leaf = mg.split(leaf, 2, axis=1)
        h_new, c_new = cell(x, (h_leaf, c_leaf))
        jacobians.append(_rows(mg.concat([h_new, c_new], axis=1), leaf))
    return np.stack(jacobians)


def multi_step_cell_jacobians(cell, xs, state=None, method="exact", step_method="autodiff"):
    """dc_T/dc_t for t = 0..T-1 (T the last step; the entry at T is the identity), an
    array (T, B, H, H) (row: unit of c_T, column: unit of c_t).

    ``"exact"``: perturb c_t and let everything downstream move. With E_t = [D_t; I] (how
    (h_t, c_t) move with c_t, D_t = dh_t/dc_t) and P = [0 I] (keep the c rows),
    dc_T/dc_t = P S_T S_{T-1} ... S_{t+1} E_t, the S_k from :func:`state_jacobians`.
    ``"cell_product"``: the notes' product J_T J_{T-1} ... J_{t+1} of the one-step
    :func:`cell_state_jacobians` (by ``step_method``), which drops the paths where c_k
    reaches c_{k+1} through h_k's own past (001_*.txt, "The RNN gradient is a recursive
    product of dc_t/dc_{t-1}")."""
    _check_method("multi_step_cell_jacobians", method, MULTI_STEP_METHODS)
    xs = as_sequence(cell, xs)
    if method == "cell_product":
        factors = cell_state_jacobians(cell, xs, state, step_method).astype(np.float64)
        size = factors.shape[-1]
    else:
        variant = variant_of(cell)
        factors = state_jacobians(cell, xs, state).astype(np.float64)
        size = factors.shape[-1] // 2
        records = _forward_record(cell, xs, state)
    steps, batch = factors.shape[:2]
    if method == "cell_product":
        product = np.broadcast_to(np.eye(size), (batch, size, size)).copy()
    else:
        product = np.zeros((batch, size, 2 * size))
        product[:, :, size:] = np.eye(size)
    out = np.zeros((steps, batch, size, size))
    for t in range(steps - 1, -1, -1):
        if method == "cell_product":
            out[t] = product
        else:
            through = variant.through_hidden(cell, records[t])
            out[t] = product[:, :, :size] * through[:, None, :] + product[:, :, size:]
        product = product @ factors[t]
    return out


def cell_state_gradient_norms(cell, xs, state=None, method="exact", step_method="autodiff"):
    """||dc_T/dc_t||_2 (largest singular value, averaged over the batch) for t = 0..T-1,
    an array (T,): how much of a gradient at c_T survives back to c_t, exact or as the
    notes' product of one-step Jacobians (``method``; name it with
    ``MULTI_STEP_LABELS[method]`` wherever it is printed)."""
    jacobians = multi_step_cell_jacobians(cell, xs, state, method, step_method)
    return np.linalg.norm(jacobians, ord=2, axis=(-2, -1)).mean(axis=1)
