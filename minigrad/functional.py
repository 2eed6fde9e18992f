"""Functions of tensors built from the primitive ops (so they differentiate to any order)."""
import numpy as np

from . import ops
from .random import generator
from .tensor import Op, Tensor, as_tensor, check_values, no_grad


def logsumexp(x, axis=-1, keepdims=False, *, dim=None, keepdim=False):
    """log sum_i exp(x_i), shifted by the (constant) maximum so that it cannot overflow."""
    axis, keepdims = (axis, keepdims) if dim is None else (dim, keepdim)
    shift = _shift(x, axis)
    out = (x - shift).exp().sum(axis=axis, keepdims=True).log() + shift
    return out if keepdims else ops.sum(out, axis=axis)


def _shift(x, axis):
    """The maximum along ``axis`` as a constant: an op run without recording a gradient,
    so that :func:`minigrad.compile` replays it."""
    with no_grad():
        return ops.max(x, axis=axis, keepdims=True)


def log_softmax(x, axis=-1, *, dim=None):
    """log softmax(x) = x - logsumexp(x)."""
    axis = axis if dim is None else dim
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=-1, *, dim=None):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j)."""
    axis = axis if dim is None else dim
    e = (x - _shift(x, axis)).exp()
    return e / e.sum(axis=axis, keepdims=True)


def _check_targets(logits, targets, name):
    if targets.dtype.kind not in "iu":
        raise TypeError(f"{name}: targets must be integer class indices, got {targets.dtype}")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"{name}: logits {logits.shape} need targets of shape "
                         f"{logits.shape[:-1]}, got {targets.shape}")
    check_values(_targets_in_range, targets, classes=logits.shape[-1], name=name)


def _targets_in_range(targets, classes, name):
    if targets.size:
        low, high = int(targets.min()), int(targets.max())
        if low < 0 or high >= classes:
            raise IndexError(f"{name}: target classes must lie in [0, {classes}), got values "
                             f"in [{low}, {high}]")


def _classes_last(scores, targets):
    """PyTorch puts the classes at dim 1 for (N, C, d1, ...) scores and (N, d1, ...)
    targets; minigrad at the last axis. Scores of that PyTorch shape are moved to ours."""
    if (scores.ndim > 2 and targets.shape != scores.shape[:-1]
            and targets.shape == scores.shape[:1] + scores.shape[2:]):
        return scores.permute(0, *range(2, scores.ndim), 1)
    return scores


def nll_loss(log_probs, targets, reduction="mean"):
    """-log_probs[target]: the negative log-likelihood of integer class targets, given
    log-probabilities over the last axis (or PyTorch's dim 1 of (N, C, d1, ...))."""
    return _picked_loss(log_probs, targets, reduction, "nll_loss", lambda x: x)


def cross_entropy(logits, targets, reduction="mean"):
    """-log softmax(logits)[target], over the last axis (or PyTorch's dim 1 of
    (N, C, d1, ...)); ``reduction`` is mean, sum or none. ``nll_loss(log_softmax(x))``."""
    return _picked_loss(logits, targets, reduction, "cross_entropy", log_softmax)


def _picked_loss(scores, targets, reduction, name, transform):
    """-transform(scores)[target], reduced."""
    targets = targets if isinstance(targets, Tensor) else Tensor(scores.xp.asarray(targets))
    scores = _classes_last(scores, targets)
    _check_targets(scores, targets, name)
    flat = transform(scores.reshape(-1, scores.shape[-1]))
    rows = scores.xp.arange(flat.shape[0])
    picked = -flat[rows, targets.reshape(-1).data]   # an op: mg.compile reads it anew
    return _reduce(picked.reshape(targets.shape), reduction, name)


def mse_loss(prediction, target, reduction="mean"):
    """Mean (or sum) of squared differences."""
    target = as_tensor(target, prediction)
    if prediction.shape != target.shape:
        raise ValueError(f"mse_loss: prediction {prediction.shape} and target {target.shape} "
                         f"differ in shape")
    diff = prediction - target
    return _reduce(diff * diff, reduction, "mse_loss")


def _reduce(values, reduction, name):
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` picked by integer ``indices``; the gradient is added back per row,
    except to row ``padding_idx`` (PyTorch's: its lookups pass no gradient)."""
    data = indices.data if isinstance(indices, Tensor) else weight.xp.asarray(indices)
    if data.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {data.dtype}")
    check_values(_indices_in_range, data, shape=weight.shape)
    rows = weight[data]
    if padding_idx is None:
        return rows
    padding = ops.constant(data == padding_idx % weight.shape[0])
    return ops.where(ops.unsqueeze(padding, -1), rows.detach(), rows)


def _indices_in_range(indices, shape):
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= shape[0]:
            raise IndexError(f"embedding: indices must lie in [0, {shape[0]}) for a weight of "
                             f"shape {shape}, got values in [{low}, {high}]")


def one_hot(indices, num_classes, dtype=np.float32):
    """A float tensor with a 1 at each index along a new last axis (no gradient)."""
    indices = indices if isinstance(indices, Tensor) else Tensor(np.asarray(indices))
    check_values(_one_hot_in_range, indices, num_classes=num_classes)
    return _one_hot(indices, num_classes=num_classes, dtype=np.dtype(dtype))


def _one_hot_in_range(indices, num_classes):
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num_classes):
        raise IndexError(f"one_hot: indices must lie in [0, {num_classes}), got values in "
                         f"[{int(indices.min())}, {int(indices.max())}]")


_one_hot = Op("one_hot", lambda xp, indices, num_classes, dtype:
              xp.eye(num_classes, dtype=dtype)[indices])   # an op: a compiled step reads anew


def dropout(x, p=0.5, training=True, rng=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted
    dropout, Srivastava et al. 2014); the identity when not training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must lie in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0                                  # every element dropped, as torch
    with no_grad():
        mask = _dropout_mask(x, p=p, rng=rng)
    return x * mask


def _mask(xp, x, p, rng):
    keep = (rng or generator()).random(x.shape) >= p
    return xp.asarray(keep.astype(x.dtype) / (1 - p))


_dropout_mask = Op("dropout_mask", _mask)   # an op, so that a compiled step draws anew


def linear(x, weight, bias=None):
    """x W^T + b, with PyTorch's layout of ``weight`` (out_features, in_features)."""
    return ops.linear(x, weight, bias)


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def relu(x):
    return x.relu()
