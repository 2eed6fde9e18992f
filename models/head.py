"""The hidden-to-output map: one linear layer, or an MLP (002_*.txt (c), deep output)."""
import minigrad as mg
from minigrad.nn import Linear, Module


class DeepOutput(Module):
    """"Depth can also be added in the hidden-to-output transform" (002_*.txt (c); Pascanu,
    Gulcehre, Cho & Bengio 2014, "deep output RNN"): an MLP between h_t and z_t,

        u^0 = h_t,   u^l = tanh(W_l u^{l-1} + b_l)  (l = 1..L),   z_t = W_z u^L + b_z

    ``hidden_sizes`` = (size of u^1, ..., size of u^L); applied to any leading shape.
    Parameters ``layer{l}.weight``/``.bias`` (l = 1..L) and ``output.weight``/``.bias``;
    layer l runs in scope ``layer={l}``.
    """

    def __init__(self, in_features, out_features, hidden_sizes):
        super().__init__()
        hidden_sizes = tuple(hidden_sizes)
        if not hidden_sizes or any(not isinstance(s, int) or s <= 0 for s in hidden_sizes):
            raise ValueError(f"DeepOutput: hidden_sizes must be one or more positive integers, "
                             f"got {hidden_sizes!r}")
        self.in_features, self.out_features = in_features, out_features
        self.hidden_sizes = hidden_sizes
        size = in_features
        for index, hidden in enumerate(hidden_sizes, start=1):
            setattr(self, f"layer{index}", Linear(size, hidden))
            size = hidden
        self.output = Linear(size, out_features)

    def forward(self, h):
        for index in range(1, len(self.hidden_sizes) + 1):
            with mg.scope(f"layer={index}"):
                h = getattr(self, f"layer{index}")(h).tanh()
        with mg.scope("output"):
            return self.output(h)

    def extra_repr(self):
        sizes = " -> ".join(str(s) for s in (self.in_features, *self.hidden_sizes,
                                             self.out_features))
        return sizes


def output_head(in_features, out_features, hidden_sizes=()):
    """z = W h + b (:class:`Linear`) without ``hidden_sizes``, else :class:`DeepOutput`."""
    hidden_sizes = tuple(hidden_sizes or ())
    if not hidden_sizes:
        return Linear(in_features, out_features)
    return DeepOutput(in_features, out_features, hidden_sizes)
