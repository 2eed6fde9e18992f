"""Run every property on every cell kind with hypothesis and tabulate the outcome
(``minigrad check``). A failure is shrunk by hypothesis; the last example it ran is the
shrunk one, and that is what the table's report prints."""
import dataclasses

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.reporting import with_reporter

from .properties import PROPERTIES, applies
from .strategies import CELL_KINDS, CellSpec, cells_and_sequences, resolve_cell


@dataclasses.dataclass
class Result:
    cell: str
    property: str
    status: str            # "pass", "FAIL" or "n/a"
    examples: int = 0      # examples run (up to and including the first failure)
    example: object = None  # the shrunk falsifying example
    error: str = ""

    @property
    def passed(self):
        return self.status != "FAIL"


def _applicable(name, constructor):
    probe = CellSpec("probe", 1, 1, 0).build(constructor=constructor)
    return applies(name, probe)


def run_property(name, cell_name, constructor=None, max_examples=20, seed=0):
    """One property on one cell kind: a :class:`Result`."""
    constructor = constructor or resolve_cell(cell_name)
    if not _applicable(name, constructor):
        return Result(cell_name, name, "n/a")
    check = PROPERTIES[name]
    seen = {"examples": 0, "first_failure": None, "last": None}

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
              report_multiple_bugs=False, print_blob=False,
              phases=(Phase.explicit, Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(example=cells_and_sequences(kinds=[cell_name]))
    def property_holds(example):
        seen["examples"] += 1
        seen["last"] = example
        cell, xs = example.build(constructor=constructor)
        try:
            check(cell, xs)
        except Exception:
            if seen["first_failure"] is None:
                seen["first_failure"] = seen["examples"]
            raise

    try:
        with with_reporter(lambda message: None):
            property_holds()
    except Exception as exc:  # noqa: BLE001 (a cell that raises anything fails the check)
        message = str(exc).strip().splitlines()
        return Result(cell_name, name, "FAIL", seen["first_failure"] or seen["examples"],
                      seen["last"], f"{type(exc).__name__}: {message[0] if message else ''}")
    return Result(cell_name, name, "pass", seen["examples"])


def run_properties(cells, max_examples=20, seed=0, names=None):
    """Every property (or those in ``names``) on every cell of ``cells``, a list of kind
    names or a {label: constructor} dict. Returns a list of :class:`Result`."""
    names = list(PROPERTIES) if names is None else list(names)
    unknown = [n for n in names if n not in PROPERTIES]
    if unknown:
        raise KeyError(f"unknown properties {unknown}; known: {', '.join(PROPERTIES)}")
    items = cells.items() if isinstance(cells, dict) else [(c, None) for c in cells]
    return [run_property(name, label, constructor, max_examples, seed)
            for label, constructor in items for name in names]


def format_table(results):
    """Rows: cells; columns: properties; entries: ``pass (20)``, ``FAIL (3)`` or ``n/a``."""
    cells = list(dict.fromkeys(r.cell for r in results))
    names = list(dict.fromkeys(r.property for r in results))
    by_key = {(r.cell, r.property): r for r in results}

    def entry(r):
        return "n/a" if r.status == "n/a" else f"{r.status} ({r.examples})"

    width = max(len("cell"), *(len(c) for c in cells))
    columns = [max(len(n), *(len(entry(by_key[c, n])) for c in cells)) for n in names]
    lines = ["  ".join(["cell".ljust(width)] + [n.ljust(w) for n, w in zip(names, columns)])]
    lines.append("  ".join(["-" * width] + ["-" * w for w in columns]))
    for c in cells:
        lines.append("  ".join([c.ljust(width)] + [entry(by_key[c, n]).ljust(w)
                                                    for n, w in zip(names, columns)]))
    return "\n".join(lines)


def format_failures(results):
    blocks = []
    for r in results:
        if not r.passed:
            blocks.append(f"{r.property} on {r.cell}: {r.error}\n"
                          f"  falsifying example (shrunk): {r.example!r}")
    return "\n".join(blocks)


ALL_CELLS = tuple(CELL_KINDS)
