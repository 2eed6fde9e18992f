"""The Tensor, the node that records how it was made, and the one function that runs an op.

A tensor made by an op keeps a :class:`Node`: the op, its input tensors and keyword
arguments, and the scope path that was active (``t=3/lstm/forget_gate``). That is the whole
recorded graph; :mod:`minigrad.autograd` walks it backwards.

In-place changes are checked as in PyTorch (its "version counter"): a recorded op saves
for backward the inputs and output its VJPs read (``Op.saves``; all of them unless the op
says otherwise: add, sub, neg, sum, reshape, transpose and getitem save nothing), and backward refuses to use one that was changed
in place after the op ran, naming the op and its scope. Every in-place path of the project
(optimizer steps, ``load_state_dict``, ``Module.to``, in-place ops) calls
``t._bump_version()``; ``.numpy()`` hands out a read-only view, so nothing can be written
through it. The version is a reading of the clock that numbers nodes, taken at the last
change (0: never changed), so a tensor was changed after node ``n`` was made exactly when
its version is larger than ``n.order`` (a tensor and its ``detach()`` share one version,
as in PyTorch); backward compares only when some tensor was changed
after a node of the graph was made (``state.last_change``), so the check costs nothing in
the forward pass and one comparison per node in backward. ``.data`` is the raw array, not
tracked (like PyTorch's ``.data``): writes through it are the caller's responsibility.
"""
import contextlib
import itertools
import operator

import numpy as np

from . import backend


class _State:
    grad_enabled = True
    scope = ()
    anomaly = False
    recorder = None     # a compile capture in progress (minigrad.compile)
    last_change = -1          # clock reading of the latest in-place change of any tensor


state = _State()


_creation_order = itertools.count()


class Node:
    """How a tensor was made: ``op(*parents, **kwargs)`` inside ``scope``. ``order`` counts
    nodes as they are made, so a node's parents always have a smaller one."""
    __slots__ = ("op", "parents", "kwargs", "scope", "order")

    def __init__(self, op, parents, kwargs, scope):
        self.op, self.parents, self.kwargs, self.scope = op, parents, kwargs, scope
        self.order = next(_creation_order)

    @property
    def path(self):
        return "/".join(self.scope)


class _SharedVersion:
    """The version of tensors that share an array (a tensor and its ``detach()``): made at
    the first ``detach()``; until then a tensor's ``_version`` is a plain number, so that
    making a tensor costs no extra object."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def version_of(t):
    """The clock reading of ``t``'s last change in place (0: never changed)."""
    version = t._version
    return version if type(version) is int else version.value


