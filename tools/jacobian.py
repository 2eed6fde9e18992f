"""The LSTM cell-state Jacobian J_t = dc_t/dc_{t-1}, by autodiff and in closed form.

c_{t-1} reaches c_t = f_t * c_{t-1} + i_t * g_t directly and through h_{t-1} = o_{t-1} *
tanh(c_{t-1}), which feeds the gates f_t, i_t, g_t (o_{t-1} is held fixed). The four terms of
000_*.txt ("Let's consider dc_t/dc_{t-1}"), with D = diag(o_{t-1} * tanh'(c_{t-1})):

    J_t = diag(c_{t-1} * sigma'(a_f)) W_hf D          through the forget gate
        + diag(f_t)                                    the direct path
        + diag(g_t * sigma'(a_i)) W_hi D               through the input gate
        + diag(i_t * tanh'(a_g)) W_hc D                through the cell candidate

where a_* are the gates' pre-activations. At t = 0 the initial h does not depend on c, so
J_0 = diag(f_0). Peephole cells (Gers & Schmidhuber 2000) add the direct peephole terms
diag(c_{t-1} * sigma'(a_f) * w_cf) + diag(g_t * sigma'(a_i) * w_ci); the coupled cell
(i_t = 1 - f_t) has c_t = f_t * c_{t-1} + (1 - f_t) * g_t, so its forget-gate term carries
(c_{t-1} - g_t) and there is no input-gate term.
"""
import numpy as np

import minigrad as mg

from .gradflow import as_sequence, run_steps

METHODS = ("autodiff", "closed_form")


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
    gate, and J_t in closed form."""

    def preactivations(self, cell, x, h, c):
        """{"input_gate", "forget_gate", "cell_candidate", "output_gate": array (B, H)}."""
        with mg.no_grad():
            parts = cell.gates(cell.input_projection(x), h)
        return dict(zip(("input_gate", "forget_gate", "cell_candidate", "output_gate"),
                        (p.numpy() for p in parts)))

    def output_gate(self, cell, x, h, c, c_new):
        return _sigmoid(self.preactivations(cell, x, h, c)["output_gate"])

    def closed_form(self, cell, x, h, c, through_hidden):
        """J (B, H, H) at one step; ``through_hidden`` = o_{t-1} * tanh'(c_{t-1}) (B, H),
        or None when h_{t-1} does not depend on c_{t-1}."""
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
    weights w_ci, w_cf (o_t sees c_t), which adds two diagonal terms to the four."""

    def preactivations(self, cell, x, h, c):
        a = super().preactivations(cell, x, h, c)
        c = c.numpy()
        a["input_gate"] = a["input_gate"] + cell.peephole_input.numpy() * c
        a["forget_gate"] = a["forget_gate"] + cell.peephole_forget.numpy() * c
        return a

    def output_gate(self, cell, x, h, c, c_new):
        a = super().preactivations(cell, x, h, c)["output_gate"]
        return _sigmoid(a + cell.peephole_output.numpy() * c_new)

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
    """Per step: (x_t, h_{t-1}, c_{t-1}, o_{t-1} or None) as NumPy/tensors, no graph."""
    with mg.no_grad():
        states = run_steps(cell, xs, state)
        if state is None:
            state = cell.initial_state(xs.shape[1], xs.dtype)
        previous = [tuple(state)] + states[:-1]
    return previous, states


def cell_state_jacobians(cell, xs, state=None, method="autodiff"):
    """J_t = dc_t/dc_{t-1} for t = 0..T-1 of an LSTM-like cell unrolled over ``xs``, an
    array (T, B, H, H) (row: unit of c_t, column: unit of c_{t-1})."""
    if method not in METHODS:
        raise ValueError(f"cell_state_jacobians: method must be one of {METHODS}, "
                         f"got {method!r}")
    variant = variant_of(cell)
    xs = as_sequence(cell, xs)
    previous, states = _forward_record(cell, xs, state)
    jacobians = []
    output_gate = None
    for t in range(xs.shape[0]):
        x = xs[t]
        h, c = previous[t]
        if method == "closed_form":
            through_hidden = (None if output_gate is None
                              else output_gate * _tanh_prime(c.numpy()))
            jacobians.append(variant.closed_form(cell, x, h, c, through_hidden))
        else:
            jacobians.append(_autodiff_step(cell, x, h, c, output_gate))
        output_gate = variant.output_gate(cell, x, h, c, states[t][1].numpy())
    return np.stack(jacobians)


def _autodiff_step(cell, x, h, c, output_gate):
    """dc_t/dc_{t-1} through the cell's own step, with h_{t-1} rebuilt from a c_{t-1} leaf
    as o_{t-1} * tanh(c_{t-1}) (o_{t-1} a constant); one reverse pass per unit of c_t."""
    c_leaf = mg.Tensor(c.data.copy(), requires_grad=True)
    if output_gate is not None:
        rebuilt = mg.Tensor(c.xp.asarray(output_gate)) * c_leaf.tanh()
        if not np.allclose(rebuilt.numpy(), h.numpy(), rtol=1e-5, atol=1e-6):
            raise AssertionError(f"{type(cell).__name__}: o_{{t-1}} * tanh(c_{{t-1}}) does not "
                                 f"reproduce h_{{t-1}}; the variant's output gate is wrong")
        h = rebuilt
    _, c_new = cell(x, (h, c_leaf))
    batch, size = c_new.shape
    rows = []
    for unit in range(size):
        seed = np.zeros((batch, size), dtype=c_new.dtype)
        seed[:, unit] = 1
        g, = mg.grad(c_new, [c_leaf], grad_outputs=mg.Tensor(c_new.xp.asarray(seed)),
                     retain_graph=True)
        rows.append(g.numpy())
    return np.stack(rows, axis=1)


def cell_state_gradient_norms(cell, xs, state=None, method="autodiff"):
    """||dc_T/dc_t||_2 along the cell-state path alone (products of the J_t), averaged over
    the batch: how much of a gradient at c_T survives back to c_t. An array (T,)."""
    jacobians = cell_state_jacobians(cell, xs, state, method).astype(np.float64)
    steps = len(jacobians)
    product = np.broadcast_to(np.eye(jacobians.shape[-1]), jacobians.shape[1:]).copy()
    norms = np.zeros(steps)
    for t in range(steps - 1, -1, -1):
        norms[t] = np.linalg.norm(product, ord=2, axis=(-2, -1)).mean()
        product = product @ jacobians[t]
    return norms
