"""The benchmark harness computes what it claims: references agree with minigrad, the
harness interleaves its runs and emits the promised JSON lines. No timing is asserted."""
import json

import numpy as np
import pytest

from tools import cli
from tools.bench import engine, lstm, memory, runner, timing
from tools.bench.configs import CONFIGS, LSTMConfig, step_matmul_flops
from tools.bench.numpy_lstm import PARAMETER_NAMES, loss_and_grads
from tools.bench.problem import MinigradLM, make_problem


@pytest.mark.parametrize("config", [
    CONFIGS["tiny"],
    LSTMConfig("odd", batch=3, steps=5, input_size=4, hidden_size=6, vocab=7),
])
def test_numpy_reference_matches_minigrad_in_float64(config):
    params, xs, targets = make_problem(config, dtype=np.float64, seed=1)
    model = MinigradLM(params, xs, targets)
    loss = model.step()
    reference_loss, reference_grads = loss_and_grads(params, xs, targets)
    assert loss == pytest.approx(reference_loss, rel=1e-12)
    grads = model.grads()
    assert set(reference_grads) == set(PARAMETER_NAMES)
    for name in PARAMETER_NAMES:
        assert grads[name].dtype == np.float64
        np.testing.assert_allclose(reference_grads[name], grads[name], rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_numpy_reference_gradient_matches_finite_differences():
    params, xs, targets = make_problem(CONFIGS["tiny"], dtype=np.float64, seed=2)
    _, grads = loss_and_grads(params, xs, targets)
    rng = np.random.default_rng(0)
    for name in PARAMETER_NAMES:
        index = tuple(rng.integers(0, n) for n in params[name].shape)
        eps = 1e-6
        original = params[name][index]
        params[name][index] = original + eps
        up, _ = loss_and_grads(params, xs, targets)
        params[name][index] = original - eps
        down, _ = loss_and_grads(params, xs, targets)
        params[name][index] = original
        assert grads[name][index] == pytest.approx((up - down) / (2 * eps), abs=1e-8), name


def test_problem_is_float32_and_one_hot():
    params, xs, targets = make_problem(CONFIGS["small"])
    assert all(p.dtype == np.float32 for p in params.values())
    assert xs.dtype == np.float32 and xs.shape == (25, 1, 65)
    np.testing.assert_array_equal(xs.sum(axis=2), 1)
    assert targets.shape == (25, 1) and targets.dtype.kind == "i"


def test_flop_formula_counts_each_product_of_a_step():
    config = LSTMConfig("c", batch=2, steps=3, input_size=5, hidden_size=7, vocab=11)
    n, d, h, v = 6, 5, 7, 11
    forward = 2 * n * d * 4 * h + 2 * n * h * 4 * h + 2 * n * h * v
    backward = 2 * n * d * 4 * h + 2 * (2 * n * h * 4 * h) + 2 * (2 * n * h * v)
    assert step_matmul_flops(config) == forward + backward


@pytest.mark.parametrize("build", [engine._mul_chain, engine._matmul_chain])
def test_engine_baselines_compute_the_engines_gradients(build):
    minigrad_side, numpy_side = build(5)
    for ours, bare in zip(minigrad_side(), numpy_side()):
        np.testing.assert_allclose(ours, bare, rtol=1e-4, atol=1e-5 * np.abs(bare).max())


def test_single_op_baseline_computes_the_engines_gradients():
    minigrad_side, numpy_side = engine._mul_sum()
    for ours, bare in zip(minigrad_side(), numpy_side()):
        np.testing.assert_allclose(ours, bare)


def test_interleaved_runs_systems_in_turn():
    calls = []
    systems = {name: (lambda name=name: calls.append(name)) for name in "ABC"}
    times = timing.interleaved(systems, repeats=3, warmup=1, inner=1)
    assert calls == list("ABC") + list("ABC") * 3
    assert all(len(t) == 3 and min(t) >= 0 for t in times.values())


def test_summary_median_and_spread():
    stats = timing.summary([4.0, 1.0, 3.0, 2.0, 5.0])
    assert stats["median_s"] == 3.0 and stats["min_s"] == 1.0 and stats["runs"] == 5
    assert stats["iqr_rel"] > 0


def test_lstm_suite_on_tiny_config_reports_every_system():
    results = lstm.run(CONFIGS["tiny"], repeats=2, with_torch=False, peak=1.0)
    systems = {r["system"]: r for r in results}
    assert set(systems) == {"minigrad", "minigrad-compiled", "numpy-reference"}
    assert systems["numpy-reference"]["ratio_to_numpy_reference"] == 1.0
    flops = step_matmul_flops(CONFIGS["tiny"])
    for r in results:
        assert r["median_s"] > 0 and r["runs"] == 2
        assert r["achieved_gflops"] == pytest.approx(flops / r["median_s"] / 1e9)
        assert r["peak_gflops"] == max(1.0, r["peak_gflops_in_rounds"])
        assert r["percent_of_peak"] == pytest.approx(100 * r["achieved_gflops"] /
                                                     r["peak_gflops"])
    assert systems["minigrad"]["grad_rel_diff_vs_numpy"] < 1e-4
    assert systems["minigrad-compiled"]["grad_rel_diff_vs_numpy"] == \
        systems["minigrad"]["grad_rel_diff_vs_numpy"]      # replayed: the same gradients
    assert systems["numpy-reference"]["grad_rel_diff_vs_numpy"] == 0


def test_checkpointed_segments_give_plain_bptt_gradients_with_less_memory():
    model = memory.SmallLM(steps=60, batch=2)
    plain_loss, plain_grads = model.train_step()
    ckpt_loss, ckpt_grads = model.train_step(segment_steps=8)
    assert ckpt_loss == pytest.approx(plain_loss, rel=1e-5)
    for a, b in zip(plain_grads, ckpt_grads):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    result = memory.compare(steps=100)
    assert result["checkpoint_peak_mb"] < result["plain_peak_mb"]
    assert result["peak_ratio"] == pytest.approx(
        result["checkpoint_peak_mb"] / result["plain_peak_mb"])


def test_long_sequence_reports_a_finite_step():
    result = memory.long_sequence(steps=30)
    assert result["finite"] and result["segment_steps"] == 6 and result["seconds"] > 0


@pytest.mark.slow
def test_harness_end_to_end_writes_json_lines(tmp_path, capsys):
    path = tmp_path / "bench.jsonl"
    status = runner.main(["--suite", "lstm", "--config", "small", "--repeats", "1",
                          "--no-torch", "--json", str(path)])
    assert status == 0
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0]["suite"] == "machine" and rows[0]["peak_gflops_float32_2048"] > 0
    lstm_rows = [r for r in rows if r["suite"] == "lstm"]
    assert {r["system"] for r in lstm_rows} == {"minigrad", "minigrad-compiled",
                                                "numpy-reference"}
    expected = {"config", "system", "median_s", "min_s", "iqr_rel", "achieved_gflops",
                "percent_of_peak", "ratio_to_numpy_reference", "batch", "steps",
                "input_size", "hidden_size", "vocab", "threads"}
    for r in lstm_rows:
        assert expected <= set(r)
    assert "numpy-reference" in capsys.readouterr().out


def test_cli_reports_a_missing_json_directory_in_one_line(tmp_path, capsys):
    status = cli.main(["bench", "--suite", "engine", "--json",
                       str(tmp_path / "missing" / "out.jsonl")])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert "--json" in err and len(err.splitlines()) == 1


def test_blas_thread_count_can_be_set_and_read_back():
    from tools.bench import threads
    before = threads.blas_threads()
    if not threads.set_blas_threads(1):
        pytest.skip("this NumPy's BLAS is not an OpenBLAS reachable at run time")
    try:
        assert threads.blas_threads() == 1
    finally:
        threads.set_blas_threads(before)
    assert threads.blas_threads() == before


def test_bad_repeats_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--repeats", "0"])
    assert exit_info.value.code == 2
    assert "--repeats" in capsys.readouterr().err
