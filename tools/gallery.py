"""``python -m tools.gallery [out_dir]``: every example cell in both views, as SVG, into
``docs/gallery/`` (what the README shows). The LSTM is also drawn in op detail and with its
gradients."""
import os
import sys

from tools.render import examples, render

STEPS = 3


def pictures():
    """(file name, example name, options) of every picture in the gallery."""
    for name in examples.available():
        for view in ("unrolled", "folded"):
            yield f"{name}_{view}.svg", name, {"view": view}
    if "lstm" in examples.available():
        yield "lstm_unrolled_op.svg", "lstm", {"view": "unrolled", "detail": "op"}
        yield "lstm_folded_op.svg", "lstm", {"view": "folded", "detail": "op"}
    if "rnn" in examples.available():
        yield "rnn_backward.svg", "rnn", {"view": "unrolled", "detail": "op", "backward": True,
                                          "steps": 6}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    folder = argv[0] if argv else os.path.join("docs", "gallery")
    for file_name, name, options in pictures():
        options = dict(options)
        module, outputs, title = examples.build(name, options.pop("steps", STEPS),
                                                 options["view"])
        if options.get("backward"):
            outputs = examples.last_step_loss(outputs)
        path = render(outputs, os.path.join(folder, file_name), module=module, title=title,
                      **options)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
