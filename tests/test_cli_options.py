"""Every option of every ``minigrad`` command: help text, and one argparse error line (exit
status 2, no traceback) for a bad number instead of a crash or a silent default."""
import argparse

import pytest
from helpers import run_cli

from tools import cli


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_option_has_help_text():
    missing = [f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
               for parser in _parsers(cli.build_parser()) for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction)
               and not (action.help and action.help.strip())]
    assert missing == []


BAD_NUMBERS = [
    (["render", "--cell", "rnn", "-o", "x.svg", "--max-nodes", "0"], "--max-nodes"),
    (["render", "--cell", "rnn", "-o", "x.svg", "--max-nodes", "-5"], "--max-nodes"),
    (["render", "--cell", "rnn", "-o", "x.svg", "--steps", "0"], "--steps"),
    (["gradflow", "-o", "x.svg", "--seed", "-1"], "--seed"),
    (["gradflow", "-o", "x.svg", "--steps", "0"], "--steps"),
    (["gradflow", "-o", "x.svg", "--input-std", "nan"], "--input-std"),
    (["gradflow", "-o", "x.svg", "--keeping-gate-bias", "nan"], "--keeping-gate-bias"),
    (["gradflow", "-o", "x.svg", "--spectral-radius", "-1"], "--spectral-radius"),
    (["check", "--examples", "0"], "--examples"),
    (["check", "--seed", "-1"], "--seed"),
    (["experiment", "vanishing", "--seed", "-1"], "--seed"),
    (["sample", "x.npz", "--seed", "-1"], "--seed"),
    (["sample", "x.npz", "--temperature", "nan"], "--temperature"),
    (["sample", "x.npz", "-n", "-1"], "-n"),
    (["train", "charlm", "--out", "x.npz", "--seed", "-1"], "--seed"),
    (["train", "charlm", "--out", "x.npz", "--validate-every", "0"], "--validate-every"),
    (["train", "charlm", "--out", "x.npz", "--save-every", "0"], "--save-every"),
    (["train", "charlm", "--out", "x.npz", "--minutes", "-1"], "--minutes"),
    (["train", "charlm", "--out", "x.npz", "--clip-value", "inf"], "--clip-value"),
    (["train", "charlm", "--out", "x.npz", "--jacobian-penalty", "-1"], "--jacobian-penalty"),
    (["train", "adding", "--out", "x.npz", "--hidden", "2.5"], "--hidden"),
    (["train", "seq2seq", "--out", "x.npz", "--max-digits", "-2"], "--max-digits"),
]


@pytest.mark.parametrize("argv,option", BAD_NUMBERS)
def test_bad_number_is_one_argparse_error(tmp_path, monkeypatch, capsys, argv, option):
    monkeypatch.chdir(tmp_path)
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"argument {option}" in lines[0], lines[0]
    assert not list(tmp_path.iterdir()), "a bad option still wrote a file"


FILE_ERRORS = [
    ("render", lambda d: ["render", "--cell", "rnn", "-o", str(d / "plain" / "x.svg")]),
    ("render", lambda d: ["render", "--cell", "rnn", "-o", str(d / "folder")]),
    ("gradflow", lambda d: ["gradflow", "--steps", "3", "-o", str(d / "plain" / "x.svg")]),
    ("gradflow", lambda d: ["gradflow", "--steps", "3", "-o", str(d / "folder.svg")]),
    ("experiment", lambda d: ["experiment", "vanishing", "--quick", "-o", str(d / "plain")]),
    ("sample", lambda d: ["sample", str(d / "folder")]),
    ("sample", lambda d: ["sample", str(d / "absent.npz")]),
    ("train", lambda d: ["train", "adding", "--steps", "1", "--out", str(d / "plain" / "a.npz")]),
    ("train", lambda d: ["train", "charlm", "--data", str(d / "folder"), "--out",
                         str(d / "a.npz")]),
]


@pytest.mark.parametrize("command,argv", FILE_ERRORS)
def test_every_file_error_is_one_line(tmp_path, capsys, command, argv):
    (tmp_path / "plain").write_text("a file, not a folder")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder.svg").mkdir()
    assert run_cli(argv(tmp_path)) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"minigrad {command}: error:"), lines[0]
    assert str(tmp_path) in lines[0], lines[0]
