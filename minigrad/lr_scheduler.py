"""Learning-rate schedules, with ``torch.optim.lr_scheduler``'s names: call ``step()`` once
per epoch (or per update), after ``optimizer.step()``. As in PyTorch, each step changes
every group's *current* ``lr`` (the chainable form of ``get_lr``), so an lr set by hand,
or by another scheduler, is carried on rather than overwritten; without such changes this
equals the closed form in the epoch count t (``lr_at``), which the first step and
``load_state_dict`` use."""
import math


class LRScheduler:
    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch + 1       # the first step: the closed form
        self._set_closed_form()

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError(f"{type(self).__name__}.lr_at")

    def next_lr(self, lr, base_lr, epoch):
        """The lr of ``epoch`` from the group's current ``lr`` (that of epoch - 1)."""
        raise NotImplementedError(f"{type(self).__name__}.next_lr")

    def step(self):
        self.last_epoch += 1
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.next_lr(group["lr"], base, self.last_epoch)

    def _set_closed_form(self):
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state):
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = [float(lr) for lr in state["base_lrs"]]
        self._set_closed_form()


class StepLR(LRScheduler):
    """lr_t = lr_0 * gamma^floor(t / step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if step_size <= 0:
            raise ValueError(f"StepLR: step_size must be positive, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)

    def next_lr(self, lr, base_lr, epoch):
        return lr * self.gamma if epoch and epoch % self.step_size == 0 else lr


class ExponentialLR(LRScheduler):
    """lr_t = lr_0 * gamma^t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch

    def next_lr(self, lr, base_lr, epoch):
        return lr * self.gamma if epoch else lr


class CosineAnnealingLR(LRScheduler):
    """lr_t = eta_min + (lr_0 - eta_min) (1 + cos(pi t / T_max)) / 2  (Loshchilov & Hutter
    2017, without restarts)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (
            1 + math.cos(math.pi * epoch / self.T_max)) / 2

    def next_lr(self, lr, base_lr, epoch):
        """PyTorch's recursive form: lr_t - eta_min scaled by the ratio of successive
        (1 + cos) terms; at the cosine's minimum, the step back up of the closed form."""
        if epoch == 0:
            return lr
        if (epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return lr + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
        return (1 + math.cos(math.pi * epoch / self.T_max)) / (
            1 + math.cos(math.pi * (epoch - 1) / self.T_max)) * (lr - self.eta_min) + self.eta_min
