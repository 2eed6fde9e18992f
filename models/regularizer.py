"""The Pascanu et al. (2013) regularizer, computed from the ordinary unroll's own states.

001_*.txt ("Fixing vanishing gradients: regularization on the recurrent weights, force the
error signal not to vanish"; Pascanu, Mikolov & Bengio 2013, eq. 9):

    Omega = sum_k ( ||dL/dx_{k+1} dx_{k+1}/dx_k|| / ||dL/dx_{k+1}|| - 1 )^2

asks every step to pass the error signal back with its norm unchanged. x_k is the state
of the recurrence x_k = W sigma(x_{k-1}) + U u_k + b (001's "alternative formulation"
c_t = W tanh(c_{t-1}) + U x_t + b): for the Elman RNN the pre-activation, not h_k =
sigma(x_k) (:meth:`models.RNNCell.penalty_states`). A cell whose state has several tensors
gets one such sum per tensor: the LSTM's hidden path (h) and its cell path (c). Other cells
use their state as it is.

dx_{k+1}/dx_k is the derivative along the unrolled graph between consecutive states of one
unroll (for the LSTM's c, h_k moves with c_k, as in :mod:`tools.jacobian`). As in the
paper, only dL/dx_{k+1} is held constant; the gradient of Omega flows through everything
else, dx_{k+1}/dx_k and the states themselves. (The paper's eq. 10 goes further and also
holds x_k constant, keeping only the "immediate" derivative with respect to W_rec.)

Nothing is recomputed: inside :func:`recording_unrolls`, :func:`models.unroll` records the
states it makes, and each term is one vector-Jacobian product over one step of that same
graph (``mg.grad(..., create_graph=True)``; ``mg.grad`` visits only that step). Norms are
per example; each term is averaged over the examples whose dL/dx_{k+1} is not zero. The
ratio is taken as ||u dx_{k+1}/dx_k|| with u = dL/dx_{k+1} / ||dL/dx_{k+1}|| (the same
number, since the product is linear in dL/dx_{k+1}), so an error signal that has vanished
to 1e-20 gives its true ratio instead of one swamped by rounding.
"""
import contextlib


import minigrad as mg

_recorders = []


@contextlib.contextmanager
def recording_unrolls():
    """Collect, for every :func:`models.unroll` run inside, ``(cell, [state_1, ...,
    state_T])`` in the order the steps ran (a list, filled as the unrolls run)."""
    unrolls = []
    _recorders.append(unrolls)
    try:
        yield unrolls
    finally:
        _recorders.remove(unrolls)


def start_unroll(cell):
    """Called by :func:`models.unroll`: a list to append each new state to, or None when
    nothing is recording."""
    if not _recorders:
        return None
    states = []
    for unrolls in _recorders:
        unrolls.append((cell, states))
    return states


def _chains(unrolls):
    """Per unroll, per state tensor: the sequence x_1..x_T of tensors to regularise."""
    chains = []
    for cell, states in unrolls:
        sequence = [tuple(cell.penalty_states(state)) for state in states]
        if len(sequence) < 2:
            continue
        for j in range(len(sequence[0])):
            chain = [step[j] for step in sequence]
            if all(x.requires_grad for x in chain):
                chains.append(chain)
    return chains


def error_signals(loss, unrolls):
    """dL/dx_{k+1} for every term, as constants: per regularised chain x_1..x_T (in the
    order :func:`pascanu_penalty` visits them), the list of T - 1 tensors dL/dx_2..dL/dx_T."""
    chains = _chains(unrolls)
    states = [x for chain in chains for x in chain[1:]]
    if not states:
        raise ValueError("pascanu_penalty: the loss was computed without a recorded unroll "
                         "of two or more steps (models.unroll inside recording_unrolls()); "
                         "there is no recurrence to regularise")
    grads = iter(mg.grad(loss, states, retain_graph=True, allow_unused=True))
    return [[mg.Tensor(next(grads).data) for _ in chain[1:]] for chain in chains]


def pascanu_penalty(unrolls, signals, eps=1e-30):
    """Omega (a scalar tensor) over the recorded ``unrolls``, with the constant error
    signals from :func:`error_signals` (of these unrolls, or of an identical run)."""
    chains = _chains(unrolls)
    if [len(chain) - 1 for chain in chains] != [len(s) for s in signals]:
        raise ValueError(f"pascanu_penalty: {len(signals)} lists of error signals do not fit "
                         f"the {len(chains)} recorded chains of states")
    total = None
    for chain, chain_signals in zip(chains, signals):
        for x, x_next, g in zip(chain[:-1], chain[1:], chain_signals):
            xp = x_next.xp
            signal = xp.asarray(g.data).astype(xp.float64)
            upstream = xp.sqrt((signal ** 2).sum(axis=1))
            alive = upstream > 0
            if not alive.any():
                continue
            direction = signal / xp.where(alive, upstream, 1.0)[:, None]
            with mg.scope("pascanu_penalty"):
                back, = mg.grad(x_next, [x], create_graph=True, allow_unused=True,
                                grad_outputs=mg.Tensor(direction.astype(x_next.dtype)))
                ratio = ((back * back).sum(axis=1) + eps).sqrt()
                weights = mg.Tensor((alive / alive.sum()).astype(back.dtype))
                term = (((ratio - 1) ** 2) * weights).sum()
            total = term if total is None else total + term
    if total is None:
        raise ValueError("pascanu_penalty: every error signal dL/dx_k is zero; nothing to "
                         "regularise")
    return total


def penalty_of(loss, unrolls):
    """Omega for ``loss`` and the unrolls recorded while computing it."""
    return pascanu_penalty(unrolls, error_signals(loss, unrolls))
