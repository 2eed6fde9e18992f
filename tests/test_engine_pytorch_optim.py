"""PyTorch's optimisers (AdamW, Adagrad, RMSprop), parameter groups, ``zero_grad`` and the
learning-rate schedulers, each against a NumPy transcription of the pseudo-code in
PyTorch's documentation (``torch.optim.*``, ``torch.optim.lr_scheduler.*``)."""
import math

import numpy as np
import pytest
from test_engine_support import engine_backend, leaf  # noqa: F401

import minigrad as mg
from minigrad import optim
from minigrad.nn import Parameter
from minigrad.optim import lr_scheduler


def _problem(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 2)), rng.standard_normal((3, 2))


def _gradient(w, target):
    """d/dw of sum((w - target)^2 * (1 + w^2)) / 2."""
    return (w - target) * (1 + w ** 2) + (w - target) ** 2 * w


def _loss(param, target):
    diff = param - leaf(target, requires_grad=False)
    return (diff * diff * (param * param + 1.0)).sum() * 0.5


def _run(optimizer, param, target, steps=6):
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(param, target).backward()
        optimizer.step()
        yield param.numpy()


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adamw_matches_pytorchs_pseudo_code(weight_decay):
    start, target = _problem(1)
    param = Parameter(leaf(start))
    lr, (beta1, beta2), eps = 0.02, (0.8, 0.95), 1e-8
    optimizer = mg.optim.AdamW([param], lr=lr, betas=(beta1, beta2), eps=eps,
                               weight_decay=weight_decay)
    theta, m, v = start.copy(), 0 * start, 0 * start
    for t, value in enumerate(_run(optimizer, param, target), start=1):
        g = _gradient(theta, target)
        theta = theta - lr * weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(value, theta, rtol=1e-10, atol=1e-13)
    assert mg.optim.AdamW([param]).defaults["weight_decay"] == 1e-2


def test_adamw_decay_differs_from_adams_l2():
    start, target = _problem(2)
    a, b = Parameter(leaf(start)), Parameter(leaf(start))
    last_a = list(_run(mg.optim.Adam([a], lr=0.1, weight_decay=0.5), a, target))[-1]
    last_b = list(_run(mg.optim.AdamW([b], lr=0.1, weight_decay=0.5), b, target))[-1]
    assert np.abs(last_a - last_b).max() > 1e-3


