"""Renders docs/fault-matrix.md from the fault modules: ``python tests/features/faults/render.py``."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

HEADER = """\
# The fault matrix: every check proven at the step that fails

Generated from `tests/features/faults/` by `python tests/features/faults/render.py`; do not edit by hand
(a self-test fails when this file and the matrix disagree).

A check that no fault has ever failed is not done. For each fault below, `tests/features/test_fault_matrix.py`
starts a sandbox broken that way (faults that fail disjoint scenarios and reach nothing else share one sandbox and
one run; the database changes of `data_integrity` are applied to one sandbox and undone, by
`tests/features/test_data_integrity_matrix.py`), runs the family's features against it exactly as a user would, and
asserts, for every scenario that does not pass, **the failing step, the verdict kind and a fragment of the
first line of its message**; every other scenario must pass. A second test asserts that every `Then` step
written in `features/` is the failing step of at least one fault. `tests/features/test_healthy.py` runs the
same features against a healthy sandbox: all pass. Faults are environment variables named as the seeds name
them, `SANDBOX_FAULTS` switches for defects configuration cannot express ([sandbox.md](sandbox.md) has the
table), or a dependency taken down. Verdict kinds are explained in [verdicts.md](verdicts.md).
"""


#: the environment section a family's faults change, when they change the environment file
SECTIONS = {"rate_limit": "rate_limits[0]"}


def _config(fault) -> str:
    changes = [f"`{k}={v}`" for k, v in fault.config.items()]
    changes += [f"SQL `{_cell(sql)}`" for sql in getattr(fault, "sql", ())]
    changes += [f"a session holding `{_cell(sql)}`" for sql in getattr(fault, "sessions", ())]
    section = SECTIONS.get(fault.family, fault.family)
    changes += [f"environment `{section}.{k}: {v}`" for k, v in getattr(fault, "environment", {}).items()]
    return "; ".join(changes) or "(healthy configuration)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(faults) -> str:
    out = [HEADER]
    for family in dict.fromkeys(f.family for f in faults):
        out += [f"## {family}", ""]
        for fault in (f for f in faults if f.family == family):
            out += [f"### `{fault.id}`", "", f"{fault.why or 'Configuration: ' + _config(fault)}", "",
                    f"Sandbox: {_config(fault)}", "",
                    "| scenario | failing step | verdict | first line contains |", "|---|---|---|---|"]
            for name, failure in sorted(fault.failures.items()):
                out.append(f"| `{_cell(name)}` | {_cell(failure.step)} | {failure.kind.replace('_', ' ')} "
                           f"| {_cell(failure.message)} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    sys.path.insert(0, str(HERE.parent))
    from test_fault_matrix import ALL_FAULTS

    (ROOT / "docs" / "fault-matrix.md").write_text(markdown(ALL_FAULTS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
