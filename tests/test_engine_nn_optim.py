"""``minigrad.nn`` (registration, naming, state dicts, modes) and ``minigrad.optim``
(SGD with momentum and Adam against NumPy transcriptions of their update rules, gradient
clipping)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_support import arrays, engine_backend, floats, index_array, leaf  # noqa: F401

import minigrad as mg
from minigrad.nn import Linear, Module, Parameter


class Block(Module):
    def __init__(self):
        super().__init__()
        self.first = Linear(3, 4)
        self.scale = Parameter(leaf(np.ones(4), dtype="float32"))
        self.second = Linear(4, 2, bias=False)

    def forward(self, x):
        return self.second((self.first(x) * self.scale).tanh())


class Tied(Module):
    def __init__(self):
        super().__init__()
        self.encoder = Linear(3, 3)
        self.decoder = Linear(3, 3)
        self.decoder.weight = self.encoder.weight     # shared: listed once


def test_modules_and_parameters_are_registered_in_order():
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.weight"]
    assert [id(p) for p in block.parameters()] == [id(p) for _, p in block.named_parameters()]
    assert [name for name, _ in block.named_modules()] == ["", "first", "second"]


def test_shared_parameters_are_listed_once():
    tied = Tied()
    names = [name for name, _ in tied.named_parameters()]
    assert names == ["encoder.weight", "encoder.bias", "decoder.bias"]
    assert len(list(tied.parameters())) == 3


def test_reassigning_an_attribute_unregisters_it():
    block = Block()
    block.scale = None
    block.second = "not a module"
    assert [n for n, _ in block.named_parameters()] == ["first.weight", "first.bias"]


def test_module_without_super_init_is_a_clear_error():
    class Broken(Module):
        def __init__(self):
            self.weight = Parameter(np.ones(2, dtype=np.float32))

    with pytest.raises(RuntimeError, match=r"Broken: call super\(\).__init__\(\)"):
        Broken()


def test_state_dict_round_trip():
    source, target = Block(), Block()
    state = source.state_dict()
    assert list(state) == [n for n, _ in source.named_parameters()]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["scale"][0] = 99.0                      # a copy: the module is unchanged
    assert source.scale.numpy()[0] == 1.0
    target.load_state_dict(source.state_dict())
    for (name, p), (_, q) in zip(source.named_parameters(), target.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
        assert q.dtype == np.float32
    x = leaf(np.random.default_rng(0).standard_normal((5, 3)), False, dtype="float32")
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


def test_train_eval_reach_every_submodule():
    block = Block()
    assert block.training and block.first.training
    assert block.eval() is block
    assert not block.training and not block.first.training and not block.second.training
    block.train()
    assert block.second.training


def test_zero_grad_clears_every_parameter():
    block = Block()
    block(leaf(np.ones((2, 3)), False, dtype="float32")).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


@settings(max_examples=20)
@given(data=st.data())
def test_linear_is_x_times_w_transposed_plus_b(data):
    batch = data.draw(st.sampled_from([(), (2,), (2, 3)]))
    layer = Linear(4, 3)
    x_values = data.draw(arrays(batch + (4,)))
    out = layer(mg.tensor(x_values, dtype="float32", backend_name=mg.get_backend()))
    expected = x_values.astype(np.float32) @ layer.weight.numpy().T + layer.bias.numpy()
    assert out.shape == batch + (3,) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    bound = 1 / np.sqrt(4)
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert Linear(4, 3, bias=False).bias is None


def test_embedding_module_looks_up_rows():
    table = mg.nn.Embedding(5, 2)
    rows = table(mg.tensor(index_array([[4, 0], [4, 4]])))
    np.testing.assert_array_equal(rows.numpy(), table.weight.numpy()[[[4, 0], [4, 4]]])
    rows.sum().backward()
    np.testing.assert_array_equal(table.weight.grad.numpy()[:, 0], [1, 0, 0, 0, 3])


def _quadratic_problem(seed):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((3, 2))
    target = rng.standard_normal((3, 2))
    return start, target


def _gradient(w, target):
    """Gradient of sum((w - target)^2 * (1 + w^2)) / 2, a non-linear loss."""
    return (w - target) * (1 + w ** 2) + (w - target) ** 2 * w


def _loss(param, target):
    diff = param - leaf(target, requires_grad=False)
    return (diff * diff * (param * param + 1.0)).sum() * 0.5


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.5, 0.1)])
def test_sgd_matches_its_update_rule(momentum, weight_decay):
    start, target = _quadratic_problem(1)
    param = Parameter(leaf(start))
    optimizer = mg.optim.SGD([param], lr=0.05, momentum=momentum, weight_decay=weight_decay)
    w, velocity = start.copy(), None
    for _ in range(5):
        optimizer.zero_grad()
        _loss(param, target).backward()
        optimizer.step()
        g = _gradient(w, target) + weight_decay * w
        velocity = g if velocity is None or not momentum else momentum * velocity + g
        w = w - 0.05 * (velocity if momentum else g)
        np.testing.assert_allclose(param.numpy(), w, rtol=1e-10)


@pytest.mark.parametrize("betas, weight_decay", [((0.9, 0.999), 0.0), ((0.5, 0.9), 0.01)])
def test_adam_matches_its_update_rule(betas, weight_decay):
    start, target = _quadratic_problem(2)
    param = Parameter(leaf(start))
    lr, eps = 0.01, 1e-8
    optimizer = mg.optim.Adam([param], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    w, m, v = start.copy(), np.zeros_like(start), np.zeros_like(start)
    beta1, beta2 = betas
    for step in range(1, 6):
        optimizer.zero_grad()
        _loss(param, target).backward()
        optimizer.step()
        g = _gradient(w, target) + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(param.numpy(), w, rtol=1e-9, atol=1e-12)


def test_optimizers_skip_parameters_without_gradient():
    used, unused = Parameter(leaf([1.0, 2.0])), Parameter(leaf([3.0, 4.0]))
    for optimizer in (mg.optim.SGD([used, unused], lr=0.1, momentum=0.9),
                      mg.optim.Adam([used, unused], lr=0.1)):
        optimizer.zero_grad()
        (used * used).sum().backward()
        optimizer.step()
        np.testing.assert_array_equal(unused.numpy(), [3.0, 4.0])


def test_optimizer_state_dict_round_trip():
    start, target = _quadratic_problem(3)
    param_a, param_b = Parameter(leaf(start)), Parameter(leaf(start))
    first = mg.optim.Adam([param_a], lr=0.01)
    for _ in range(3):
        first.zero_grad()
        _loss(param_a, target).backward()
        first.step()
    second = mg.optim.Adam([param_b], lr=0.01)
    second.load_state_dict(first.state_dict())
    param_b.data = param_a.data.copy()
    for optimizer, param in ((first, param_a), (second, param_b)):
        optimizer.zero_grad()
        _loss(param, target).backward()
        optimizer.step()
    np.testing.assert_array_equal(param_a.numpy(), param_b.numpy())


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = Parameter(leaf(np.zeros_like(g)))
        p.grad = leaf(g, requires_grad=False)
        params.append(p)
    return params


def torch_clip_grad_norm(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_ (norm_type 2), transcribed to NumPy: the norm of the
    per-tensor norms, clip_coef = max_norm / (total_norm + 1e-6) clamped to at most 1, and
    every gradient multiplied by it."""
    total_norm = np.linalg.norm(np.stack([np.linalg.norm(g.reshape(-1)) for g in grads]))
    clip_coef = min(max_norm / (total_norm + 1e-6), 1.0)
    return total_norm, [g * clip_coef for g in grads]


