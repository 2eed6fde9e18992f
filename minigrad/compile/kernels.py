"""Steps that write into a buffer the plan owns: the hot forward ops and VJPs with their
result in a given buffer (``np.multiply(a, b, buffer)``), the tables that pick them."""
import numpy as np

from ..ops import _HALF
from .plan import _make_step


def _plain(arrays, result):
    """A kernel fits: NumPy arrays (not scalars) of the result's dtype throughout."""
    if type(result) is not np.ndarray or result.ndim == 0:
        return False
    return all(type(a) is np.ndarray and a.dtype == result.dtype for a in arrays)


def _ufunc(ufunc, *positions):
    def make(buffer, ins, out):
        if len(positions) == 1:
            a = ins[positions[0]]

            def step(regs):
                regs[out] = ufunc(regs[a], buffer)
        else:
            a, b = ins[positions[0]], ins[positions[1]]

            def step(regs):
                regs[out] = ufunc(regs[a], regs[b], buffer)
        return step
    return make


def _operands(*positions):
    return lambda arrays, result: _plain([arrays[i] for i in positions], result)


def _sigmoid_kernel(buffer, ins, out):
    """ops._sigmoid into ``buffer``: tanh(x/2)/2 + 1/2, the same operations in order."""
    x = ins[0]
    half = _HALF[buffer.dtype]
    multiply, tanh, add = np.multiply, np.tanh, np.add

    def step(regs):
        multiply(regs[x], half, buffer)
        tanh(buffer, buffer)
        multiply(buffer, half, buffer)
        regs[out] = add(buffer, half, buffer)
    return step


def _rows_of(buffer):
    """``buffer`` as rows (-1, last axis) to write a matrix product into, and what to run
    after writing: None when the rows are a view of ``buffer``; a copy back when
    ``buffer`` is a view that reshaping copies (reversed, or a slice of a 3-d block)."""
    rows = buffer.reshape(-1, buffer.shape[-1])
    if np.may_share_memory(rows, buffer):
        return rows, None
    rows = np.empty_like(rows)
    return rows, lambda: np.copyto(buffer, rows.reshape(buffer.shape))


def _linear_kernel(buffer, ins, out, transposed=None):
    """ops._linear_forward into ``buffer``: x W^T over all rows at once, then += b;
    ``transposed``, when given, holds W^T (see :func:`_transpose_step`)."""
    matmul, add = np.matmul, np.add
    rows, written = _rows_of(buffer)
    flat = buffer.ndim > 2
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) == 3 else None

    def step(regs):
        a = regs[x]
        matmul(a.reshape(-1, a.shape[-1]) if flat else a,
               regs[w].T if transposed is None else transposed, rows)
        if written is not None:
            written()
        if b is not None:
            add(buffer, regs[b], buffer)
        regs[out] = buffer
    return step


def _linear_fits(arrays, result):
    if not _plain(arrays, result) or arrays[0].ndim < 2 or arrays[1].ndim != 2:
        return False
    if len(arrays) == 3:
        bias = arrays[2]
        return bias.shape == result.shape[result.ndim - bias.ndim:]
    return True


def _tanh_vjp_kernel(buffer, ins, out):
    """g - g * out * out, as ops' tanh VJP computes it."""
    g, y = ins[0], ins[1]
    multiply, subtract = np.multiply, np.subtract

    def step(regs):
        multiply(regs[g], regs[y], buffer)
        multiply(buffer, regs[y], buffer)
        regs[out] = subtract(regs[g], buffer, buffer)
    return step


def _sigmoid_vjp_kernel(buffer, ins, out):
    """g * (out - out * out), as ops' sigmoid VJP computes it."""
    g, y = ins[0], ins[1]
    multiply, subtract = np.multiply, np.subtract

    def step(regs):
        value = regs[y]
        multiply(value, value, buffer)
        subtract(value, buffer, buffer)
        regs[out] = multiply(regs[g], buffer, buffer)
    return step


def _matmul_kernel(first, second):
    """``a @ b`` over all rows of ``a`` at once (ops._rows_matmul) into ``buffer``."""
    def make(buffer, ins, out):
        a, b = ins[first], ins[second]
        matmul = np.matmul
        rows, written = _rows_of(buffer)

        def step(regs):
            x = regs[a]
            matmul(x.reshape(-1, x.shape[-1]), regs[b], rows)
            if written is not None:
                written()
            regs[out] = buffer
        return step
    return make


