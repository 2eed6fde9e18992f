"""`minigrad train` and `minigrad sample`: a working run, and one line with a non-zero exit
for every bad file, checkpoint or option."""
import os

import numpy as np
import pytest
from helpers import run_cli

from models.train import read_checkpoint

TEXT = "the cat sat on the mat. the dog sat on the log. " * 12


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def train(text_file, out, *extra):
    return run_cli(["train", "charlm", "--data", str(text_file), "--hidden", "8",
                 "--embedding", "4", "--seq-len", "8", "--batch", "4", "--steps", "3",
                 "--validate-every", "2", "--quiet", "--out", str(out), *extra])


@pytest.fixture
def checkpoint(tmp_path, text_file):
    out = tmp_path / "lm.npz"
    assert train(text_file, out) == 0
    return out


def one_error_line(capsys, *needles):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_train_then_sample(checkpoint, capsys):
    capsys.readouterr()
    arrays, config = read_checkpoint(checkpoint)
    assert config["model"] == "charlm" and config["hidden_size"] == 8
    assert "".join(config["vocabulary"]) == "".join(sorted(set(TEXT)))
    assert any(key.startswith("optim.") for key in arrays)
    assert run_cli(["sample", str(checkpoint), "--prefix", "the ", "-n", "25",
                 "--temperature", "0.5", "--seed", "1"]) == 0
    first = capsys.readouterr().out.rstrip("\n")
    assert first.startswith("the ") and len(first) == 4 + 25
    run_cli(["sample", str(checkpoint), "--prefix", "the ", "-n", "25", "--temperature", "0.5",
          "--seed", "1"])
    assert capsys.readouterr().out.rstrip("\n") == first


def test_resume_continues_from_the_checkpoint(checkpoint, text_file, capsys):
    assert train(text_file, checkpoint, "--resume", "--steps", "5") == 0
    assert "resumed from" in capsys.readouterr().out
    arrays, _ = read_checkpoint(checkpoint)
    import json
    assert json.loads(str(arrays["trainer"]))["step"] == 5


@pytest.mark.parametrize("content,needle", [
    (None, "no such file"),
    (b"", "is empty"),
    (b"caf\xe9 latin-1 text", "not UTF-8"),
])
def test_bad_data_file(tmp_path, capsys, content, needle):
    path = tmp_path / "data.txt"
    if content is not None:
        path.write_bytes(content)
    assert train(path, tmp_path / "out.npz") == 2
    one_error_line(capsys, "--data", str(path), needle)
    assert not (tmp_path / "out.npz").exists()


def test_data_file_that_is_a_directory(tmp_path, capsys):
    assert train(tmp_path, tmp_path / "out.npz") == 2
    one_error_line(capsys, "--data", "directory")


@pytest.mark.parametrize("option,value", [
    ("--hidden", "0"), ("--hidden", "x"), ("--steps", "-3"), ("--lr", "-1"), ("--lr", "nan"),
    ("--batch", "0"), ("--seq-len", "0"), ("--layers", "0"), ("--tbptt", "0"),
    ("--clip", "0"), ("--cell", "transformer"), ("--val-fraction", "1.5"),
    ("--optimizer", "rmsprop"), ("--embedding", "-2"),
])
def test_invalid_train_option(text_file, tmp_path, capsys, option, value):
    assert train(text_file, tmp_path / "out.npz", option, value) == 2
    one_error_line(capsys, option)


def test_sequence_too_long_for_the_text(text_file, tmp_path, capsys):
    assert train(text_file, tmp_path / "out.npz", "--seq-len", "5000") == 2
    one_error_line(capsys, "--seq-len")


def test_resume_without_a_checkpoint(text_file, tmp_path, capsys):
    assert train(text_file, tmp_path / "absent.npz", "--resume") == 2
    one_error_line(capsys, "--resume", "absent.npz", "no such file")


