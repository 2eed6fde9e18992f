"""Multi-layer, optionally bidirectional RNN, LSTM and GRU with ``torch.nn``'s signature,
state shapes and state-dict keys, built from the cells and :func:`unroll`.

A PyTorch ``state_dict`` of ``torch.nn.LSTM`` loads unchanged: the cells' own parameters
are registered here under PyTorch's names (``weight_ih_l0``, ``bias_hh_l1``,
``weight_ih_l0_reverse``, ...), so the cells, which do the work, see every load, cast and
update. Layer l runs in scope ``layer={l}``; in a bidirectional layer the two directions
run in ``forward``/``backward`` as in :class:`Bidirectional`; each step keeps its cell's
scopes (``layer=1/t=3/lstm/forget_gate``), so the graph renders and checks like any other.
"""
import warnings

import minigrad as mg
from minigrad import functional as F
from minigrad.nn import Module

from .bidirectional import Bidirectional
from .cell import unroll
from .gru import GRUCell
from .lstm import LSTMCell
from .rnn import RNNCell


class RNNBase(Module):
    """Shared by :class:`RNN`, :class:`LSTM` and :class:`GRU` (``torch.nn.RNNBase``).

    ``module(input, hx=None) -> (output, h_n)``, for LSTM ``(output, (h_n, c_n))``:
    input (T, B, D), or (B, T, D) with ``batch_first``, or unbatched (T, D); output
    (T, B, num_directions * H); h_0, c_0, h_n, c_n (num_layers * num_directions, B, H),
    layer-major (index ``layer * num_directions + direction``), zeros when not given.
    ``dropout`` applies to each layer's output except the last, in training mode only.
    """
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **cell_options):
        super().__init__()
        name = type(self).__name__
        unsupported = sorted(set(cell_options) - set(self.cell_option_names))
        if unsupported:
            raise TypeError(f"{name}: unsupported argument(s) {', '.join(unsupported)} "
                            f"(torch.nn's proj_size, device and dtype are not offered here; "
                            f"cast with .double() or .float() after building)")
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if dropout and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} acts between layers, so with "
                          f"num_layers=1 it does nothing (as in torch.nn)",
                          stacklevel=3 if type(self).__init__ is not RNNBase.__init__ else 2)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        layers = []
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size * self.num_directions
            cells = [self.make_cell(size, hidden_size, bias, **cell_options)
                     for _ in range(self.num_directions)]
            for direction, cell in enumerate(cells):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                for param in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    if getattr(cell, param) is not None:
                        setattr(self, param + suffix, getattr(cell, param))
            layers.append(Bidirectional(*cells) if bidirectional else cells[0])
        object.__setattr__(self, "layers", layers)   # not submodules: names are PyTorch's

    cell_option_names = ()

    def make_cell(self, input_size, hidden_size, bias, **options):
        raise NotImplementedError(f"{type(self).__name__}.make_cell")

    @property
    def cells(self):
        """Every cell, layer-major, forward before backward (the order of h_n)."""
        return [cell for layer in self.layers for cell in
                ((layer.forward_cell, layer.backward_cell) if self.bidirectional else (layer,))]

    def flatten_parameters(self):
        """A no-op here (PyTorch packs cuDNN's weights; there is nothing to pack)."""

    # -- states ----------------------------------------------------------------------------
    def _initial_states(self, hx, batch, dtype):
        """One tuple of state tensors per cell, from (L * dirs, B, H) tensors or zeros."""
        cells = self.cells
        names = cells[0].state_names
        if hx is None:
            return [cell.initial_state(batch, dtype) for cell in cells]
        expected = (len(cells), batch, self.hidden_size)
        if len(hx) != len(names):
            raise ValueError(f"{type(self).__name__}: hx must be {len(names)} tensor(s) "
                             f"{tuple(n + '_0' for n in names)}, got {len(hx)}")
        for name, tensor in zip(names, hx):
            if tensor.shape != expected:
                raise ValueError(f"{type(self).__name__}: {name}_0 must have shape "
                                 f"(num_layers * num_directions, batch, hidden_size) = "
                                 f"{expected}, got {tensor.shape}")
        return [tuple(t[index] for t in hx) for index in range(len(cells))]

    def _final(self, finals):
        """The cells' final states stacked as PyTorch's (L * dirs, B, H) tensors."""
        with mg.scope("final_state"):
            return tuple(mg.stack([state[i] for state in finals])
                         for i in range(len(finals[0])))

    # -- forward ---------------------------------------------------------------------------
    def _check_types(self, input, hx):
        """Tensors only, as torch.nn: input, and hx as one tensor or a tuple of them."""
        name = type(self).__name__
        if not isinstance(input, mg.Tensor):
            raise TypeError(f"{name}: input must be a minigrad Tensor, got "
                            f"{type(input).__name__} (wrap it: mg.tensor(x))")
        if hx is None:
            return None
        hx = (hx,) if isinstance(hx, mg.Tensor) else hx
        if not isinstance(hx, (tuple, list)) or not all(isinstance(t, mg.Tensor) for t in hx):
            raise TypeError(f"{name}: hx must be a Tensor or a tuple of Tensors "
                            f"{tuple(n + '_0' for n in self.cells[0].state_names)}, "
                            f"got {type(hx).__name__}")
        return tuple(hx)

    def forward(self, input, hx=None):
        hx = self._check_types(input, hx)
        unbatched = input.ndim == 2
        if unbatched:
            input = input.unsqueeze(1)
            if hx is not None:
                for name, tensor in zip(self.cells[0].state_names, hx):
                    if tensor.shape != (len(self.cells), self.hidden_size):
                        raise ValueError(
                            f"{type(self).__name__}: for unbatched (T, D) input, {name}_0 "
                            f"must have shape (num_layers * num_directions, hidden_size) = "
                            f"{(len(self.cells), self.hidden_size)}, got {tensor.shape}")
                hx = tuple(t.unsqueeze(1) for t in hx)
        elif input.ndim != 3:
            layout = "(batch, T, D)" if self.batch_first else "(T, batch, D)"
            raise ValueError(f"{type(self).__name__}: input must have shape {layout} or "
                             f"(T, D) with D = {self.input_size}, got {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input has {input.shape[-1]} features, "
                             f"input_size is {self.input_size} (input shape {input.shape})")
        xs = input.transpose(0, 1) if self.batch_first and not unbatched else input
        states = self._initial_states(hx, xs.shape[1], xs.dtype)
        finals = []
        for index, layer in enumerate(self.layers):
            with mg.scope(f"layer={index}"):
                if index and self.dropout and self.training:
                    with mg.scope("dropout"):
                        xs = F.dropout(xs, self.dropout, True)
                if self.bidirectional:
                    pair = states[2 * index: 2 * index + 2]
                    xs, (forward_state, backward_state) = layer(xs, pair)
                    finals += [forward_state, backward_state]
                else:
                    xs, final = unroll(layer, xs, states[index])
                    finals.append(final)
        final = self._final(finals)
        if unbatched:
            xs, final = xs[:, 0], tuple(t[:, 0] for t in final)
        elif self.batch_first:
            xs = xs.transpose(0, 1)
        return xs, (final if len(final) > 1 else final[0])

    def extra_repr(self):
        options = [f"{self.input_size}, {self.hidden_size}"]
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                options.append(f"{name}={getattr(self, name)}")
        return ", ".join(options)


class RNN(RNNBase):
    """``torch.nn.RNN``: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) per layer
    (``nonlinearity="relu"`` for max(0, .)), each layer a :class:`RNNCell`."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, nonlinearity=nonlinearity)
        self.nonlinearity = nonlinearity

    cell_option_names = ("nonlinearity",)

    def make_cell(self, input_size, hidden_size, bias, nonlinearity):
        return RNNCell(input_size, hidden_size, nonlinearity=nonlinearity, bias=bias)


class LSTM(RNNBase):
    """``torch.nn.LSTM``: each layer an :class:`LSTMCell` (gates i, f, g, o); takes and
    returns ``(h, c)``."""

    def make_cell(self, input_size, hidden_size, bias):
        return LSTMCell(input_size, hidden_size, bias=bias)


class GRU(RNNBase):
    """``torch.nn.GRU``: each layer a :class:`GRUCell` (gates r, z, n)."""

    def make_cell(self, input_size, hidden_size, bias):
        return GRUCell(input_size, hidden_size, bias=bias)
