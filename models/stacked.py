"""Deep RNNs: a hierarchy of recurrent layers, optionally with skip connections (002_*.txt)."""
import minigrad as mg
from minigrad.nn import Module

from .sequence import run_sequence


class Stacked(Module):
    """"A hierarchy of RNNs, which can be stacked on top of each other" (002_*.txt (d);
    Graves 2013, eq. 11-12). Layer l's output sequence is layer l+1's input:

        skip=False:  h^0_t = f_0(h^0_{t-1}, x_t),   h^l_t = f_l(h^l_{t-1}, h^{l-1}_t)
                     output y_t = h^{L-1}_t                                     (T, B, H_{L-1})

    ``skip=True`` adds the skip connections of 002_*.txt (c)/(d) (Graves 2013: "skip
    connections from the inputs to all hidden layers, and from all hidden layers to the
    outputs"): every layer above the first also sees the input, and the output is every
    layer's hidden state side by side, ready for one output layer y = W [h^0; ...; h^{L-1}]:

        h^l_t = f_l(h^l_{t-1}, [x_t ; h^{l-1}_t])       l >= 1
        output y_t = [h^0_t ; h^1_t ; ... ; h^{L-1}_t]                           (T, B, sum H_l)

    ``layers`` are cells or sequence wrappers (e.g. :class:`Bidirectional`); their input
    sizes are checked here. ``stacked(xs, states=None) -> (output, states)``, states a tuple
    with one entry per layer. Layer l runs in scope ``layer={l}``; its parameters are named
    ``layer{l}.<name>``.
    """

    def __init__(self, layers, skip=False):
        super().__init__()
        layers = list(layers)
        if not layers:
            raise ValueError("Stacked: needs at least one layer")
        self.skip = skip
        self.input_size = layers[0].input_size
        for index, layer in enumerate(layers):
            below = layers[index - 1].output_size if index else 0
            expected = self.input_size + below if skip and index else (below or self.input_size)
            if layer.input_size != expected:
                how = (f"input {self.input_size} + layer {index - 1}'s output {below}"
                       if skip and index else f"layer {index - 1}'s output" if index else "")
                raise ValueError(f"Stacked: layer {index} ({type(layer).__name__}) has "
                                 f"input_size {layer.input_size}, expected {expected}"
                                 f"{' = ' + how if how else ''} (skip={skip})")
            setattr(self, f"layer{index}", layer)
        self.layers = layers
        self.output_size = (sum(layer.output_size for layer in layers) if skip
                            else layers[-1].output_size)

    def forward(self, xs, states=None):
        if states is not None and len(states) != len(self.layers):
            raise ValueError(f"Stacked: states must have one entry per layer "
                             f"({len(self.layers)}), got {len(states)}")
        states = [None] * len(self.layers) if states is None else list(states)
        inputs, outputs, finals = xs, [], []
        for index, layer in enumerate(self.layers):
            with mg.scope(f"layer={index}"):
                if self.skip and index:
                    with mg.scope("skip"):
                        inputs = mg.concat([xs, inputs], axis=2)
                hs, final = run_sequence(layer, inputs, states[index])
            outputs.append(hs)
            finals.append(final)
            inputs = hs
        if self.skip and len(outputs) > 1:
            with mg.scope("skip"):
                return mg.concat(outputs, axis=2), tuple(finals)
        return outputs[-1], tuple(finals)

    def extra_repr(self):
        return f"{self.input_size} -> {self.output_size}, skip={self.skip}"
