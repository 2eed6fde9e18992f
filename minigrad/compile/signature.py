"""What makes two calls the same for a plan: the hashable signature of the arguments, the
arrays and tensors inside them."""
import numpy as np

from .. import backend
from ..tensor import Tensor


def _flatten(value, tensors):
    """The hashable signature of an argument; Tensors (and arrays) are collected in order."""
    if isinstance(value, Tensor):
        tensors.append(value)
        data = value.data
        return ("T", data.shape, data.dtype.str, type(data), value.requires_grad,
                getattr(data, "strides", None))
    if isinstance(value, (np.ndarray,)) or backend.backend_of(value) == "cupy" and \
            hasattr(value, "shape"):
        tensors.append(value)
        return ("A", value.shape, value.dtype.str, type(value), value.flags.c_contiguous)
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(_flatten(v, tensors) for v in value))
    if isinstance(value, dict):
        return (dict, tuple((k, _flatten(v, tensors)) for k, v in sorted(value.items())))
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return ("V", type(value), value)
    return ("O", id(value))


def _is_array(value):
    return isinstance(value, np.ndarray) or backend.backend_of(value) == "cupy" and \
        hasattr(value, "shape")


def _contiguous(value):
    """``value`` with its arrays (not tensors) made C-contiguous, so that what ``fn``
    derives from them by slicing along the first axis or reshaping is a view the recorder
    finds in memory (:meth:`_Recorder.locate`), not a copy it would freeze at capture."""
    if _is_array(value):
        return value if value.flags.c_contiguous else backend.get_array_module(value) \
            .ascontiguousarray(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_contiguous(v) for v in value)
    if isinstance(value, dict):
        return {k: _contiguous(v) for k, v in value.items()}
    return value


def _leaf_tensors(value, out):
    if isinstance(value, Tensor):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _leaf_tensors(v, out)
    elif isinstance(value, dict):
        for k in sorted(value):
            _leaf_tensors(value[k], out)
    return out


