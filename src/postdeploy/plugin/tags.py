"""Tags with a value: ``@severity:<level>`` and ``@checklist:<item id>`` (every family's tag is a marker, from the
registry in ``postdeploy.families``; these are the plugin's own)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .state import ENV_KEY

# One marker each, whatever the value (pytest_bdd_apply_tag).
VALUE_TAGS = {
    "severity": "@severity:<blocker|critical|normal|minor|trivial>: how bad a failure of the scenario is (Allure severity)",
    "checklist": "@checklist:<item id>: the deployment checklist item the scenario verifies",
}
SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")


def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    """Tags with a value (``@severity:critical``, ``@checklist:v2-rollback``) need no marker per value: they
    become the ``severity``/``checklist`` marker with the value as its argument, and the Allure label."""
    key, sep, value = tag.partition(":")
    if not sep or key not in ("severity", "checklist"):
        return None  # pytest-bdd's default: the tag is a marker of that name (--strict-markers checks it)
    if not value or (key == "severity" and value not in SEVERITIES):  # the scenario is a suite error; others run
        return pytest.mark.postdeploy_bad_tag(
            f"the tag @{tag} needs a value: @severity:<{'|'.join(SEVERITIES)}> or @checklist:<item id>")(function)
    function = getattr(pytest.mark, key)(value)(function)
    return pytest.mark.allure_label(value, label_type=key)(function)


# ---- a project's own tags --------------------------------------------------------------------------------

_TAG_LINE = re.compile(r"^\s*(@.*)$", re.MULTILINE)
_EXPRESSION_WORDS = {"and", "or", "not"}


def feature_tags(config: pytest.Config) -> set[str]:
    """Every plain tag (``@nightly``; not ``@severity:critical``) written in the project's feature files: the
    folders of ``testpaths`` (default: the root) and the paths given on the command line."""
    roots = [config.rootpath / path for path in config.getini("testpaths")] or [config.rootpath]
    roots += [Path(arg.split("::", 1)[0]) for arg in config.args if not arg.startswith("-")]
    found: set[str] = set()
    for root in roots:
        root = root if root.is_absolute() else config.invocation_params.dir / root
        files = [root] if root.suffix == ".feature" else root.rglob("*.feature") if root.is_dir() else []
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # the feature-file check reports what cannot be read
            for line in _TAG_LINE.findall(text):
                found.update(word[1:] for word in line.split() if word.startswith("@") and len(word) > 1
                             and ":" not in word)
    return found


def register_project_tags(config: pytest.Config, known: dict[str, str]) -> set[str]:
    """Accept the tags a project's features use without a line of configuration, and refuse a ``-m`` expression
    that names a tag no scenario carries (a typo would otherwise select nothing, or everything but it).

    ``known`` holds the families' tags and the plugin's own. A feature tag one letter or two away from a family's
    tag (``@smok``) is left unregistered, so ``--strict-markers`` stops the run with pytest's message and the
    hint printed here.
    """
    tags = feature_tags(config)
    close = {tag: difflib.get_close_matches(tag, list(known), n=1, cutoff=0.8) for tag in tags - set(known)}
    suspicious = {tag: match[0] for tag, match in close.items() if match}
    for tag in sorted(tags - set(known) - set(suspicious)):
        config.addinivalue_line("markers", f"{tag}: a tag of this project's features")
    if suspicious:
        listed = "; ".join(f"@{tag} (did you mean @{near}?)" for tag, near in sorted(suspicious.items()))
        raise pytest.UsageError(
            f"postdeploy: the features use tags that look like mistyped family tags: {listed}. Fix the tag in the "
            "feature file, or, if it is a tag of your own, give it a name that is not one letter away from a "
            "family's tag.")
    expression = config.getoption("markexpr") or ""
    markers = {line.split(":", 1)[0].split("(", 1)[0].strip() for line in config.getini("markers")}
    for word in re.findall(r"[A-Za-z_][\w-]*", expression):
        if word in _EXPRESSION_WORDS or word in markers:
            continue
        hint = difflib.get_close_matches(word, sorted(markers | tags), n=1, cutoff=0.6)
        raise pytest.UsageError(
            f"postdeploy: -m {expression!r} names the tag '{word}', which no feature and no family has"
            f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; it would select nothing. The tags: "
            f"{', '.join(sorted(tags | set(known)))}.")
    return tags


@pytest.hookimpl(trylast=True)  # after allure-pytest-bdd has opened the scenario's result
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """``@checklist:<id>`` links to its item when the environment says where items live (``release.checklist_url``)."""
    env = request.config.stash.get(ENV_KEY, None)
    template = env.release.checklist_url if env is not None else None
    if not template:
        return
    import allure

    for marker in request.node.iter_markers("checklist"):
        item = str(marker.args[0])
        allure.dynamic.link(template.replace("{id}", quote(item, safe="")), link_type="checklist", name=item)
