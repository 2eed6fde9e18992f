"""The LSTM language-model configurations of the benchmark and their matmul FLOP count."""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LSTMConfig:
    """B sequences of T steps; one-hot inputs of size D, hidden size H, V classes."""
    name: str
    batch: int
    steps: int
    input_size: int
    hidden_size: int
    vocab: int

    def as_dict(self):
        return asdict(self)


CONFIGS = {
    "tiny": LSTMConfig("tiny", batch=2, steps=4, input_size=5, hidden_size=3, vocab=5),
    "small": LSTMConfig("small", batch=1, steps=25, input_size=65, hidden_size=100, vocab=65),
    "medium": LSTMConfig("medium", batch=32, steps=64, input_size=128, hidden_size=256,
                         vocab=128),
    "large": LSTMConfig("large", batch=64, steps=128, input_size=256, hidden_size=512,
                        vocab=256),
}
PUBLIC_CONFIGS = ("small", "medium", "large")


def step_matmul_flops(config):
    """Matmul FLOPs of one training step, forward and backward (2 FLOPs per multiply-add).

    With N = T*B rows and gates stacked (4H):
      input projection  X W_ih^T      forward 2N*D*4H, backward dW_ih 2N*D*4H (X needs no grad)
      recurrence        h W_hh^T      forward 2N*H*4H, backward dh and dW_hh 2 * 2N*H*4H
      head              h W_y^T       forward 2N*H*V,  backward dh and dW_y  2 * 2N*H*V
    total = 2N (8HD + 12H^2 + 3HV). The product dh_0 (one step of the recurrence backward)
    is counted though no system needs it; elementwise work is not counted.
    """
    n = config.steps * config.batch
    d, h, v = config.input_size, config.hidden_size, config.vocab
    return 2 * n * (8 * h * d + 12 * h * h + 3 * h * v)