@pytest.mark.parametrize("lr_decay, weight_decay, initial", [(0.0, 0.0, 0.0), (0.1, 0.05, 0.3)])
def test_adagrad_matches_pytorchs_pseudo_code(lr_decay, weight_decay, initial):
    start, target = _problem(3)
    param = Parameter(leaf(start))
    lr, eps = 0.1, 1e-10
    optimizer = mg.optim.Adagrad([param], lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                 initial_accumulator_value=initial, eps=eps)
    theta, state_sum = start.copy(), np.full_like(start, initial)
    for t, value in enumerate(_run(optimizer, param, target), start=1):
        g = _gradient(theta, target)
        clr = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * theta
        state_sum = state_sum + g * g
        theta = theta - clr * g / (np.sqrt(state_sum) + eps)
        np.testing.assert_allclose(value, theta, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("momentum, centered, weight_decay",
                         [(0.0, False, 0.0), (0.9, False, 0.0), (0.0, True, 0.1), (0.5, True, 0.0)])
def test_rmsprop_matches_pytorchs_pseudo_code(momentum, centered, weight_decay):
    start, target = _problem(4)
    param = Parameter(leaf(start))
    lr, alpha, eps = 0.01, 0.9, 1e-8
    optimizer = mg.optim.RMSprop([param], lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                                 centered=centered, weight_decay=weight_decay)
    theta, v, g_ave, b = start.copy(), 0 * start, 0 * start, 0 * start
    for value in _run(optimizer, param, target):
        g = _gradient(theta, target) + weight_decay * theta
        v = alpha * v + (1 - alpha) * g ** 2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave ** 2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        np.testing.assert_allclose(value, theta, rtol=1e-10, atol=1e-13)


def test_param_groups_each_use_their_own_options():
    start, target = _problem(5)
    slow, fast = Parameter(leaf(start)), Parameter(leaf(start))
    optimizer = mg.optim.SGD([{"params": [slow]}, {"params": fast, "lr": 0.1}], lr=0.01,
                             momentum=0.0)
    assert [g["lr"] for g in optimizer.param_groups] == [0.01, 0.1]
    assert optimizer.param_groups[1]["momentum"] == 0.0 and optimizer.params == [slow, fast]
    optimizer.zero_grad()
    (_loss(slow, target) + _loss(fast, target)).backward()
    optimizer.step()
    g = _gradient(start, target)
    np.testing.assert_allclose(slow.numpy(), start - 0.01 * g, rtol=1e-12)
    np.testing.assert_allclose(fast.numpy(), start - 0.1 * g, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown options \\['betas'\\]"):
        mg.optim.SGD([{"params": [slow], "betas": (0.9, 0.9)}])
    with pytest.raises(ValueError, match="more than one group"):
        mg.optim.SGD([{"params": [slow]}, {"params": [slow]}])


def test_zero_grad_set_to_none_or_zeros():
    p = Parameter(leaf([1.0, 2.0]))
    optimizer = mg.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    optimizer.zero_grad()
    assert p.grad is None


def _cosine_recursive(base, eta_min, t_max, epochs):
    """torch.optim.lr_scheduler.CosineAnnealingLR.get_lr: the recursive form."""
    lrs, lr = [base], base
    for epoch in range(1, epochs):
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            lr = lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        else:
            lr = (1 + math.cos(math.pi * epoch / t_max)) / (
                1 + math.cos(math.pi * (epoch - 1) / t_max)) * (lr - eta_min) + eta_min
        lrs.append(lr)
    return lrs


@pytest.mark.parametrize("make, expected", [
    (lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
     lambda base: [base * 0.5 ** (e // 3) for e in range(12)]),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
     lambda base: [base * 0.9 ** e for e in range(12)]),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
     lambda base: _cosine_recursive(base, 0.001, 4, 12)),
])
def test_schedulers_follow_pytorchs_formulas(make, expected):
    a, b = Parameter(leaf([1.0])), Parameter(leaf([2.0]))
    optimizer = mg.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    scheduler = make(optimizer)
    seen = []
    for _ in range(12):
        seen.append(scheduler.get_last_lr())
        optimizer.zero_grad()
        (a * b).sum().backward()
        optimizer.step()
        scheduler.step()
    for group, base in enumerate((0.1, 0.5)):
        np.testing.assert_allclose([lrs[group] for lrs in seen], expected(base), rtol=1e-12)


def test_learning_rate_survives_an_optimizer_checkpoint():
    p, q = Parameter(leaf([1.0])), Parameter(leaf([1.0]))
    first = mg.optim.Adam([p], lr=0.1)
    scheduler = lr_scheduler.StepLR(first, step_size=1, gamma=0.5)
    for _ in range(3):
        first.zero_grad()
        (p * p).sum().backward()
        first.step()
        scheduler.step()
    second = mg.optim.Adam([q], lr=0.1)
    second.load_state_dict(first.state_dict())
    assert second.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)
    resumed = lr_scheduler.StepLR(second, step_size=1, gamma=0.5)
    resumed.load_state_dict(scheduler.state_dict())
    resumed.step()
    scheduler.step()
    assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_pytorch_names_of_the_clipping_functions():
    params = []
    for g in ([3.0, 4.0], [12.0]):
        p = Parameter(leaf(np.zeros(len(g))))
        p.grad = leaf(g, requires_grad=False)
        params.append(p)
    norm = mg.optim.clip_grad_norm_(iter(params), max_norm=6.5)
    assert isinstance(norm, mg.Tensor) and norm.item() == pytest.approx(13.0)
    np.testing.assert_allclose(params[0].grad.numpy(), [1.5, 2.0], rtol=1e-6)
    mg.optim.clip_grad_value_(params[1], 1.0)
    np.testing.assert_array_equal(params[1].grad.numpy(), [1.0])
    with pytest.raises(ValueError, match="norm_type"):
        mg.optim.clip_grad_norm_(params, 1.0, norm_type=1)


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), r"SGD: lr must be a non-negative number, got -1 \(param group 0\)"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "SGD: momentum must be a non-negative"),
    (lambda p: optim.Adam(p, lr=float("nan")), "Adam: lr must be a non-negative number, got nan"),
    (lambda p: optim.AdamW(p, weight_decay=-0.1), "AdamW: weight_decay must be"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), r"Adam: betas must lie in \[0, 1\)"),
    (lambda p: optim.RMSprop(p, alpha=-0.9), "RMSprop: alpha must be"),
    (lambda p: optim.Adagrad([{"params": p[:1]}, {"params": p[1:], "lr": -0.1}]),
     r"Adagrad: lr must be a non-negative number, got -0.1 \(param group 1\)"),
])
def test_bad_hyperparameters_are_refused_by_name(make, message):
    """torch refuses these; a negative lr would otherwise climb the loss without a word."""
    params = [mg.zeros(2, requires_grad=True), mg.zeros(3, requires_grad=True)]
    with pytest.raises(ValueError, match=message):
        make(params)


@pytest.mark.parametrize("make, following", [
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
     lambda lr, epoch: lr * 0.5 if epoch % 2 == 0 else lr),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9), lambda lr, epoch: lr * 0.9),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
     lambda lr, epoch: (1 + math.cos(math.pi * epoch / 4)) / (
         1 + math.cos(math.pi * (epoch - 1) / 4)) * (lr - 0.01) + 0.01),
])
def test_a_learning_rate_set_by_hand_is_carried_on_as_in_torch(make, following):
    """torch's schedulers change the group's current lr (chainable form): after setting
    lr = 0.3 by hand (warm-up, ReduceLROnPlateau-style code), the next steps go on from
    0.3. The closed form in base lr and epoch threw the hand-set value away."""
    p = Parameter(leaf([1.0]))
    optimizer = mg.optim.SGD([p], lr=1.0)
    scheduler = make(optimizer)
    scheduler.step()                                        # epoch 1
    optimizer.param_groups[0]["lr"] = lr = 0.3
    for epoch in (2, 3):
        scheduler.step()
        lr = following(lr, epoch)
        assert scheduler.get_last_lr()[0] == pytest.approx(lr, rel=1e-12), epoch
