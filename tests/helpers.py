"""Helpers shared by several test files (plain functions; fixtures live in conftest.py)."""
import numpy as np

from tools import cli


def run_cli(argv):
    """The exit status of ``minigrad argv...``, whether returned or raised by argparse."""
    try:
        return cli.main(argv)
    except SystemExit as exit_info:
        return exit_info.code


def count_recorded_ops(outputs):
    """How many distinct op nodes the graph behind ``outputs`` recorded."""
    seen, stack, count = set(), [outputs], 0
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        count += t.op is not None
        stack.extend(t.parents)
    return count


def assert_greedy_decode_is_free_running_argmax(model, source, max_length=6):
    """``greedy_decode`` emits the argmax of the free-running decoder up to the first end
    token (id 1), and teacher-forcing those tokens reproduces the free-running outputs."""
    batch = source.shape[1]
    tokens = model.greedy_decode(source, max_length=max_length)
    free_running = model(source, np.zeros((max_length, batch), np.int64), teacher_forcing=0.0)
    expected = free_running.numpy().argmax(axis=2)
    for b in range(batch):
        column = expected[:, b]
        stop = int(np.argmax(column == 1)) + 1 if (column == 1).any() else max_length
        np.testing.assert_array_equal(tokens[:stop, b], column[:stop])
    teacher = model(source, expected, teacher_forcing=1.0)
    np.testing.assert_allclose(teacher.numpy(), free_running.numpy(), rtol=1e-10)
