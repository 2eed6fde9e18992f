"""``minigrad.testing`` itself: Jacobians of known maps, and checks that catch a wrong
first or second derivative and say where."""
import numpy as np
import pytest
from test_engine_support import engine_backend, leaf  # noqa: F401

import minigrad as mg
from minigrad.ops import _array, defvjp, primitive
from minigrad.testing import GradcheckError, gradcheck, gradgradcheck, jacobian, numerical_jacobian

MATRIX = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])

_wrong_square = primitive("wrong_square")(lambda xp, x: x * x)
defvjp(_wrong_square, lambda g, out, x: g * x * 2.1)           # should be 2x

_frozen_square = primitive("frozen_square")(lambda xp, x: x * x)
defvjp(_frozen_square, lambda g, out, x: g * (2 * _array(x)))      # right value, no graph of x


def test_jacobians_of_a_linear_map_are_its_matrix():
    x = leaf([0.3, -0.7, 1.1])
    a = leaf(MATRIX, requires_grad=False)

    def fn(t):
        return a @ t

    numeric, = numerical_jacobian(fn, [x])
    analytic, = jacobian(fn, [x])
    np.testing.assert_allclose(numeric, MATRIX, atol=1e-8)
    np.testing.assert_allclose(analytic, MATRIX, rtol=1e-15)


def test_jacobian_of_several_inputs_and_outputs():
    x, y = leaf([1.0, 2.0]), leaf([3.0])
    analytic = jacobian(lambda a, b: (a * b, a.sum() * 2.0), [x, y])
    np.testing.assert_array_equal(analytic[0], [[3.0, 0.0], [0.0, 3.0], [2.0, 2.0]])
    np.testing.assert_array_equal(analytic[1], [[1.0], [2.0], [0.0]])


def test_numerical_jacobian_restores_inputs():
    values = np.array([[0.1, 0.2], [0.3, 0.4]])
    x = leaf(values)
    numerical_jacobian(lambda t: t.exp(), [x])
    np.testing.assert_array_equal(x.numpy(), values)


def test_gradcheck_catches_a_wrong_vjp_and_names_the_worst_element():
    x = leaf([0.5, -1.0, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: _wrong_square(t), [x])
    message = str(info.value)
    assert "input 0" in message and "input element 2" in message
    assert "analytic" in message and "numeric" in message
    assert "4.2" in message and "4.0" in message         # 2.1 * 2 vs 2 * 2


def test_gradcheck_names_the_failing_input():
    x, y = leaf([1.0]), leaf([0.5, 1.5])
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a * _wrong_square(b), [x, y])


def test_gradgradcheck_catches_a_vjp_that_is_not_differentiable():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(lambda t: _frozen_square(t), [x])
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda t: _frozen_square(t) * t, [x])
    assert gradgradcheck(lambda t: t * t * t, [x])


def test_checks_require_float64():
    x = mg.tensor([1.0, 2.0], requires_grad=True)            # float32
    with pytest.raises(TypeError, match="gradcheck: input 0 is float32"):
        gradcheck(lambda t: t * 2.0, [x])
    with pytest.raises(TypeError, match="gradgradcheck: input 0 is float32"):
        gradgradcheck(lambda t: t * 2.0, [x])


def test_inputs_without_grad_are_not_checked():
    x, constant = leaf([1.0, 2.0]), leaf([3.0, 4.0], requires_grad=False)
    assert gradcheck(lambda a, c: _wrong_square(c) * a, [x, constant])


def test_a_nan_derivative_fails_the_check():
    """NaN compares false with every tolerance: it must still fail (not pass silently)."""
    x = mg.tensor([-2.0, 3.0], requires_grad=True, dtype="float64")
    with np.errstate(invalid="ignore"), pytest.raises(
            GradcheckError, match=r"input element 0: analytic .*1\.0\) vs numeric .*nan"):
        gradcheck(lambda t: (t.log() * 0.0) + t, [x])


def test_gradgradcheck_checks_the_recorded_first_derivative_too():
    """A wrong VJP differentiates consistently (2.1 x has derivative 2.1 both ways), so only
    the check of the first derivative against finite differences catches it."""
    x = leaf([0.5, -1.0, 2.0])
    with pytest.raises(GradcheckError, match="gradgradcheck \\(recorded first derivative\\)"):
        gradgradcheck(lambda t: _wrong_square(t), [x])
