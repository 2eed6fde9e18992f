"""The LSTM language model in plain NumPy, with its backward pass derived by hand.

The same math as ``models.LSTMCell`` + ``nn.Linear`` + ``functional.cross_entropy``
(gate order i, f, g, o, as in ``torch.nn.LSTM``), written the way a careful NumPy
programmer would: the input projection of all steps in one matmul, one matmul per step for
the recurrence, and the weight gradients accumulated with one matmul over all steps.

Forward, per step t (000_*.txt, equations (1)-(6)):
    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (B, 4H): i, f, g, o blocks
    i, f, o = sigma(a_i, a_f, a_o);  g = tanh(a_g)
    c_t = f * c_{t-1} + i * g;       h_t = o * tanh(c_t)
    loss = mean_t,b  -log softmax(W_y h_t + b_y)[target_t,b]

Backward, from the top (dc_{T} and dh_{T} from later steps start at 0):
    dlogits = (softmax - onehot(target)) / (T B)
    dh_t = W_y^T dlogits_t + W_hh^T da_{t+1}
    do = dh_t * tanh(c_t);   dc_t = dh_t * o * (1 - tanh(c_t)^2) + dc_{t+1} * f_{t+1}
    di = dc_t * g;  df = dc_t * c_{t-1};  dg = dc_t * i
    da_t = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]
    dW_hh = sum_t da_t^T h_{t-1};  dW_ih = sum_t da_t^T x_t;  db_ih = db_hh = sum_t da_t
"""
import numpy as np

PARAMETER_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "head_weight", "head_bias")


def _sigmoid(x):
    return (np.tanh(x * 0.5) + 1) * 0.5


def loss_and_grads(params, xs, targets):
    """Mean cross-entropy of the model over ``xs`` (T, B, D) with integer ``targets``
    (T, B), and the gradient of every parameter (a dict keyed like ``params``)."""
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    w_y, b_y = params["head_weight"], params["head_bias"]
    steps, batch, features = xs.shape
    hidden = w_hh.shape[1]
    dtype = w_hh.dtype
    rows = steps * batch

    projected = (xs.reshape(rows, features) @ w_ih.T).reshape(steps, batch, 4 * hidden)
    projected += params["bias_ih"] + params["bias_hh"]
    gates = np.empty((steps, batch, 4 * hidden), dtype)       # activations i, f, g, o
    cells = np.zeros((steps + 1, batch, hidden), dtype)       # cells[t + 1] = c_t
    hiddens = np.zeros((steps + 1, batch, hidden), dtype)     # hiddens[t + 1] = h_t
    tanh_cells = np.empty((steps, batch, hidden), dtype)
    for t in range(steps):
        pre = projected[t] + hiddens[t] @ w_hh.T
        act = gates[t]
        act[:, :2 * hidden] = _sigmoid(pre[:, :2 * hidden])
        act[:, 2 * hidden:3 * hidden] = np.tanh(pre[:, 2 * hidden:3 * hidden])
        act[:, 3 * hidden:] = _sigmoid(pre[:, 3 * hidden:])
        i, f, g = act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:3 * hidden]
        cells[t + 1] = f * cells[t] + i * g
        tanh_cells[t] = np.tanh(cells[t + 1])
        hiddens[t + 1] = act[:, 3 * hidden:] * tanh_cells[t]

    outputs = hiddens[1:].reshape(rows, hidden)
    logits = outputs @ w_y.T + b_y
    logits -= logits.max(axis=1, keepdims=True)
    exps = np.exp(logits)
    sums = exps.sum(axis=1, keepdims=True)
    flat_targets = targets.reshape(rows)
    picked = np.arange(rows), flat_targets
    loss = float(np.mean(np.log(sums[:, 0]) - logits[picked]))

    dlogits = exps / sums
    dlogits[picked] -= 1
    dlogits /= rows
    grads = {"head_weight": dlogits.T @ outputs, "head_bias": dlogits.sum(axis=0)}
    doutputs = (dlogits @ w_y).reshape(steps, batch, hidden)

    dpre = np.empty((steps, batch, 4 * hidden), dtype)
    dh_next = np.zeros((batch, hidden), dtype)
    dc_next = np.zeros((batch, hidden), dtype)
    for t in reversed(range(steps)):
        act = gates[t]
        i, f = act[:, :hidden], act[:, hidden:2 * hidden]
        g, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
        dh = doutputs[t] + dh_next
        dc = dh * o * (1 - tanh_cells[t] ** 2) + dc_next
        d = dpre[t]
        d[:, :hidden] = dc * g * i * (1 - i)
        d[:, hidden:2 * hidden] = dc * cells[t] * f * (1 - f)
        d[:, 2 * hidden:3 * hidden] = dc * i * (1 - g * g)
        d[:, 3 * hidden:] = dh * tanh_cells[t] * o * (1 - o)
        dc_next = dc * f
        if t:
            dh_next = d @ w_hh

    dpre_rows = dpre.reshape(rows, 4 * hidden)
    grads["weight_hh"] = dpre_rows.T @ hiddens[:-1].reshape(rows, hidden)
    grads["weight_ih"] = dpre_rows.T @ xs.reshape(rows, features)
    grads["bias_ih"] = dpre_rows.sum(axis=0)
    grads["bias_hh"] = grads["bias_ih"].copy()
    return loss, grads


class NumpyLM:
    """:func:`loss_and_grads` behind the same ``step()``/``grads()`` face as the others."""

    def __init__(self, params, xs, targets):
        self.params, self.xs, self.targets = params, xs, targets
        self.last_grads = None

    def step(self):
        loss, self.last_grads = loss_and_grads(self.params, self.xs, self.targets)
        return loss

    def grads(self):
        return self.last_grads
