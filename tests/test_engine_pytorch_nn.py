"""PyTorch's ``nn`` names: containers, Dropout, Identity, ``nn.init``, the loss modules and
``F.nll_loss``, and the Module methods PyTorch code calls; against NumPy references."""
import collections
import math

import numpy as np
import pytest
from test_engine_support import engine_backend, leaf  # noqa: F401

import minigrad as mg
from minigrad import functional as F
from minigrad import nn
from minigrad.testing import gradcheck


def _x(shape, seed=0, dtype="float32"):
    return leaf(np.random.default_rng(seed).standard_normal(shape), False, dtype=dtype)


def test_sequential_composes_and_names_by_position():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    model = nn.Sequential(first, nn.Identity(), nn.Dropout(0.3), second)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.weight",
                                                       "3.bias"]
    x = _x((5, 3))
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), second(first(x)).numpy())
    assert len(model) == 4 and model[0] is first and model[-1] is second
    assert isinstance(model[1:], nn.Sequential) and len(model[1:]) == 3
    named = nn.Sequential(collections.OrderedDict([("encoder", first), ("decoder", second)]))
    assert [n for n, _ in named.named_children()] == ["encoder", "decoder"]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(first, "relu")


def test_module_list_and_dict_register_their_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 3))
    assert len(layers) == 3 and layers[2].out_features == 3
    assert [n for n, _ in layers.named_parameters()][-2:] == ["2.weight", "2.bias"]
    with pytest.raises(NotImplementedError, match="ModuleList"):
        layers(_x((1, 2)))
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 4)})
    heads["c"] = nn.Identity()
    assert list(heads) == ["a", "b", "c"] and "b" in heads and heads["b"].out_features == 4
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                       "b.bias"]

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = layers

    assert len(list(Holder().parameters())) == 6


def test_dropout_scales_kept_elements_and_is_the_identity_in_eval():
    mg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = leaf(np.ones((200, 50)))
    y = drop(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="Dropout: p must lie"):
        nn.Dropout(-0.1)


def test_init_functions_fill_in_place_with_pytorch_formulas():
    mg.manual_seed(0)
    w = nn.Parameter(np.zeros((300, 200), np.float32))
    assert nn.init.uniform_(w, -2.0, 3.0) is w
    assert w.dtype == np.float32 and w.numpy().min() >= -2 and w.numpy().max() < 3
    assert abs(w.numpy().mean() - 0.5) < 0.05
    nn.init.normal_(w, 1.0, 0.5)
    assert abs(w.numpy().mean() - 1.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    nn.init.constant_(w, 0.25)
    assert np.all(w.numpy() == 0.25)
    nn.init.zeros_(w)
    assert np.all(w.numpy() == 0)
    nn.init.ones_(w)
    assert np.all(w.numpy() == 1)
    nn.init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (200 + 300))
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.99 * bound
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))      # nn.Linear's: bound 1/sqrt(fan_in)
    bound = 1 / math.sqrt(200)
    assert np.abs(w.numpy()).max() <= bound * (1 + 1e-6)
    assert np.abs(w.numpy()).max() > 0.99 * bound
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 300)
    assert bound * 0.99 < np.abs(w.numpy()).max() <= bound * (1 + 1e-6)
    conv = nn.Parameter(np.zeros((4, 3, 5), np.float32))   # fan_in = 3 * 5, fan_out = 4 * 5
    nn.init.xavier_uniform_(conv)
    assert np.abs(conv.numpy()).max() <= math.sqrt(6 / 35)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3, np.float32)))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2)])
def test_orthogonal_init(shape):
    w = nn.Parameter(np.zeros(shape, np.float64))
    nn.init.orthogonal_(w, gain=1.5)
    q = w.numpy().reshape(shape[0], -1) / 1.5
    small = min(q.shape)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def _nll_reference(log_probs, targets):
    return -log_probs[np.arange(len(targets)), targets]


def test_nll_and_cross_entropy_losses_match_numpy():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 4))
    targets = np.array([0, 3, 1, 1, 2])
    log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    x = leaf(logits)
    lp = F.log_softmax(x, dim=1)
    np.testing.assert_allclose(lp.numpy(), log_probs, rtol=1e-12)
    picked = _nll_reference(log_probs, targets)
    np.testing.assert_allclose(nn.NLLLoss()(lp, mg.tensor(targets)).item(), picked.mean())
    np.testing.assert_allclose(F.nll_loss(lp, targets, reduction="sum").item(), picked.sum())
    np.testing.assert_allclose(F.nll_loss(lp, targets, reduction="none").numpy(), picked)
    np.testing.assert_allclose(nn.CrossEntropyLoss()(x, targets).item(), picked.mean())
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="sum")(x, targets).item(),
                               picked.sum())
    assert gradcheck(lambda t: F.nll_loss(F.log_softmax(t, dim=-1), targets), [x])
    with pytest.raises(ValueError, match="NLLLoss: reduction"):
        nn.NLLLoss(reduction="avg")
    with pytest.raises(IndexError, match="nll_loss: target classes"):
        F.nll_loss(lp, np.array([0, 1, 2, 3, 4]))


