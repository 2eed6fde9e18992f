"""Printing results: readable tables, and JSON lines (one object per measurement)."""
import json
import math

from minigrad.serialization import atomic_write


def _fmt(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def table(headers, rows):
    """A plain text table, columns right-aligned except the first two."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.ljust(w) if i < 2 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def engine_table(results):
    return table(["case", "description", "minigrad us/op", "numpy us/op", "overhead us/op",
                  "ratio"],
                 [[r["case"], r["description"], r["minigrad_us_per_op"], r["numpy_us_per_op"],
                   r["overhead_us_per_op"], r["ratio"]] for r in results])


def lstm_table(results):
    return table(["config", "system", "s/step", "iqr %", "GFLOP/s", "% peak", "x numpy-ref",
                  "paired", "x torch.LSTM", "paired", "grad diff"],
                 [[r["config"], r["system"], r["median_s"], 100 * r["iqr_rel"],
                   r["achieved_gflops"], r["percent_of_peak"], r["ratio_to_numpy_reference"],
                   r["paired_ratio_to_numpy_reference"], r.get("ratio_to_torch_lstm"),
                   r.get("paired_ratio_to_torch_lstm"), r["grad_rel_diff_vs_numpy"]]
                  for r in results])


def memory_table(results):
    rows = []
    for r in results:
        if r["case"] == "bptt_vs_checkpoint":
            rows.append([f"T={r['steps']} plain BPTT", "peak MB (tracemalloc)",
                         r["plain_peak_mb"]])
            rows.append([f"T={r['steps']} checkpoint/{r['segment_steps']}",
                         "peak MB (tracemalloc)", r["checkpoint_peak_mb"]])
            rows.append([f"T={r['steps']}", "peak ratio (target <= 0.25)", r["peak_ratio"]])
            rows.append([f"T={r['steps']}", "grad max rel diff", r["grad_max_rel_diff"]])
        else:
            how = "plain BPTT" if r["segment_steps"] is None else \
                f"checkpoint/{r['segment_steps']}"
            rows.append([f"T={r['steps']} {how}", "seconds (one step)", r["seconds"]])
            rows.append([f"T={r['steps']} {how}", "finite loss and grads", str(r["finite"])])
    return table(["case", "figure", "value"], rows)


def json_lines(results):
    return "\n".join(json.dumps(r, sort_keys=True) for r in results)


def write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    with atomic_write(path, "w") as file:
        file.write(text)
