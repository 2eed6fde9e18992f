"""minigrad: a small reverse-mode autodiff engine over NumPy (or CuPy) arrays."""
from . import backend
from .autograd import backward, grad
from .backend import get_array_module, get_backend, set_backend
from .ops import (all, any, argmax, argmin, cat, chunk, clamp, concat, flatten, gather,
                  masked_fill, max, mean, min, norm, power, split, squeeze, stack, std, sum,
                  transpose, unbroadcast, unsqueeze, unstack, var, where)
from .random import manual_seed
from .serialization import load, save
from .tensor import (Op, ShapeError, Tensor, check_values, current_scope, detect_anomaly,
                     is_grad_enabled, no_grad, scope, set_grad_enabled, tensor)
from .checkpoint import checkpoint
from .compile import CompileError, CompileMismatch, compile, is_compiling
from .creation import (arange, eye, from_numpy, full, linspace, ones, ones_like, rand, randn,
                       zeros, zeros_like)
from . import functional, nn, optim, testing  # noqa: E402

__version__ = "0.1.0"

float32, float64, int64, bool_ = "float32", "float64", "int64", "bool"
float, double, long = float32, float64, int64     # PyTorch's aliases

__all__ = [
    "Tensor", "tensor", "grad", "backward", "no_grad", "set_grad_enabled", "is_grad_enabled",
    "scope", "current_scope", "detect_anomaly", "set_backend", "get_backend",
    "get_array_module", "concat", "stack", "split", "unstack", "where", "sum", "mean", "max",
    "power", "transpose", "unbroadcast", "checkpoint", "save", "load", "manual_seed",
    "ShapeError", "Op", "check_values", "compile", "is_compiling", "CompileError", "CompileMismatch", "functional", "nn", "optim", "testing", "backend",
    "cat", "chunk", "clamp", "squeeze", "unsqueeze", "zeros", "ones", "full", "zeros_like",
    "ones_like", "randn", "rand", "arange", "from_numpy", "min", "argmax", "argmin", "flatten",
    "masked_fill", "gather", "std", "var", "norm", "all", "any", "eye", "linspace",
]