def test_losses_accept_pytorchs_class_dimension():
    """(N, C, d) scores with (N, d) targets: PyTorch's layout, classes at dim 1."""
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((2, 5, 3))
    targets = rng.integers(0, 5, size=(2, 3))
    moved = np.moveaxis(logits, 1, -1)
    log_probs = moved - np.log(np.exp(moved).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    np.testing.assert_allclose(F.cross_entropy(leaf(logits), targets).item(), expected.mean())
    np.testing.assert_allclose(F.nll_loss(leaf(log_probs).permute(0, 2, 1), targets,
                                          reduction="none").numpy(), expected)


def test_mse_loss_module():
    a, b = _x((3, 2), 0, "float64"), _x((3, 2), 1, "float64")
    np.testing.assert_allclose(nn.MSELoss()(a, b).item(), ((a.numpy() - b.numpy()) ** 2).mean())
    np.testing.assert_allclose(nn.MSELoss(reduction="sum")(a, b).item(),
                               ((a.numpy() - b.numpy()) ** 2).sum())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(5, 3)
        self.rnn = nn.Linear(3, 3)
        self.decoder = nn.Linear(3, 5)
        self.decoder.weight = self.encoder.weight      # tied, as the word language model


def test_module_traversal_and_apply():
    net = Net()
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Embedding", "Linear", "Linear"]
    assert [n for n, _ in net.named_children()] == ["encoder", "rnn", "decoder"]
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Embedding", "Linear", "Linear", "Net"]          # children first
    params = net.parameters()
    assert iter(params) is params                                    # an iterator
    assert len(list(params)) == 4 and list(params) == []
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_module_dtype_casts():
    net = Net()
    before = net.rnn.weight.numpy().copy()
    assert net.double() is net
    assert all(p.dtype == np.float64 for p in net.parameters())
    np.testing.assert_array_equal(net.rnn.weight.numpy(), before)
    assert net.decoder.weight is net.encoder.weight                 # still tied
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.to("float64")
    assert net.rnn.bias.dtype == np.float64
    net.to("cpu")
    assert net.rnn.bias.backend == "numpy"


def test_load_state_dict_reports_missing_and_unexpected_keys():
    source, target = Net(), Net()
    state = source.state_dict()
    del state["rnn.bias"]
    state["extra"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"missing \['rnn.bias'\], unexpected \['extra'\]"):
        target.load_state_dict(state)
    result = target.load_state_dict(state, strict=False)
    assert result.missing_keys == ["rnn.bias"] and result.unexpected_keys == ["extra"]
    assert result == (["rnn.bias"], ["extra"])
    np.testing.assert_array_equal(target.rnn.weight.numpy(), source.rnn.weight.numpy())
    assert not np.array_equal(target.rnn.bias.numpy(), source.rnn.bias.numpy())


def test_a_state_dict_with_both_keys_of_a_tied_pair_loads():
    source, target = Net(), Net()
    state = source.state_dict()
    assert "decoder.weight" not in state                  # listed once, as before
    state["decoder.weight"] = state["encoder.weight"].copy()     # as PyTorch writes it
    assert target.load_state_dict(state) == ([], [])
    np.testing.assert_array_equal(target.decoder.weight.numpy(), source.encoder.weight.numpy())
    assert target.decoder.weight is target.encoder.weight
    only_decoder = dict(state)
    del only_decoder["encoder.weight"]
    assert Net().load_state_dict(only_decoder) == ([], [])
    state["decoder.weight"] = state["decoder.weight"] + 1
    with pytest.raises(ValueError, match="tied parameter here but hold different values"):
        target.load_state_dict(state)


def test_activation_modules_in_a_sequential_match_numpy():
    """nn.Tanh, nn.ReLU, nn.Sigmoid as modules, so torch's Sequential(Linear, Tanh(), ...)
    runs unchanged; checked against the same layers written in NumPy."""
    mg.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(),
                        nn.Linear(4, 2), nn.Sigmoid())
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    (w0, b0), (w1, b1), (w2, b2) = [(m.weight.numpy(), m.bias.numpy()) for m in net[::2]]
    h = np.maximum(0, np.tanh(x @ w0.T + b0) @ w1.T + b1)
    expected = 1 / (1 + np.exp(-(h @ w2.T + b2)))
    np.testing.assert_allclose(net(mg.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert [n for n, _ in net.named_children()] == ["0", "1", "2", "3", "4", "5"]


def test_dropout_of_one_drops_everything_as_torch():
    x = mg.ones(2, 3, requires_grad=True)
    dropped = nn.Dropout(1.0)(x)
    np.testing.assert_array_equal(dropped.numpy(), np.zeros((2, 3)))
    dropped.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Dropout: p must lie in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_gradient_clipping_under_torch_nn_utils_and_float_of_its_norm():
    w = mg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    (w * w).sum().backward()                                    # grad (6, 8), norm 10
    norm = nn.utils.clip_grad_norm_([w], 1.0)
    assert float(norm) == 10.0 and int(mg.tensor(7.9)) == 7
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-6)
    nn.utils.clip_grad_value_(w, 0.7)
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.7], rtol=1e-6)
    with pytest.raises(ValueError, match=r"item\(\): tensor of shape \(2,\) has 2 elements"):
        float(w)
