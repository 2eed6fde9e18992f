"""tools.checks: strategies make valid cells; properties and `minigrad check` catch a
broken cell and pass the real ones."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import models
from minigrad.nn import Parameter, uniform
from minigrad.testing import GradcheckError
from models.cell import Cell
from tools.checks import properties, runner, strategies
from tools.cli import main


class DetachedRecurrenceCell(Cell):
    """Broken on purpose: the recurrent term is computed outside the graph, so BPTT
    misses the path through h_{t-1} while the forward pass still uses it."""
    kind = "detached_rnn"

    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        self.weight_ih = Parameter(uniform((hidden_size, input_size), 1.0))
        self.weight_hh = Parameter(uniform((hidden_size, hidden_size), 1.0))
        self.bias = Parameter(uniform((hidden_size,), 1.0))

    def step(self, projected, state):
        h, = state
        recurrent = mg.Tensor((h @ self.weight_hh.T).data)
        return ((projected @ self.weight_ih.T + recurrent + self.bias).tanh(),)


class PeekingCell(Cell):
    """Broken on purpose: its input projection mixes the whole sequence (a cumulative sum
    from the end), so h_t sees later inputs."""
    kind = "peeking_rnn"

    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        self.weight_ih = Parameter(uniform((hidden_size, input_size), 1.0))

    def input_projection(self, x):
        if x.ndim == 3:
            x = x + x.sum(axis=0, keepdims=True)
        return x @ self.weight_ih.T

    def step(self, projected, state):
        h, = state
        return ((projected + h).tanh(),)


def test_check_command_fails_on_broken_cell(capsys):
    status = main(["check", "--cell", f"{__name__}:DetachedRecurrenceCell",
                   "--property", "gradients", "--examples", "15", "--seed", "1"])
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL" in out and "falsifying example (shrunk)" in out
    assert "GradcheckError" in out


def test_check_command_loads_a_cell_from_a_file(tmp_path, capsys):
    source = tmp_path / "mycells.py"
    source.write_text("import models\n\n\nclass MyCell(models.GRUCell):\n    pass\n")
    status = main(["check", "--cell", f"{source}:MyCell", "--examples", "3",
                   "--property", "gradients,causality"])
    assert status == 0
    assert "pass (3)" in capsys.readouterr().out


def test_check_shrinks_to_a_small_example():
    result = runner.run_property("gradients", "broken", DetachedRecurrenceCell, 15, seed=1)
    assert result.status == "FAIL"
    # the smallest failing case needs two steps (the detached path matters from t=2)
    assert result.example.xs.shape[0] == 2
    assert result.example.spec.hidden_size == 1


def test_causality_property_catches_a_cell_that_sees_the_future():
    result = runner.run_property("causality", "peeking", PeekingCell, 15, seed=0)
    assert result.status == "FAIL"
    assert "later input" in result.error


def test_vjp_dot_product_catches_missing_gradient_path():
    cell = strategies.CellSpec("x", 2, 2, 3).build(constructor=DetachedRecurrenceCell)
    xs = np.random.default_rng(0).standard_normal((3, 1, 2))
    with pytest.raises(AssertionError, match="central difference"):
        properties.vjp_dot_product(cell, xs)


def test_check_command_passes_real_cells(capsys):
    status = main(["check", "--cell", "lstm,gru", "--examples", "5"])
    out = capsys.readouterr().out
    assert status == 0
    table = out.splitlines()
    assert table[0].split() == ["cell", *properties.PROPERTIES]
    lstm_row = next(line for line in table if line.startswith("lstm"))
    assert lstm_row.count("pass (5)") == 4
    gru_row = next(line for line in table if line.startswith("gru"))
    assert gru_row.count("pass (5)") == 3 and "n/a" in gru_row
    assert "000_*.txt prints it only in the first" in out


def test_check_command_rejects_unknown_cell(capsys):
    assert main(["check", "--cell", "transformer"]) == 2
    err = capsys.readouterr().err
    assert "--cell" in err and "transformer" in err and "Traceback" not in err


def test_user_cell_gradients_raises_for_broken_and_passes_for_real():
    with pytest.raises(AssertionError, match="gradients failed"):
        properties.user_cell_gradients(DetachedRecurrenceCell, max_examples=10, seed=1)
    results = properties.user_cell_gradients(strategies.CELL_KINDS["gru"], max_examples=3)
    assert all(r.passed for r in results)


def test_gradient_property_raises_gradcheck_error_directly():
    cell = strategies.CellSpec("x", 1, 1, 0).build(constructor=DetachedRecurrenceCell)
    with pytest.raises(GradcheckError):
        properties.unroll_gradients_match_finite_differences(cell, np.ones((3, 1, 1)))


@settings(max_examples=30)
@given(example=strategies.cells_and_sequences())
def test_strategies_generate_valid_cells_and_sequences(example):
    cell, xs = example.build()
    spec = example.spec
    assert cell.input_size == spec.input_size
    assert getattr(cell, "hidden_size", spec.hidden_size) == spec.hidden_size
    assert all(p.dtype == np.float64 for p in cell.parameters())
    assert xs.ndim == 3 and xs.shape[2] == spec.input_size
    assert 1 <= xs.shape[0] <= strategies.MAX_STEPS and 1 <= xs.shape[1] <= strategies.MAX_BATCH
    assert np.all((np.abs(xs) <= 2.0) & (np.abs(xs) >= 0.01))
    hs, _ = models.run_sequence(cell, mg.Tensor(xs))
    assert hs.shape[:2] == xs.shape[:2] and np.all(np.isfinite(hs.numpy()))
    # same spec, same cell: examples are reproducible from what the report prints
    again, _ = example.build()
    for a, b in zip(cell.parameters(), again.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@settings(max_examples=30)
@given(shapes=strategies.broadcastable_shapes(), data=st.data())
def test_broadcastable_shapes_broadcast(shapes, data):
    a, b = shapes
    expected = np.broadcast_shapes(a, b)
    x = mg.tensor(np.ones(a), requires_grad=True, dtype="float64")
    y = mg.tensor(np.ones(b), requires_grad=True, dtype="float64")
    out = x * y
    assert out.shape == expected
    out.sum().backward()
    assert x.grad.shape == a and y.grad.shape == b
    # every element of x was used prod(expected)/prod(a) times
    np.testing.assert_allclose(x.grad.numpy(), np.prod(expected) / max(np.prod(a), 1))


def test_every_kind_builds_with_every_small_size():
    for name, constructor in strategies.CELL_KINDS.items():
        for hidden in (1, 3):
            cell = strategies.CellSpec(name, 2, hidden, 0).build(constructor=constructor)
            hs, _ = models.run_sequence(cell, mg.Tensor(np.ones((2, 1, 2))))
            assert hs.shape[:2] == (2, 1), name


def test_bidirectional_is_exempt_from_causality_only():
    cell = strategies.CellSpec("bidirectional_lstm", 2, 2, 0).build()
    assert not properties.applies("causality", cell)
    assert properties.applies("gradients", cell)
    xs = np.random.default_rng(0).standard_normal((3, 1, 2))
    with pytest.raises(AssertionError, match="later input"):
        properties.causal(cell, xs)
