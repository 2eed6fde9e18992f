"""Losses as modules, with PyTorch's names: each calls its :mod:`minigrad.functional` twin."""
from . import functional as F
from .nn import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """-log softmax(logits)[target] (:func:`minigrad.functional.cross_entropy`)."""

    def forward(self, logits, targets):
        return F.cross_entropy(logits, targets, self.reduction)


class NLLLoss(_Loss):
    """-log_probs[target] (:func:`minigrad.functional.nll_loss`); pair with log_softmax."""

    def forward(self, log_probs, targets):
        return F.nll_loss(log_probs, targets, self.reduction)


class MSELoss(_Loss):
    """(prediction - target)^2, averaged or summed."""

    def forward(self, prediction, target):
        return F.mse_loss(prediction, target, self.reduction)
