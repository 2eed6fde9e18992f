"""Temporal convolutional network: causal dilated 1-D convolutions with residual blocks
(Bai, Kolter & Koltun 2018; 000_*.txt, "Convolutions to aggregate over time")."""
import math

import minigrad as mg
from minigrad.nn import Module, Parameter, uniform


class CausalConv1d(Module):
    """A causal dilated 1-D convolution over time, "only use elements from the past"
    (000_*.txt), with k taps spaced d = ``dilation`` steps apart:

        y_t = b + sum_{j=0}^{k-1} W[:, :, j] x_{t - (k-1-j) d}        (x_s = 0 for s < 0)

    ``weight`` (C_out, C_in, k) and ``bias`` (C_out,) have ``torch.nn.Conv1d``'s layout (a
    Conv1d with padding (k-1)d whose last (k-1)d outputs are dropped is the same map);
    U(-1/sqrt(C_in k), 1/sqrt(C_in k)) init as in PyTorch. Built from engine primitives: the
    sequence is padded in front by concatenating (k-1)d zero steps, the k shifted windows
    are joined on the feature axis, and one matmul applies all taps.
    xs (T, B, C_in) -> (T, B, C_out).
    """

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.dilation = kernel_size, dilation
        bound = 1 / math.sqrt(in_channels * kernel_size)
        self.weight = Parameter(uniform((out_channels, in_channels, kernel_size), bound))
        self.bias = Parameter(uniform((out_channels,), bound))

    def forward(self, xs):
        if xs.ndim != 3 or xs.shape[2] != self.in_channels:
            raise ValueError(f"CausalConv1d at '{mg.current_scope() or 'top level'}': input must "
                             f"have shape (T, batch, {self.in_channels}), got {xs.shape}")
        steps, batch, _ = xs.shape
        padding = (self.kernel_size - 1) * self.dilation
        with mg.scope("pad"):
            zeros = mg.Tensor(xs.xp.zeros((padding, batch, self.in_channels), xs.dtype))
            padded = mg.concat([zeros, xs], axis=0) if padding else xs
        with mg.scope("taps"):
            windows = [padded[j * self.dilation:j * self.dilation + steps]
                       for j in range(self.kernel_size)]
            joined = mg.concat(windows, axis=2) if len(windows) > 1 else windows[0]
        with mg.scope("matmul"):
            weight = self.weight.transpose(2, 1, 0).reshape(
                self.kernel_size * self.in_channels, self.out_channels)
            return joined @ weight + self.bias

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}")


class TemporalBlock(Module):
    """One residual block of Bai et al. 2018 (Fig. 1b), without weight norm and dropout:

        z = relu(conv_2(relu(conv_1(x))))            both causal, dilation d
        y = relu(z + x)                              x through a 1x1 conv when C_in != C_out
    """

    def __init__(self, in_channels, out_channels, kernel_size, dilation):
        super().__init__()
        self.conv1 = CausalConv1d(in_channels, out_channels, kernel_size, dilation)
        self.conv2 = CausalConv1d(out_channels, out_channels, kernel_size, dilation)
        self.downsample = (CausalConv1d(in_channels, out_channels, 1)
                           if in_channels != out_channels else None)

    def forward(self, xs):
        with mg.scope("conv1"):
            z = self.conv1(xs).relu()
        with mg.scope("conv2"):
            z = self.conv2(z).relu()
        with mg.scope("residual"):
            shortcut = xs if self.downsample is None else self.downsample(xs)
            return (z + shortcut).relu()


class TCN(Module):
    """A stack of :class:`TemporalBlock` s, block i with ``channels[i]`` output channels and
    dilation ``dilations[i]`` (default 2^i, Bai et al. 2018):

        tcn(xs) -> (T, B, channels[-1]),        output t depends on x_{t-R+1} .. x_t

    with receptive field R = 1 + 2 (k-1) sum_i d_i (two convolutions per block).
    Block i's ops sit in scopes ``block={i} dilation={d_i}/conv1`` (and ``conv2``, ``residual``).
    """
    returns_state = False

    def __init__(self, input_size, channels, kernel_size=2, dilations=None):
        super().__init__()
        channels = list(channels)
        dilations = [2 ** i for i in range(len(channels))] if dilations is None else list(dilations)
        if not channels or len(dilations) != len(channels):
            raise ValueError(f"TCN: needs one dilation per block; got {len(channels)} channel "
                             f"counts and {len(dilations)} dilations")
        if kernel_size < 1 or any(d < 1 for d in dilations):
            raise ValueError(f"TCN: kernel_size and dilations must be >= 1, got {kernel_size} "
                             f"and {dilations}")
        self.input_size, self.output_size = input_size, channels[-1]
        self.kernel_size, self.dilations = kernel_size, dilations
        self.blocks = []
        for index, (out, dilation) in enumerate(zip(channels, dilations)):
            block = TemporalBlock(channels[index - 1] if index else input_size, out,
                                  kernel_size, dilation)
            setattr(self, f"block{index}", block)
            self.blocks.append(block)

    @property
    def receptive_field(self):
        return 1 + 2 * (self.kernel_size - 1) * sum(self.dilations)

    def forward(self, xs):
        if xs.ndim != 3 or xs.shape[2] != self.input_size or xs.shape[0] == 0:
            raise ValueError(f"TCN: xs must have shape (T >= 1, batch, {self.input_size}), "
                             f"got {xs.shape}")
        for index, (block, dilation) in enumerate(zip(self.blocks, self.dilations)):
            with mg.scope(f"block={index} dilation={dilation}"):
                xs = block(xs)
        return xs

    def extra_repr(self):
        return (f"{self.input_size} -> {self.output_size}, kernel_size={self.kernel_size}, "
                f"dilations={self.dilations}")