def test_resume_with_data_outside_the_vocabulary(checkpoint, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("ZZZ unseen capitals QQQ " * 30, encoding="utf-8")
    assert train(other, checkpoint, "--resume") == 2
    one_error_line(capsys, "--data", str(other), "not in the vocabulary")


@pytest.mark.parametrize("kind", ["missing", "corrupt", "truncated", "other model"])
def test_bad_checkpoint_for_sample(tmp_path, checkpoint, capsys, kind):
    path = tmp_path / "bad.npz"
    if kind == "corrupt":
        path.write_bytes(b"this is not a zip file")
    elif kind == "truncated":
        path.write_bytes(checkpoint.read_bytes()[:200])
    elif kind == "other model":
        assert run_cli(["train", "adding", "--hidden", "4", "--length", "4", "--steps", "1",
                     "--quiet", "--out", str(path)]) == 0
        capsys.readouterr()
    assert run_cli(["sample", str(path)]) == 2
    one_error_line(capsys, str(path))


def test_checkpoint_with_mismatched_weights(tmp_path, checkpoint, capsys):
    arrays, _ = read_checkpoint(checkpoint)
    arrays["model.head.bias"] = np.zeros(3, dtype=np.float32)
    import minigrad as mg
    path = mg.save(arrays, tmp_path / "mismatch.npz")
    assert run_cli(["sample", path]) == 2
    one_error_line(capsys, "mismatch.npz", "head.bias")


@pytest.mark.parametrize("args,option", [
    (["-n", "-1"], "-n"), (["--temperature", "-0.5"], "--temperature"),
    (["--prefix", "XYZ"], "--prefix"), (["-n", "many"], "-n"),
])
def test_invalid_sample_option(checkpoint, capsys, args, option):
    capsys.readouterr()
    assert run_cli(["sample", str(checkpoint), *args]) == 2
    one_error_line(capsys, option)


def test_adding_and_copy_tasks_run(tmp_path, capsys):
    assert run_cli(["train", "adding", "--hidden", "4", "--length", "6", "--steps", "2",
                 "--quiet", "--out", str(tmp_path / "a.npz")]) == 0
    assert "validation MSE" in capsys.readouterr().out
    assert run_cli(["train", "copy", "--hidden", "4", "--length", "2", "--delay", "1",
                 "--steps", "2", "--tbptt", "2", "--quiet", "--out",
                 str(tmp_path / "c.npz")]) == 0
    assert "validation accuracy" in capsys.readouterr().out


def test_seq2seq_runs_and_resumes(tmp_path, capsys):
    out = str(tmp_path / "s.npz")
    common = ["--hidden", "8", "--max-digits", "2", "--quiet", "--out", out]
    assert run_cli(["train", "seq2seq", "--task", "reverse", "--no-reverse-source", "--steps", "2",
                 *common]) == 0
    assert "in reading order" in capsys.readouterr().out
    _, config = read_checkpoint(out)
    assert config["model"] == "seq2seq" and config["reverse_source"] is False
    assert run_cli(["train", "seq2seq", "--resume", "--steps", "3", *common]) == 0
    assert "resumed from" in capsys.readouterr().out
    assert run_cli(["sample", out]) == 2
    one_error_line(capsys, out, "not a char-LM")


@pytest.mark.parametrize("argv,option", [
    (["train", "seq2seq", "--max-digits", "0"], "--max-digits"),
    (["train", "seq2seq", "--task", "french"], "--task"),
    (["train", "adding", "--length", "1"], "--length"),
    (["train", "copy", "--symbols", "0"], "--symbols"),
    (["train", "copy", "--delay", "-1"], "--delay"),
])
def test_invalid_task_options(tmp_path, capsys, argv, option):
    assert run_cli([*argv, "--quiet", "--out", str(tmp_path / "x.npz")]) == 2
    one_error_line(capsys, option)


def test_missing_out_option(capsys):
    assert run_cli(["train", "charlm"]) == 2
    one_error_line(capsys, "--out")


def test_demo_hello_section_reproduces_hello(capsys):
    from tools import demo
    context = {"out": None}
    demo.hello(context)
    assert context["hello"] == "hello"
    assert "predicts 'o'" in capsys.readouterr().out
    assert demo.hello in demo.SECTIONS


# -- resume, --out and --force -----------------------------------------------------------
@pytest.mark.parametrize("extra,needles", [
    (["--hidden", "16"], ["--hidden 16", "8"]),
    (["--cell", "gru"], ["--cell gru", "lstm"]),
    (["--layers", "2"], ["--layers 2"]),
    (["--embedding", "0"], ["--embedding 0"]),
    (["--batch", "2"], ["--batch 2", "4"]),
    (["--seq-len", "6"], ["--seq-len 6"]),
    (["--head-hidden", "5", "3"], ["--head-hidden 5 3", "none"]),
    (["--hidden", "16", "--cell", "gru", "--batch", "2"], ["--hidden 16", "--cell gru",
                                                           "--batch 2"]),
])
def test_resume_with_conflicting_options(checkpoint, text_file, capsys, extra, needles):
    before = checkpoint.read_bytes()
    capsys.readouterr()
    assert train(text_file, checkpoint, "--resume", "--steps", "5", *extra) == 2
    one_error_line(capsys, "--resume", *needles)
    assert checkpoint.read_bytes() == before


def test_resume_reports_the_checkpoint_model(checkpoint, text_file, capsys):
    """Options left out on --resume come from the checkpoint, and so does the summary."""
    capsys.readouterr()
    assert run_cli(["train", "charlm", "--data", str(text_file), "--steps", "4", "--quiet",
                 "--resume", "--out", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "1 x 8 hidden" in out, out
    _, config = read_checkpoint(checkpoint)
    assert config["hidden_size"] == 8


def test_existing_checkpoint_needs_resume_or_force(checkpoint, text_file, capsys):
    before = checkpoint.read_bytes()
    capsys.readouterr()
    assert train(text_file, checkpoint) == 2
    one_error_line(capsys, "--out", str(checkpoint), "--resume", "--force")
    assert checkpoint.read_bytes() == before
    assert train(text_file, checkpoint, "--force", "--seed", "3") == 0
    assert checkpoint.read_bytes() != before


@pytest.mark.parametrize("where", ["missing folder", "under a file", "a directory",
                                   "read-only folder"])
def test_unwritable_out_is_refused_before_training(tmp_path, text_file, capsys, where):
    if where == "missing folder":
        out = tmp_path / "absent" / "lm.npz"
    elif where == "under a file":
        (tmp_path / "plain").write_text("x")
        out = tmp_path / "plain" / "lm.npz"
    elif where == "a directory":
        out = tmp_path / "folder.npz"
        out.mkdir()
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        out = folder / "lm.npz"
    batches = []
    import models.charlm
    original = models.charlm.stream_batch

    def counting(*args):
        batches.append(args[1])
        return original(*args)

    import tools.commands.train as command
    command.stream_batch, saved = counting, command.stream_batch
    try:
        assert train(text_file, out) == 2
    finally:
        command.stream_batch = saved
    one_error_line(capsys, "--out", str(out))
    assert batches == [], "training started before --out was checked"
    assert not (tmp_path / "absent").exists()


def test_save_every_sets_the_checkpoint_interval(tmp_path, text_file, monkeypatch):
    import models.train
    saved_steps = []
    original = models.train.Trainer.save

    def recording(self, path):
        saved_steps.append(self.step)
        return original(self, path)

    monkeypatch.setattr(models.train.Trainer, "save", recording)
    out = tmp_path / "lm.npz"
    assert run_cli(["train", "charlm", "--data", str(text_file), "--hidden", "8", "--embedding",
                 "4", "--seq-len", "8", "--batch", "4", "--steps", "7", "--validate-every",
                 "5", "--save-every", "3", "--quiet", "--out", str(out)]) == 0
    assert saved_steps == [3, 6, 7]


def test_broken_json_in_a_checkpoint(tmp_path, checkpoint, text_file, capsys):
    import minigrad as mg
    arrays, _ = read_checkpoint(checkpoint)
    arrays["trainer"] = np.asarray("{not json")
    path = mg.save(arrays, tmp_path / "broken.npz")
    capsys.readouterr()
    assert train(text_file, path, "--resume") == 2
    one_error_line(capsys, "broken.npz", "trainer", "JSON")
    arrays["config"] = np.asarray("[1, 2")
    mg.save(arrays, path)
    assert run_cli(["sample", path]) == 2
    one_error_line(capsys, "broken.npz", "config", "JSON")


def test_sample_refuses_non_finite_weights(tmp_path, checkpoint, capsys):
    import minigrad as mg
    arrays, _ = read_checkpoint(checkpoint)
    for value in (np.nan, np.inf):
        weights = arrays["model.head.weight"].copy()
        weights[0, 0] = value
        path = mg.save({**arrays, "model.head.weight": weights}, tmp_path / "bad.npz")
        capsys.readouterr()
        assert run_cli(["sample", path, "-n", "5"]) == 2
        one_error_line(capsys, "bad.npz", "head.weight", "finite")


def test_resume_of_a_checkpoint_without_saved_settings(tmp_path, checkpoint, text_file, capsys):
    """Checkpoints written before the run options were saved: the model's config still
    catches a conflicting model option."""
    import json

    import minigrad as mg
    arrays, _ = read_checkpoint(checkpoint)
    progress = json.loads(str(arrays["trainer"]))
    del progress["settings"]
    arrays["trainer"] = np.asarray(json.dumps(progress))
    path = mg.save(arrays, tmp_path / "old.npz")
    capsys.readouterr()
    assert train(text_file, path, "--resume", "--hidden", "16") == 2
    one_error_line(capsys, "--hidden 16", "8")
    assert train(text_file, path, "--resume", "--steps", "4") == 0


def test_charlm_progress_names_the_validation_unit(tmp_path, text_file, capsys):
    """The training loss is in nats and the char-LM's validation score in bits per char:
    printed side by side as 'loss 2.24 ... validation 3.54' they read as one unit."""
    assert train(text_file, tmp_path / "lm.npz") == 0
    steps = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step ")]
    assert steps and all("val bits/char " in line for line in steps), steps