class Tensor:
    """An n-d array (NumPy or CuPy) that remembers the op that produced it."""
    __slots__ = ("data", "grad", "requires_grad", "node", "name", "retains_grad", "_version",
                 "__weakref__")
    __array_priority__ = 1000  # so that ndarray * Tensor defers to Tensor.__rmul__

    def __init__(self, data, requires_grad=False, name=None):
        if not hasattr(data, "dtype"):
            raise TypeError(f"Tensor(data): data must be a NumPy or CuPy array, got "
                            f"{type(data).__name__}; mg.tensor(data) makes one from a list or "
                            f"a number")
        self.data = data
        self.grad = None
        self.node = None
        self.name = name
        self.retains_grad = False
        self.requires_grad = False
        self._version = 0
        if requires_grad:
            self.requires_grad_()

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad=True needs a floating dtype; this tensor of shape "
                            f"{self.shape} is {self.dtype} (integer tensors hold indices)")
        self.requires_grad = flag
        return self

    # -- array facts -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    xp = property(lambda self: backend.get_array_module(self.data))
    backend = property(lambda self: backend.backend_of(self.data))
    is_leaf = property(lambda self: self.node is None)

    @property
    def op(self):
        """Name of the op that made this tensor, or None for a leaf."""
        return None if self.node is None else self.node.op.name

    @property
    def parents(self):
        return () if self.node is None or self.node.parents is None else self.node.parents

    @property
    def scope(self):
        """Scope path in which this tensor was made (``""`` for leaves and top level)."""
        return "" if self.node is None else self.node.path

    def _bump_version(self):
        """Record that the values changed in place: graphs made before refuse to use them."""
        version = state.last_change = next(_creation_order)
        if type(self._version) is int:
            self._version = version
        else:
            self._version.value = version

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        """The value of a one-element tensor; ambiguous for any other size (as in NumPy)."""
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} ({self.numel()} "
                             f"elements) is ambiguous: reduce it to one element first, e.g. "
                             f"with .max() or .sum()")
        return bool(self.data.reshape(()).item())

    def __float__(self):
        """``float(t)`` of a one-element tensor, as torch (``item()`` names other sizes)."""
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        op = f", op={self.op}" if self.node is not None else ""
        return f"tensor({np.array2string(self.numpy(), prefix='tensor(')}, dtype={self.dtype}{grad}{op})"

    def numpy(self):
        """The data as a NumPy array: a read-only view on NumPy (a graph may have saved these
        values for backward), a copy from the GPU. ``.numpy().copy()`` is yours to write."""
        if type(self.data) is np.ndarray:
            view = self.data.view()
            view.flags.writeable = False
            return view
        return backend.to_backend(self.data, "numpy")

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): tensor of shape {self.shape} has {self.numel()} elements, "
                             f"not 1")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        """The same data, cut from the graph; it shares this tensor's version, so a change
        in place of either is seen by graphs that saved the other (as in PyTorch)."""
        shared = self._version
        if type(shared) is int:
            shared = self._version = _SharedVersion(shared)
        out = Tensor(self.data)
        out._version = shared
        return out

    def to(self, name):
        """This tensor on backend ``name`` ("numpy"/"cpu", "cupy"/"cuda") or cast to dtype
        ``name``; gradients flow back across the move and the cast."""
        kind, name = backend.backend_or_dtype(name)
        if kind == "backend":
            if backend.backend_of(self.data) == name:
                return self
            return ops.to_backend(self, backend=name)
        return self if self.dtype == name else self.astype(name)

    def astype(self, dtype):
        return ops.astype(self, dtype=np.dtype(dtype))

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward()``."""
        self.retains_grad = True
        return self

    def zero_grad(self):
        self.grad = None

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (adding to what is there).

        ``gradient`` is required unless ``self`` holds one element. The graph's saved
        tensors are released afterwards unless ``retain_graph`` (default: ``create_graph``).
        """
        from .autograd import backward
        backward([self], None if gradient is None else [gradient], retain_graph, create_graph)

    # -- operators: the ops themselves live in ops.py ------------------------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __pow__(self, exponent): return ops.power(self, exponent)
    def __rpow__(self, base): return ops.power(base, self)
    def __neg__(self): return ops.neg(self)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __lt__(self, other): return ops.compare(self, other, "less")
    def __le__(self, other): return ops.compare(self, other, "less_equal")
    def __gt__(self, other): return ops.compare(self, other, "greater")
    def __ge__(self, other): return ops.compare(self, other, "greater_equal")
    def __eq__(self, other): return ops.compare(self, other, "equal")
    def __ne__(self, other): return ops.compare(self, other, "not_equal")
    def __and__(self, other): return ops.bitwise(self, other, "bitwise_and")
    def __rand__(self, other): return ops.bitwise(other, self, "bitwise_and")
    def __or__(self, other): return ops.bitwise(self, other, "bitwise_or")
    def __ror__(self, other): return ops.bitwise(other, self, "bitwise_or")
    def __invert__(self): return ops.bitwise(self, None, "invert")
    __hash__ = object.__hash__

    # -- PyTorch's names (NumPy's ``size`` attribute is ``numel()`` here) ------------------
    def size(self, dim=None):
        """The shape as a tuple, or the length of axis ``dim`` (PyTorch's ``size``)."""
        return tuple(self.shape) if dim is None else self.shape[dim]

    def numel(self): return int(self.data.size)
    def dim(self): return self.data.ndim
    def float(self): return self.to("float32")
    def double(self): return self.to("float64")

    def long(self):
        """int64 values (indices), cut from the graph: integers carry no gradient."""
        return Tensor(self.data.astype(np.int64))

    def new_zeros(self, *size):
        """Zeros of shape ``size`` with this tensor's dtype and backend."""
        size = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        return Tensor(self.xp.zeros(size, dtype=self.dtype))

    def clone(self): return ops.clone(self)
    def view(self, *shape): return self.reshape(*shape)
    def t(self): return ops.t(self)
    def permute(self, *dims): return ops.permute(self, *dims)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def expand(self, *sizes): return ops.expand(self, *sizes)
    def repeat(self, *repeats): return ops.repeat(self, *repeats)
    def chunk(self, chunks, dim=0): return ops.chunk(self, chunks, dim)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    clip = clamp

    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def abs(self): return ops.abs(self)
    def sqrt(self): return ops.sqrt(self)
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return ops.sum(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return ops.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return ops.max(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=False):
        return ops.min(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None, axis=None):
        return ops.var(self, dim, unbiased, keepdim, correction=correction, axis=axis)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None, axis=None):
        return ops.std(self, dim, unbiased, keepdim, correction=correction, axis=axis)

    def norm(self, p=2, dim=None, keepdim=False): return ops.norm(self, p, dim, keepdim)
    def all(self, dim=None, keepdim=False): return ops.all(self, dim, keepdim)
    def any(self, dim=None, keepdim=False): return ops.any(self, dim, keepdim)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def gather(self, dim, index): return ops.gather(self, dim, index)
    def transpose(self, *axes): return ops.transpose(self, *axes)
    T = property(lambda self: ops.transpose(self))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return ops.reshape(self, shape=tuple(shape))


