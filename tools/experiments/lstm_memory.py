"""(4) The LSTM keeps the gradient over 100+ steps.

Claim (000_*.txt, LSTM discussion): the cell state's Jacobian has the direct term
diag(f_t), so "when repeatedly multiplying four different terms added together, there is
a smaller chance of vanishing"; f_t "can be chosen to be larger or smaller". Measured:
how many decades ||dL/dh_t|| (L = sum h_T) loses over 100 and T-1 steps for a tanh RNN, a
GRU and LSTMs whose forget-gate bias b_f is 0 (PyTorch's init, f ~ 0.5), 1, 3 and 5; and,
for the LSTM, the cell-state path alone, ||dc_T/dc_t|| from the Jacobians of
:mod:`tools.jacobian`, exact and as the notes' product of one-step Jacobians, each
labelled. With f ~ 0.5 the LSTM vanishes like the RNN: it is the open forget
gate that carries the gradient.
"""
import numpy as np

import minigrad as mg
import models
from tools import gradflow, jacobian

from .common import figure_path, gaussian_inputs, print_table

NAME = "lstm_memory"
TITLE = "LSTM keeps the gradient over 100+ steps (when its forget gate is open)"

CELLS = {
    "tanh RNN": lambda d, h: models.RNNCell(d, h),
    "GRU": lambda d, h: models.GRUCell(d, h),
    "LSTM, b_f=0": lambda d, h: models.LSTMCell(d, h),
    "LSTM, b_f=1": lambda d, h: models.LSTMCell(d, h, forget_bias=1.0),
    "LSTM, b_f=3": lambda d, h: models.LSTMCell(d, h, forget_bias=3.0),
    "LSTM, b_f=5": lambda d, h: models.LSTMCell(d, h, forget_bias=5.0),
}


def run(output_dir, quick=False, seed=0, log=print):
    steps, hidden, inputs = (120 if quick else 150), 32, 4
    xs = gaussian_inputs(steps, 4, inputs, 1.0, seed)
    curves, rows, results = {}, [], {}
    for label, make in CELLS.items():
        mg.manual_seed(seed)
        cell = gradflow.cast(make(inputs, hidden))
        norms = gradflow.hidden_gradient_norms(cell, xs)
        curves[label] = norms
        lost_100 = float(np.log10(norms[-101] / norms[-1]))
        lost_all = float(np.log10(norms[0] / norms[-1]))
        results[label] = {"log10_ratio_100_steps": lost_100, "log10_ratio_all": lost_all}
        rows.append((label, lost_100, lost_all))
    log(f"{TITLE} (H={hidden}, T={steps}, inputs std 1)")
    print_table(("cell", "log10 ||dL/dh_(T-100)||/||dL/dh_T||",
                 f"log10 ||dL/dh_1||/||dL/dh_T|| ({steps - 1} steps)"), rows, log)
    mg.manual_seed(seed)
    lstm = gradflow.cast(CELLS["LSTM, b_f=3"](inputs, hidden))
    path = {}
    for method, label in jacobian.MULTI_STEP_LABELS.items():
        path[method] = norms = jacobian.cell_state_gradient_norms(lstm, xs, method=method)
        results[f"cell_state_path_b_f=3_{method}"] = {
            "dc_T/dc_1": float(norms[0]), "dc_T/dc_(T-100)": float(norms[-101])}
        log(f"LSTM b_f=3, cell-state path, {label}: ||dc_T/dc_(T-100)||_2 = "
            f"{norms[-101]:.3g}, ||dc_T/dc_1||_2 = {norms[0]:.3g}")
        curves[f"LSTM, b_f=3: ||dc_T/dc_t||, {label}"] = norms
    log(f"(exact: the full (h, c) state Jacobians multiplied; prod: the notes' product of "
        f"one-step dc_k/dc_(k-1), {jacobian.NOTE_ON_000})")
    figure = gradflow.plot_gradient_flow(curves, figure_path(output_dir, NAME), title=TITLE)
    log(f"figure: {figure}")
    results["figure"] = figure
    return results