@given(data=st.data())
def test_clip_grad_norm_matches_pytorch_number_for_number(data):
    grads = [data.draw(arrays(shape, floats(-3, 3))) for shape in [(2, 3), (4,)]]
    max_norm = data.draw(st.floats(0.1, 5.0))
    params = _params_with_grads(grads)
    returned = mg.optim.clip_grad_norm(params, max_norm)
    expected_norm, expected = torch_clip_grad_norm(grads, max_norm)
    assert returned == pytest.approx(expected_norm, rel=1e-14, abs=1e-300)
    for e, p in zip(expected, params):
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=1e-14, atol=1e-300)  # subnormals


@pytest.mark.parametrize("norm", [2.0, 2.0 - 5e-7, 2.0 - 2e-6, 40.0])
def test_clip_grad_norm_epsilon_is_pytorchs(norm):
    """At max_norm = 2 a norm within 1e-6 below it is already scaled (by 2 / (norm + 1e-6)),
    as in PyTorch; one further below is not; a large one lands at 2 (norm + 1e-6) / norm."""
    grads = [np.array([norm * 0.6, 0.0]), np.array([norm * 0.8])]
    params = _params_with_grads(grads)
    mg.optim.clip_grad_norm(params, 2.0)
    _, expected = torch_clip_grad_norm(grads, 2.0)
    for e, p in zip(expected, params):
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=1e-15, atol=0)
    scaled = not np.array_equal(params[1].grad.numpy(), grads[1])
    assert scaled == (norm + 1e-6 > 2.0)