DEFAULT_DTYPE = np.dtype(np.float32)


def infer_dtype(data):
    """PyTorch's rule: an array (or Tensor) keeps its dtype; Python floats give float32 (the
    default dtype), Python ints int64, bools bool."""
    if hasattr(data, "dtype"):
        return np.dtype(data.dtype)
    kind = np.asarray(data).dtype.kind
    return {"b": np.dtype(bool), "i": np.dtype(np.int64), "u": np.dtype(np.int64),
            "c": np.dtype(np.complex64)}.get(kind, DEFAULT_DTYPE)


def tensor(data, requires_grad=False, dtype=None, backend_name=None):
    """A new leaf tensor on ``backend_name`` (default: the backend set by ``set_backend``;
    a CuPy array stays on the GPU), its values copied. Its dtype is ``dtype``, else as in
    ``torch.tensor``: an array keeps its own (a float64 array stays float64), Python floats
    give float32, Python ints int64."""
    if isinstance(data, Tensor):
        data = data.data
    on_gpu = backend.backend_of(data) == "cupy" if hasattr(data, "__array__") else False
    name = backend_name or ("cupy" if on_gpu else backend.get_backend())
    dtype = infer_dtype(data) if dtype is None else np.dtype(dtype)
    if name == "numpy":
        return Tensor(np.array(backend.to_backend(data, "numpy") if on_gpu else data, dtype=dtype),
                      requires_grad=requires_grad)
    return Tensor(backend.module(name).array(data, dtype=dtype), requires_grad=requires_grad)


def as_tensor(value, like):
    """``value`` as a tensor on ``like``'s backend (Python numbers take ``like``'s dtype)."""
    if isinstance(value, Tensor):
        return value
    xp = backend.get_array_module(like.data)
    if isinstance(value, (int, float)) and like.dtype.kind == "f":
        return Tensor(xp.asarray(value, dtype=like.dtype))
    if isinstance(value, float) and like.dtype.kind in "biu":
        return Tensor(xp.asarray(value, dtype=DEFAULT_DTYPE))    # torch: int64 + 0.5 is float32
    return Tensor(xp.asarray(value))


# -- modes -----------------------------------------------------------------------------
@contextlib.contextmanager
def set_grad_enabled(flag):
    previous, state.grad_enabled = state.grad_enabled, flag
    try:
        yield
    finally:
        state.grad_enabled = previous


def no_grad():
    """Run ops without recording them (inference, optimizer updates)."""
    return set_grad_enabled(False)


def is_grad_enabled():
    return state.grad_enabled


class scope:
    """Stamp the ops made inside with ``name`` appended to the current scope path.

    A class rather than a generator: an unrolled LSTM enters nine scopes per time step."""
    __slots__ = ("name", "previous")

    def __init__(self, name):
        self.name = str(name)

    def __enter__(self):
        self.previous = state.scope
        state.scope = self.previous + (self.name,)

    def __exit__(self, *exc):
        state.scope = self.previous


def current_scope():
    return "/".join(state.scope)


@contextlib.contextmanager
def detect_anomaly(flag=True):
    """Raise ``FloatingPointError`` at the first op whose forward or backward gives NaN/Inf."""
    previous, state.anomaly = state.anomaly, flag
    try:
        yield
    finally:
        state.anomaly = previous


