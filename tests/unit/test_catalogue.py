from pathlib import Path

from postdeploy import catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "steps.md"


def test_docs_steps_md_is_generated_from_the_current_code():
    assert DOC.read_text() == catalogue.as_markdown(), (
        "docs/steps.md is stale: regenerate it with `postdeploy steps --markdown > docs/steps.md` (or `make steps-doc`)")


def test_every_step_has_a_summary_and_an_example():
    steps = catalogue.collect()
    assert len(steps) >= 30
    missing = [s.phrase for s in steps if not s.summary or not s.example]
    assert missing == []
    assert any(s.table for s in steps) and any(s.docstring for s in steps)