def test_clip_grad_norm_float32_scales_in_the_gradient_dtype():
    grads = [np.array([3.0, 4.0], dtype=np.float32)]
    params = [Parameter(leaf(np.zeros(2), dtype="float32"))]
    params[0].grad = leaf(grads[0], requires_grad=False, dtype="float32")
    mg.optim.clip_grad_norm(params, 1.0)
    assert params[0].grad.dtype == np.float32
    np.testing.assert_array_equal(params[0].grad.numpy(),
                                  grads[0] * np.float32(1.0 / (5.0 + 1e-6)))


@given(data=st.data())
def test_clip_grad_value(data):
    grads = [data.draw(arrays(shape, floats(-3, 3))) for shape in [(2, 3), (4,)]]
    limit = data.draw(st.floats(0.1, 2.0))
    params = _params_with_grads(grads)
    params.append(Parameter(leaf([1.0])))          # no gradient: left alone
    mg.optim.clip_grad_value(params, limit)
    for g, p in zip(grads, params):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -limit, limit))
    assert params[-1].grad is None


class Normalised(mg.nn.Module):
    """A layer with a buffer: a fixed (not trained) scale, saved and moved with the module."""

    def __init__(self):
        super().__init__()
        self.inner = mg.nn.Linear(3, 2)
        self.register_buffer("scale", mg.Tensor(np.array([2.0, 0.5])))

    def forward(self, x):
        return self.inner(x) * self.scale


def test_buffers_are_state_but_not_parameters():
    outer = mg.nn.Module()
    outer.block = Normalised()
    assert [n for n, _ in outer.named_buffers()] == ["block.scale"]
    assert "block.scale" not in dict(outer.named_parameters())
    state = outer.state_dict()
    assert list(state) == ["block.inner.weight", "block.inner.bias", "block.scale"]
    np.testing.assert_array_equal(state["block.scale"], [2.0, 0.5])
    state["block.scale"] = np.array([3.0, 4.0])
    outer.load_state_dict(state)
    np.testing.assert_array_equal(outer.block.scale.numpy(), [3.0, 4.0])
    assert outer.block.scale.dtype == np.float64          # the buffer keeps its dtype
    outer.block.scale = mg.Tensor(np.array([1.0, 1.0]))   # reassigning keeps it a buffer
    assert outer.block.buffers()[0] is outer.block.scale
    with pytest.raises(TypeError, match="scale is a buffer: assign a Tensor"):
        outer.block.scale = 1.0
    with pytest.raises(TypeError, match="not a Parameter"):
        outer.block.register_buffer("w", mg.nn.Parameter(np.ones(2)))


def test_buffers_move_with_to(monkeypatch):
    """.to() moves buffers like parameters (checked here with a stand-in backend move)."""
    block = Normalised()
    moved = []

    def to_backend(array, name):
        moved.append(array.shape)
        return array.copy()

    monkeypatch.setattr(mg.backend, "to_backend", to_backend)
    monkeypatch.setattr(mg.Tensor, "backend", property(lambda self: "elsewhere"))
    block.to("numpy")
    assert sorted(moved) == [(2,), (2,), (2, 3)]


@pytest.mark.parametrize("bad, message", [
    (np.array(["a", "b"]), r"inner.bias must hold numbers, got dtype <U1"),
    (np.array([1.0, np.nan]), r"inner.bias holds 1 NaN or Inf values \(as float32\) of 2"),
    (np.array([1e300, 0.0]), r"inner.bias holds 1 NaN or Inf values \(as float32\)"),
    (np.array([[1.0, 2.0]]), r"inner.bias has shape \(2,\) here, \(1, 2\)"),
])
def test_load_state_dict_is_all_or_nothing(bad, message):
    """Validated before anything changes: the entries before the bad one stay as they were."""
    block = Normalised()
    before = block.state_dict()
    state = Normalised().state_dict()
    state["inner.bias"] = bad
    with pytest.raises((TypeError, ValueError), match=message):
        block.load_state_dict(state)
    for name, value in block.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
