"""tools.experiments: each quick experiment reproduces its claim, and the commands write
their figures."""
import numpy as np
import pytest

from tools import experiments
from tools.cli import main


def _quiet(*args):
    pass


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("experiments")


def test_vanishing_slope_matches_log_spectral_radius(out):
    results = experiments.run("vanishing", out, quick=True, log=_quiet)
    for run in results["runs"]:
        predicted, measured = run["predicted_slope"], run["measured_slope"]
        assert measured < 0
        if run["weights"] == "orthogonal":   # every |eigenvalue| = rho: exact
            assert measured == pytest.approx(predicted, rel=1e-8)
        else:   # rho is the asymptote; smaller eigenvalues still matter at short range
            assert predicted - 0.006 < measured <= predicted, run
    # saturating inputs only make the decay faster: rho is a bound
    assert results["saturated"]["measured_slope"] < results["saturated"]["predicted_slope"]
    # ... three times faster than rho here: the printed reading credits saturation, not rho
    assert results["saturated"]["reading"].endswith("saturated, tanh' < 1")
    assert (out / "vanishing.png").read_bytes()[:4] == b"\x89PNG"
    # singular value vs eigenvalue: the random W's have sigma_max > 1 (Pascanu et al.'s
    # sufficient condition for vanishing fails) and vanish all the same, at the rate of rho
    uniform = [run for run in results["runs"] if run["weights"] == "uniform"]
    assert sum(run["largest_singular_value"] > 1.5 for run in uniform) >= 3
    for run in results["runs"]:
        assert run["largest_singular_value"] >= run["spectral_radius"] - 1e-12
        if run["weights"] == "orthogonal":   # normal: sigma_max = rho
            assert run["largest_singular_value"] == pytest.approx(run["spectral_radius"])
        expected = ("sigma_max < 1" if run["largest_singular_value"] < 1
                    else "sigma_max > 1 yet vanishes: rho < 1")
        assert run["reading"].startswith(expected)


def test_spectral_radius_decides_nothing_once_units_saturate():
    """The docstring's example (tools/experiments/spectral.py): rho(W) < 1, yet with one
    unit saturated every factor diag(tanh') W has spectral radius 1.5."""
    from tools.gradflow import largest_singular_value, spectral_radius
    weight = np.array([[1.5, 1.0], [-1.5, -0.5]])
    assert spectral_radius(weight) == pytest.approx(np.sqrt(0.75))
    assert largest_singular_value(weight) > 1   # Pascanu et al.'s necessary condition holds
    factor = np.diag([1.0, 0.0]) @ weight
    assert spectral_radius(factor) == pytest.approx(1.5)
    assert np.linalg.norm(np.linalg.matrix_power(factor, 20), 2) > 1.5 ** 20 / 2


def test_exploding_slope_matches_log_spectral_radius(out):
    results = experiments.run("exploding", out, quick=True, log=_quiet)
    for run in results["runs"]:
        assert run["measured_slope"] > 0
        assert run["largest_singular_value"] > 1   # necessary for exploding
        if run["weights"] == "orthogonal":
            assert run["measured_slope"] == pytest.approx(run["predicted_slope"], rel=1e-8)


def test_leaky_units_decay_slower_with_larger_tau(out):
    results = experiments.run("leaky", out, quick=True, log=_quiet)
    assert results["monotone"]
    for tau in (1, 2, 4):
        entry = results[f"tau={tau}"]
        assert entry["measured_slope"] == pytest.approx(entry["predicted_slope"], rel=0.05)


def test_time_delay_divides_the_decay_rate_by_d(out):
    results = experiments.run("time_delay", out, quick=True, log=_quiet)
    base = results["D=1"]["measured_slope"]
    for delay in (1, 2, 4, 8):
        entry = results[f"D={delay}"]
        assert entry["measured_slope"] == pytest.approx(entry["predicted_slope"], rel=1e-6)
        assert entry["measured_slope"] == pytest.approx(base / delay, rel=1e-6)