def _zeros_kernel(buffer, ins, out):
    def step(regs):
        buffer.fill(0)
        regs[out] = buffer
    return step


def _copy_kernel(buffer, ins, out):
    a = ins[0]
    copyto = np.copyto

    def step(regs):
        copyto(buffer, regs[a])
        regs[out] = buffer
    return step


def _always(arrays, result):
    return type(result) is np.ndarray and result.ndim > 0


_FORWARD_KERNELS = {
    "add": (_ufunc(np.add, 0, 1), _operands(0, 1)),
    "sub": (_ufunc(np.subtract, 0, 1), _operands(0, 1)),
    "mul": (_ufunc(np.multiply, 0, 1), _operands(0, 1)),
    "neg": (_ufunc(np.negative, 0), _operands(0)),
    "tanh": (_ufunc(np.tanh, 0), _operands(0)),
    "exp": (_ufunc(np.exp, 0), _operands(0)),
    "sigmoid": (_sigmoid_kernel, lambda arrays, result: _plain(arrays, result)
                and result.dtype in _HALF),
    "linear": (_linear_kernel, _linear_fits),
}


def _vjp_kernels():
    """Kernels for the VJPs of ops.py that a recurrent step runs most (inputs: g, out,
    then the op's inputs)."""
    from .. import ops
    return {
        ops._mul.vjps[0]: (_ufunc(np.multiply, 0, 3), _operands(0, 3)),
        ops._mul.vjps[1]: (_ufunc(np.multiply, 0, 2), _operands(0, 2)),
        ops._sub.vjps[1]: (_ufunc(np.negative, 0), _operands(0)),
        ops.tanh.vjps[0]: (_tanh_vjp_kernel, _operands(0, 1)),
        ops.sigmoid.vjps[0]: (_sigmoid_vjp_kernel, _operands(0, 1)),
        ops._linear.vjps[0]: (_matmul_kernel(0, 3), lambda arrays, result:
                              _plain([arrays[0], arrays[3]], result) and arrays[0].ndim >= 2
                              and arrays[3].ndim == 2),
    }



def _transpose_step(weight, buffer):
    """W^T copied once per call into a C-ordered buffer: BLAS multiplies by it faster than
    by the transposed view (the same products, summed in the same order)."""
    copyto = np.copyto

    def step(regs):
        copyto(buffer, regs[weight].T)
    return step


def _stacked_step(desc, values):
    """:func:`_stacked_product` with the rows of the ``a`` terms already side by side in one
    block (when :func:`_buffers` placed them so) and the ``b`` rows copied into a buffer
    kept from call to call."""
    count, block = desc.stack if isinstance(desc.stack, tuple) else (desc.stack, None)
    a_ins, b_ins, out = desc.ins[:count], desc.ins[count:], desc.out
    if any(type(values[i]) is not np.ndarray for i in desc.ins):
        return _make_step(desc.fn, desc.ins, out, desc.template)
    width = values[b_ins[0]].shape[-1]
    rows = sum(values[i].size // width for i in b_ins)
    b_rows = np.empty((rows, width), values[b_ins[0]].dtype) if count > 1 else None
    a_block = None if block is None else block.reshape(-1, block.shape[-1])
    concatenate = np.concatenate

    def gather(regs):
        if count == 1:
            a, b = regs[a_ins[0]], regs[b_ins[0]]
            return a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
        if a_block is not None:
            a = a_block
        else:
            a = concatenate([regs[i].reshape(-1, regs[i].shape[-1]) for i in a_ins])
        concatenate([regs[i].reshape(-1, width) for i in b_ins], out=b_rows)
        return a, b_rows

    def plain(regs):
        a, b = gather(regs)
        regs[out] = a.T @ b

    return plain


def _scatter_kernel(index):
    """``buffer[index] += g`` with the view of the buffer taken once, when ``index`` is
    basic (slices and integers)."""
    def make(buffer, ins, fn, template):
        from ..ops import _is_basic
        view = buffer[index] if template is None and _is_basic(index) else None
        if type(view) is not np.ndarray:
            return _make_step(fn, ins, None, template)
        g = ins[1]
        add = np.add

        def step(regs):
            add(view, regs[g], view)
        return step
    make.index = index
    return make