# -- running an op -----------------------------------------------------------------------
class Op:
    """A primitive: ``forward(xp, *arrays, **kwargs) -> array`` and one VJP per input.

    ``vjps[i](g, out, *inputs, **kwargs)`` returns the gradient for input ``i``. A VJP is
    written once, with operators, the methods Tensors and arrays share (``reshape``,
    ``.T``, ``astype``, indexing) and ops: with ``create_graph=True`` it runs on Tensors and
    is itself recorded, so backward can be differentiated; otherwise it runs on the bare
    arrays and makes no Tensor at all. Calling an op on arrays runs its forward directly.
    ``vjp_all`` instead returns the gradients of all inputs at once (for ops with a variable
    number of inputs). Two optional shortcuts serve plain backward passes, on arrays:
    ``scatter`` adds an indexed gradient into a buffer in place, and ``outer = {i: f}`` says
    that input ``i``'s gradient is ``a^T b`` for ``(a, b) = f(g, out, *inputs)`` (the row
    sum of ``b`` when ``a`` is None), so a weight used at every time step gets one matmul
    over all steps instead of one per step. ``saves`` names what the VJPs read the values
    of, for the in-place check: input positions and ``"out"``; None (the default) means
    every input and the output, ``()`` nothing (add: only shapes are read).
    """
    __slots__ = ("name", "forward", "vjps", "vjp_all", "scatter", "outer", "saves")

    def __init__(self, name, forward):
        self.name, self.forward = name, forward
        self.vjps = self.vjp_all = self.scatter = self.outer = self.saves = None

    def __call__(self, *inputs, **kwargs):
        if isinstance(inputs[0], Tensor):
            return apply(self, inputs, kwargs)
        return self.forward(backend.get_array_module(inputs[0]), *inputs, **kwargs)

    def __repr__(self):
        return f"<op {self.name}>"


_new_tensor = object.__new__


def _describe(inputs):
    return ", ".join(f"{t.shape} {t.dtype}" for t in inputs)


_data_of = operator.attrgetter("data")


def apply(op, inputs, kwargs):
    """Run ``op`` on tensors ``inputs`` and record it when a gradient is needed."""
    first = inputs[0].data
    kind = type(first)
    if len(inputs) == 1:
        arrays = (first,)
    else:
        arrays = tuple(map(_data_of, inputs))
        for array in arrays:
            if type(array) is not kind:
                raise TypeError(
                    f"{op.name} at scope '{current_scope()}': inputs are on different backends "
                    f"({', '.join(backend.backend_of(t.data) + str(t.shape) for t in inputs)}); "
                    f"move them with .to('numpy') or .to('cupy')")
    try:
        data = op.forward(np if kind is np.ndarray else backend.get_array_module(first),
                          *arrays, **kwargs)
    except (ValueError, IndexError, TypeError) as exc:
        raise ShapeError(f"{op.name} at scope '{current_scope()}': {exc} "
                         f"(inputs: {_describe(inputs)})") from None
    if type(data) is not kind and isinstance(data, np.generic):
        data = np.asarray(data)   # a 0-d result; a move to CuPy (to_backend) stays as it is
    out = _new_tensor(Tensor)
    out.data, out.grad, out.name, out.retains_grad, out.node = data, None, None, False, None
    out.requires_grad, out._version = False, 0
    if state.grad_enabled:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out.node = Node(op, inputs, kwargs, state.scope)
                break
    if state.recorder is not None:
        state.recorder.record(op, inputs, kwargs, out)
    if state.anomaly and data.dtype.kind == "f" and not bool(out.xp.isfinite(data).all()):
        raise FloatingPointError(f"{op.name} at scope '{current_scope()}' produced NaN or Inf "
                                 f"(inputs: {_describe(inputs)})")
    return out


def check_values(check, *values, **kwargs):
    """Run ``check(*arrays, **kwargs)``, a test of the values of ``values`` (tensors or
    arrays) that raises when they are bad (indices out of range). Such a test reads values
    outside ops, so :func:`minigrad.compile` would run it only at capture; called through
    here, it is also a step of the plan, and a replayed call raises the same error."""
    check(*[v.data if isinstance(v, Tensor) else v for v in values], **kwargs)
    if state.recorder is not None:
        state.recorder.check(check, values, kwargs)


class ShapeError(ValueError):
    """An op got inputs whose shapes, dtypes or indices do not fit; names op and scope."""


from . import ops  # noqa: E402  (ops needs Tensor, the operators above need ops)