def test_lstm_with_open_forget_gate_keeps_the_gradient(out):
    results = experiments.run("lstm_memory", out, quick=True, log=_quiet)
    assert results["tanh RNN"]["log10_ratio_100_steps"] < -10
    assert results["LSTM, b_f=3"]["log10_ratio_100_steps"] > -3
    assert (results["LSTM, b_f=5"]["log10_ratio_100_steps"]
            > results["LSTM, b_f=0 (default)"]["log10_ratio_100_steps"] + 10)
    # at the default init (keeping gate ~ 0.5) the gated cells vanish too; opened, they keep it
    for default, opened in (("LSTM, b_f=0 (default)", "LSTM, b_f=1"),
                            ("GRU, b_z=0 (default)", "GRU, b_z=1")):
        assert results[default]["log10_ratio_100_steps"] < -10
        assert (results[opened]["log10_ratio_100_steps"]
                > results[default]["log10_ratio_100_steps"] + 5)
    # trained on the adding problem: the gated cells solve it and keep the task's gradient
    trained = results["trained"]
    assert trained["tanh RNN"]["held_out_mse"] > 0.1
    for gated in ("LSTM, b_f=1", "GRU, b_z=1"):
        assert trained[gated]["held_out_mse"] < 0.01
        assert trained[gated]["log10_ratio_trained"] > -1.5
        assert (trained[gated]["log10_ratio_trained"]
                > trained["tanh RNN"]["log10_ratio_trained"] + 3)
        assert trained[gated]["log10_ratio_trained"] > trained[gated]["log10_ratio_init"]


def test_clipping_prevents_divergence_and_the_clipped_run_learns(out):
    from tools.experiments import clipping
    results = experiments.run("clipping", out, quick=True, log=_quiet)
    assert results["no clipping"]["diverged_at_step"] is not None
    clipped = results["clip_norm=1"]
    assert clipped["diverged_at_step"] is None and clipped["max_loss"] < 10
    # learning, not only staying finite: clearly below always predicting the mean (1/6)
    assert clipped["mean_loss_last_20"] < 0.7 * clipping.BASELINE
    assert clipped["learned"]


def test_regularizer_keeps_the_error_signal_flatter(out):
    results = experiments.run("regularizer", out, quick=True, log=_quiet)
    with_penalty, without = results["penalty weight 1"], results["penalty weight 0"]
    assert results["flatter_with_penalty"]
    assert with_penalty["log10_ratio"] > -1 > -5 > without["log10_ratio"]
    assert with_penalty["omega"] < results["initial"]["omega"] < without["omega"]
    assert results["penalty weight 0.1"]["log10_ratio"] > without["log10_ratio"]
    best = min(with_penalty["mse"], results["penalty weight 0.1"]["mse"])
    assert results["helps_on_adding"] == (best < min(without["mse"], 1 / 6))
    assert (out / "regularizer.png").read_bytes()[:4] == b"\x89PNG"


