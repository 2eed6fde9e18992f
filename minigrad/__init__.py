"""minigrad: a small reverse-mode autodiff engine over NumPy (or CuPy) arrays."""
from . import backend
from .autograd import backward, grad
from .backend import get_array_module, get_backend, set_backend
from .ops import (concat, max, mean, power, split, stack, sum, transpose, unbroadcast,
                  unstack, where)
from .random import manual_seed
from .serialization import load, save
from .tensor import (Op, ShapeError, Tensor, current_scope, detect_anomaly, is_grad_enabled,
                     no_grad, scope, set_grad_enabled, tensor)
from .checkpoint import checkpoint
from .compile import CompileError, CompileMismatch, compile
from . import functional, nn, optim, testing  # noqa: E402

__version__ = "0.1.0"

float32, float64 = "float32", "float64"

__all__ = [
    "Tensor", "tensor", "grad", "backward", "no_grad", "set_grad_enabled", "is_grad_enabled",
    "scope", "current_scope", "detect_anomaly", "set_backend", "get_backend",
    "get_array_module", "concat", "stack", "split", "unstack", "where", "sum", "mean", "max",
    "power", "transpose", "unbroadcast", "checkpoint", "save", "load", "manual_seed",
    "ShapeError", "Op", "compile", "CompileError", "CompileMismatch", "functional", "nn", "optim", "testing", "backend",
]
