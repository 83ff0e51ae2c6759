from pathlib import Path

from postdeploy import catalogue, families

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "steps.md"


def test_docs_steps_md_is_generated_from_the_current_code():
    assert DOC.read_text() == catalogue.as_markdown(ROOT), (
        "docs/steps.md is stale: regenerate it with `postdeploy steps --markdown > docs/steps.md` (or `make steps-doc`)")


def test_every_step_has_a_summary_and_an_example():
    steps = catalogue.collect(ROOT)
    assert len(steps) >= 30
    missing = [s.phrase for s in steps if not s.summary or not s.example]
    assert missing == []
    assert any(s.table for s in steps) and any(s.docstring for s in steps)


FAMILIES_DOC = DOC.with_name("families.md")
README = DOC.parents[1] / "README.md"


def test_docs_families_md_ends_with_the_table_of_the_builtin_families():
    assert FAMILIES_DOC.read_text().endswith("\n" + catalogue.families_table()), (
        "docs/families.md is stale: replace its final table with the output of "
        "`python -c 'from postdeploy import catalogue; print(catalogue.families_table(), end=\"\")'`")


def test_the_readme_tag_table_names_every_builtin_family():
    table = README.read_text().split("Tags (every tag", 1)[1].split("\n## ", 1)[0]
    missing = [f.name for f in families.Registry(families.builtin()) if f"`@{f.name}`" not in table]
    assert missing == []


def test_the_catalogue_lists_the_step_modules_of_the_families():
    modules = catalogue.step_modules(ROOT)
    assert modules == families.discover(ROOT).step_modules()
    assert all(module.startswith("postdeploy.steps.") for module in modules)  # the step language ships with the library
    assert {step.module for step in catalogue.collect(ROOT)} == set(modules)
