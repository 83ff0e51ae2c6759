"""The family registry: discovery order, duplicates, declarations, and the environment sections it adds."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from postdeploy import environment, families
from postdeploy.errors import MissingSecret
from postdeploy.families import Family, FamilyError, Registry, _registry

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = {"smoke", "browser", "mutating", "data_integrity", "backward_compatibility", "rate_limit",
           "email_delivery", "release_health", "security"}
SMOKE_STEPS = tuple(f"postdeploy.steps.{name}" for name in (
    "requests", "responses", "health", "identities", "routes", "exposure", "cors", "assets", "metrics", "browser",
    "values"))


def family_file(root: Path, stem: str, name: str, extra: str = "") -> Path:
    path = root / "families" / f"{stem}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"from postdeploy.families import Family\n{extra}\n"
                    f"FAMILY = Family(name={name!r}, description='{name} checks')\n")
    return path


@pytest.fixture
def no_entry_points(monkeypatch):
    monkeypatch.setattr(_registry, "_entry_points", lambda: [])


@pytest.fixture
def entry_point(monkeypatch, tmp_path):
    """An installed package's family: a module on sys.path and an entry point naming it."""
    def install(module: str, source: str, value: str) -> None:
        site = tmp_path / "site"
        site.mkdir(exist_ok=True)
        (site / f"{module}.py").write_text(source)
        monkeypatch.syspath_prepend(str(site))
        point = importlib.metadata.EntryPoint(name=module, value=value, group=families.ENTRY_POINT_GROUP)
        monkeypatch.setattr(_registry, "_entry_points", lambda: [point])
        monkeypatch.delitem(sys.modules, module, raising=False)
    return install


def test_the_builtin_families(no_entry_points, tmp_path):
    registry = families.discover(tmp_path)
    assert {f.name for f in registry} == BUILTIN
    assert registry["smoke"].step_modules == SMOKE_STEPS  # the step language ships with the library
    assert registry["data_integrity"].requires == ("database",)
    assert registry["email_delivery"].requires == ("mailbox",)
    assert registry.entry("smoke").source == "postdeploy.families.smoke"
    assert families.step_modules(tmp_path) == list(registry.step_modules())
    # database, mailbox and rate_limits are typed in postdeploy.environment; the families add their own
    added = set(registry.environment_model.model_fields) - set(environment.Environment.model_fields)
    assert added == {"prometheus", "logs", "tls", "security", "data_integrity", "email_delivery"}


def test_order_is_package_then_entry_points_then_the_project(entry_point, tmp_path):
    entry_point("ext_family", "from postdeploy.families import Family\n"
                "FAMILIES = [Family(name='ext_a', description='a', step_modules=('ext_steps',)),\n"
                "            Family(name='ext_b', description='b', step_modules=('postdeploy.steps.cors',))]\n", "ext_family")
    family_file(tmp_path, "zeta", "zeta")
    family_file(tmp_path, "alpha", "alpha")
    family_file(tmp_path, "_helper", "not_a_family")  # a private helper module: not a declaration
    (tmp_path / "conftest.py").write_text("")
    registry = families.discover(tmp_path / "conftest.py")  # a file names its folder
    names = [f.name for f in registry]
    assert set(names[:len(BUILTIN)]) == BUILTIN
    assert names[len(BUILTIN):] == ["ext_a", "ext_b", "alpha", "zeta"]
    assert registry.entry("ext_a").source == "the entry point 'ext_family = ext_family'"
    assert registry.entry("alpha").source == str(tmp_path / "families" / "alpha.py")
    builtin_steps = Registry(families.builtin()).step_modules()
    assert "postdeploy.steps.cors" in builtin_steps
    assert registry.step_modules() == (*builtin_steps, "ext_steps")  # each module once
    assert "not_a_family" not in names


def test_an_entry_point_may_name_a_family_object(entry_point, tmp_path):
    entry_point("one_family", "from postdeploy.families import Family\n"
                "TOY = Family(name='one', description='one')\n", "one_family:TOY")
    assert families.discover(tmp_path)["one"].description == "one"


def test_two_families_with_one_name_is_an_error_naming_both(no_entry_points, tmp_path):
    first, second = family_file(tmp_path, "a", "toy"), family_file(tmp_path, "b", "toy")
    with pytest.raises(FamilyError) as caught:
        families.discover(tmp_path)
    assert str(caught.value).startswith(f"the family 'toy' is declared twice: by {first} and by {second}.")


def test_a_project_family_cannot_take_a_builtin_name(no_entry_points, tmp_path):
    path = family_file(tmp_path, "mine", "smoke")
    with pytest.raises(FamilyError, match=f"'smoke' is declared twice: by postdeploy.families.smoke and by {path}"):
        families.discover(tmp_path)


def test_an_entry_point_duplicate_names_the_entry_point(entry_point, tmp_path):
    entry_point("dup_family", "from postdeploy.families import Family\n"
                "FAMILY = Family(name='security', description='again')\n", "dup_family")
    with pytest.raises(FamilyError, match="by postdeploy.families.security and by the entry point 'dup_family = dup_family'"):
        families.discover(tmp_path)


def test_a_project_file_that_declares_nothing_says_so(no_entry_points, tmp_path):
    (tmp_path / "families").mkdir()
    (tmp_path / "families" / "typo.py").write_text("FAMILLY = None\n")
    with pytest.raises(FamilyError, match=r"typo.py declares no family: define FAMILY = Family\(...\)"):
        families.discover(tmp_path)


