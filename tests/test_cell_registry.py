"""One name per cell: ``models.CELLS`` is what train, render, check, gradflow and the
experiments accept, and a name outside it is refused with the registry's names listed."""
import pytest
from helpers import run_cli

import models
from models.registry import canonical_cell_name, cell_name
from tools import cli
from tools.checks.strategies import CELL_KINDS
from tools.render import examples


def _registered_class(obj):
    return next((cls for cls in models.CELLS.values() if type(obj) is cls), None)


def test_each_cell_class_has_one_registry_name():
    assert len(set(models.CELLS.values())) == len(models.CELLS)
    for name, cls in models.CELLS.items():
        assert cell_name(cls) == name
        assert isinstance(models.make_cell(name, 2, 3), cls)


def test_check_and_gradflow_use_the_registry_names():
    for name, cls in models.CELLS.items():
        assert isinstance(CELL_KINDS[name](2, 3), cls), name
    for name, constructor in CELL_KINDS.items():
        cls = _registered_class(constructor(2, 3))
        if cls is not None:   # a registered cell: its name, or a variant named after it
            assert name == cell_name(cls) or name.startswith(cell_name(cls) + "_"), name


def test_render_uses_the_registry_names():
    cells = [name for name in examples.available() if name not in examples.BUILDERS]
    assert cells
    for name in cells:
        module, _, _ = examples.build(name, 2)
        assert name in models.CELLS and type(module) is models.CELLS[name], name


def test_train_accepts_the_registry_names():
    from tools.commands import train
    assert set(models.CELLS) >= {"peephole_lstm", "coupled_lstm", "leaky_rnn", "jordan_rnn"}
    help_text = next(a.help for a in train_parser()._actions if "--cell" in a.option_strings)
    for name in models.CELLS:
        assert name in help_text
    assert train.CELLS is models.CELLS


def train_parser():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["train"]
    return next(a for a in sub._actions if a.dest == "task").choices["charlm"]


@pytest.mark.parametrize("old", ["peephole", "peepholelstm", "coupled", "leaky"])
def test_other_names_are_refused_listing_the_registry(tmp_path, capsys, old):
    commands = [
        ["train", "adding", "--cell", old, "--quiet", "--out", str(tmp_path / "a.npz")],
        ["render", "--cell", old, "-o", str(tmp_path / "a.svg")],
        ["check", "--cell", old],
        ["gradflow", "--cells", old, "-o", str(tmp_path / "a.svg")],
    ]
    for argv in commands:
        assert run_cli(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert "peephole_lstm" in err and "coupled_lstm" in err, err
    assert list(tmp_path.iterdir()) == []


def test_checkpoints_with_former_names_still_load():
    config = {"model": "charlm", "vocabulary": list("ab"), "cell": "peepholelstm",
              "hidden_size": 3, "num_layers": 1, "embedding_dim": None}
    from models.charlm import CharLM
    model = CharLM.from_config(config)
    assert isinstance(model.layers[0], models.PeepholeLSTMCell)
    assert model.config()["cell"] == "peephole_lstm"
    assert canonical_cell_name("leakyrnn") == "leaky_rnn"