def test_experiment_command_runs_the_regularizer(tmp_path, capsys):
    assert main(["experiment", "regularizer", "--quick", "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "prediction: the penalty keeps ||dL/dh_t|| flatter -> yes" in printed
    assert "predicting the mean" in printed
    assert (tmp_path / "regularizer.png").exists()


def test_lag_gradient_far_terms_vanish_for_the_rnn_and_survive_an_open_forget_gate(out):
    results = experiments.run("lag_gradient", out, quick=True, log=_quiet)
    rnn, open_lstm = results["tanh RNN"], results["LSTM, b_f=3"]
    assert rnn["share_lag_10_plus"] < 0.01 and rnn["share_lag_50_plus"] < 1e-10
    assert rnn["longest_lag_above_1e-3"] < 15
    assert open_lstm["share_lag_10_plus"] > 0.5 and open_lstm["longest_lag_above_1e-3"] > 50
    # opening the gate that keeps the state (b = 1) reaches further than the default init
    for opened, default in (("LSTM, b_f=1", "LSTM, b_f=0 (default)"),
                            ("GRU, b_z=1", "GRU, b_z=0 (default)")):
        assert results[opened]["share_lag_10_plus"] > 5 * results[default]["share_lag_10_plus"]
    assert (out / "lag_gradient.png").read_bytes()[:4] == b"\x89PNG"


def test_deep_transition_shortcut_restores_the_decay_rate_and_skip_shortens_depth(out):
    results = experiments.run("deep_transition", out, quick=True, log=_quiet)
    transition = results["transition"]
    for entry in transition.values():   # near the zero state the rate is log10 rho(J)
        assert entry["measured_slope"] == pytest.approx(entry["predicted_slope"], rel=0.05)
    rnn = transition["tanh RNN (same W_hh)"]["measured_slope"]
    for depth in (2, 3):
        plain = transition[f"DT-RNN, depth {depth}"]["measured_slope"]
        shortcut = transition[f"DT(S)-RNN, depth {depth} (shortcut)"]["measured_slope"]
        assert plain < 2 * rnn   # the extra non-linearity: more than twice the decay
        assert shortcut > plain + 0.3 and shortcut > 1.2 * rnn
        assert (transition[f"DT(S)-RNN, depth {depth} (shortcut)"]["measured_slope_inputs_std_1"]
                > transition[f"DT-RNN, depth {depth}"]["measured_slope_inputs_std_1"] + 0.3)
    stacked = results["stacked"]
    for layers in (2, 4):
        plain, skip = stacked[f"{layers} layers, no skip"], stacked[f"{layers} layers, skip"]
        assert skip["lag_0"] > 3 * plain["lag_0"]   # a shorter path through depth
        assert skip["measured_slope"] == pytest.approx(plain["measured_slope"], abs=0.03)


def test_experiment_command_rejects_unknown_name(capsys):
    assert main(["experiment", "nonexistent"]) == 2
    assert "nonexistent" in capsys.readouterr().err


def test_gradflow_command_writes_svg_with_one_line_per_cell(tmp_path, capsys):
    path = tmp_path / "flow.svg"
    status = main(["gradflow", "--cells", "rnn,lstm", "--steps", "12", "--hidden", "4",
                   "--spectral-radius", "0.9", "-o", str(path)])
    assert status == 0
    text = path.read_text()
    assert "<svg" in text and text.count("<path") > 4
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["rnn", "lstm"]
    assert float(lines[1].split()[1]) == pytest.approx(0.9, rel=1e-3)


def test_gradflow_command_keeping_gate_bias_opens_lstm_and_gru_only(tmp_path, capsys):
    def decades(*extra):
        assert main(["gradflow", "--cells", "rnn,lstm,gru", "--steps", "60", "--hidden", "16",
                     "--spectral-radius", "0.9", *extra, "-o", str(tmp_path / "f.png")]) == 0
        rows = capsys.readouterr().out.splitlines()[1:4]
        return {row.split()[0]: float(row.split()[-1]) for row in rows}

    default, opened = decades(), decades("--keeping-gate-bias", "1")
    assert opened["rnn"] == default["rnn"]   # no gate: left as it is
    assert default["lstm"] < default["rnn"] and default["gru"] < default["rnn"]
    for gated in ("lstm", "gru"):
        assert opened[gated] > default[gated] + 2


@pytest.mark.parametrize("argv, fragment", [
    (["--cells", "rnn", "-o", "flow.jpg"], ".png or .svg"),
    (["--cells", "nope", "-o", "flow.png"], "--cells"),
    (["--steps", "0", "-o", "flow.png"], "--steps"),
])
def test_gradflow_command_rejects_bad_options(argv, fragment, capsys):
    assert main(["gradflow", *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_seq2seq_encoding_is_word_for_word():
    from models.tasks import DIGIT_WORDS
    from tools.experiments import seq2seq_reversal
    sources, targets = seq2seq_reversal.encode([("307", "three zero seven"),
                                                ("921", "nine two one")])
    assert sources.T.tolist() == [[3, 0, 7], [9, 2, 1]]
    assert targets[-1].tolist() == [seq2seq_reversal.EOS] * 2
    words = [[DIGIT_WORDS[t - 2] for t in column[:-1]] for column in targets.T]
    assert words == [["three", "zero", "seven"], ["nine", "two", "one"]]


def test_adding_problem_lstm_solves_it_in_every_seed_and_the_rnn_in_none(out):
    from tools.experiments import adding
    results = experiments.run("adding", out, quick=True, log=_quiet)   # T=30, 600 steps
    lstm, rnn = results["LSTM"]["runs"], results["tanh RNN"]["runs"]
    assert [r["seed"] for r in lstm] == [0, 1, 2] and len(rnn) == 3
    for r in lstm:
        assert r["first_step_below_0.01"] is not None and r["best_mse"] < adding.SOLVED
        assert r["steps_run"] <= r["first_step_below_0.01"] + 200   # stopped once solved
    for r in rnn:
        assert r["first_step_below_0.01"] is None and r["best_mse"] > 0.1
    assert results["LSTM"]["solved"] == 3 and results["tanh RNN"]["solved"] == 0


def test_adding_first_step_below_reads_the_history():
    from tools.experiments.adding import first_step_below
    history = {"val_step": [50, 100, 150, 200], "val": [0.2, 0.011, 0.009, 0.002]}
    assert first_step_below(history) == 150
    assert first_step_below(history, 0.001) is None


def test_adding_baseline_of_predicting_one_is_one_sixth():
    from minigrad.nn import Linear
    from models.tasks import SequenceRegressor, adding_problem
    from tools.experiments import adding
    model = SequenceRegressor("rnn", 2, 3, 1)
    model.head = Linear(3, 1)
    model.head.weight.data[:] = 0
    model.head.bias.data[:] = 1
    inputs, targets = adding_problem(4000, 6, np.random.default_rng(5))
    assert adding.held_out_mse(model, inputs, targets) == pytest.approx(adding.BASELINE,
                                                                        rel=0.08)