def test_a_project_file_that_does_not_import_names_itself(no_entry_points, tmp_path):
    (tmp_path / "families").mkdir()
    (tmp_path / "families" / "broken.py").write_text("import no_such_module_here\n")
    with pytest.raises(FamilyError, match=r"the family file .*broken.py cannot be loaded: ModuleNotFoundError"):
        families.discover(tmp_path)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "data-integrity"}, "letters, digits and '_'"),
    ({"description": " "}, "needs a description"),
    ({"step_modules": "steps.http"}, r"step_modules is a tuple of names, got the string 'steps.http' \(write \('steps.http',\)\)"),
    ({"requires": ["database", 3]}, "requires holds names such as 'database'"),
    ({"sections": {"my-section": dict}}, "section names are YAML keys"),
])
def test_a_wrong_declaration_is_refused_with_the_fix(kwargs, message):
    with pytest.raises(FamilyError, match=message):
        Family(**{"name": "toy", "description": "toy", **kwargs})


def test_lists_are_kept_as_tuples_and_sections_read_only():
    family = Family(name="toy", description="toy", step_modules=["a", "b"], sections={"toy": dict})
    assert family.step_modules == ("a", "b")
    with pytest.raises(TypeError):
        family.sections["other"] = dict  # type: ignore[index]


def test_a_required_section_must_be_declared_somewhere():
    with pytest.raises(FamilyError, match=r"'toy' \(here\) requires the section\(s\) \['toy_section'\], which neither"):
        Registry([("here", Family(name="toy", description="t", requires=("toy_section",)))])
    Registry([("here", Family(name="toy", description="t", requires=("database",)))])  # postdeploy.environment has it


def test_a_section_has_one_owner():
    class ToySection(families.Section):
        x: int = 1

    with pytest.raises(FamilyError, match=r"section 'toy' is declared twice: by the family 'a' \(one\) and by the family 'b' \(two\)"):
        Registry([("one", Family(name="a", description="a", sections={"toy": ToySection})),
                  ("two", Family(name="b", description="b", sections={"toy": ToySection}))])
    with pytest.raises(FamilyError, match="declares the section 'services' as ToySection, but postdeploy.environment already"):
        Registry([("one", Family(name="a", description="a", sections={"services": ToySection}))])


def test_declared_sections_extend_the_environment_typed_optional_and_lazy(tmp_path):
    class ToySection(families.Section):
        url: str
        password: str

    registry = Registry([("here", Family(name="toy", description="t", sections={"toy": ToySection},
                                         requires=("toy",)))])
    model = registry.environment_model
    assert issubclass(model, environment.Environment) and registry.environment_model is model
    (tmp_path / "with.yaml").write_text("services: {}\ntoy: {url: 'http://x', password: '${TOY_PW}'}\n")
    (tmp_path / "without.yaml").write_text("services: {}\n")
    (tmp_path / "typo.yaml").write_text("services: {}\ntoy: {ulr: 'http://x', password: p}\n")
    env, _ = environment.load("with", tmp_path, {}, model=model)  # an unset ${VAR} in it does not stop the run
    with pytest.raises(MissingSecret, match=r"section 'toy' needs \$\{TOY_PW\}"):
        env.section("toy")
    env, _ = environment.load("with", tmp_path, {"TOY_PW": "pw"}, model=model)
    assert env.section("toy") == ToySection(url="http://x", password="pw")
    assert registry.unmet(env, ["toy", "smoke"]) == []
    bare, _ = environment.load("without", tmp_path, {}, model=model)
    assert bare.section("toy") is None
    assert registry.unmet(bare, ["toy"]) == ["environment 'without' has no 'toy:' section, which @toy needs"]
    assert registry.unmet(bare, ["smoke"]) == []
    with pytest.raises(environment.EnvironmentFileError, match=r"'toy.ulr' is not a known field \(did you mean 'url'\?\)"):
        environment.load("typo", tmp_path, {}, model=model)
    with pytest.raises(environment.EnvironmentFileError, match="'toy' is not a known field"):
        environment.load("with", tmp_path, {"TOY_PW": "pw"})  # without the family, no such section


def test_a_section_with_a_default_counts_as_absent_when_not_written(tmp_path):
    registry = Registry([("here", Family(name="versions", description="v", requires=("release", "database")))])
    (tmp_path / "x.yaml").write_text("services: {}\nrelease: {version: '1.2'}\n")
    env, _ = environment.load("x", tmp_path, {})
    assert registry.unmet(env, ["versions"]) == ["environment 'x' has no 'database:' section, which @versions needs"]


def test_a_section_no_installed_step_reads_is_refused_unless_the_project_has_steps_of_its_own(tmp_path):
    class ToySection(families.Section):
        url: str

    registry = Registry([("here", Family(name="toy", description="t", sections={"toy": ToySection})),
                         ("there", Family(name="read", description="r", sections={"read": ToySection},
                                          step_modules=("steps.read",)))])
    (tmp_path / "x.yaml").write_text("services: {}\ntoy: {url: 'http://x'}\nread: {url: 'http://y'}\n")
    env, _ = environment.load("x", tmp_path, {}, model=registry.environment_model)
    assert registry.unread(env) == ["environment 'x' sets 'toy:', which no installed step reads (the @toy family "
                                    "has no steps yet): remove the section, or install the package whose steps "
                                    "read it"]
    assert registry.unread(env, project_steps=True) == []
    (tmp_path / "y.yaml").write_text("services: {}\nread: {url: 'http://y'}\n")
    assert registry.unread(environment.load("y", tmp_path, {}, model=registry.environment_model)[0]) == []


def test_discovery_is_cheap():
    code = ("import sys; from postdeploy import families; families.discover('.'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('playwright', 'steps', 'httpx', 'sandbox')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
