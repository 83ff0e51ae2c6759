"""The Allure categories: one per verdict kind (``postdeploy.verdicts``), plus flaky failures.

allure-python writes a *failed* result (an ``AssertionError``) and a *broken* one (anything else) with
``statusDetails.message`` = ``traceback.format_exception_only``: ``AssertionError: ...`` for built-ins and the
dotted path for the rest, e.g. ``postdeploy.errors.ServiceUnreachable: billing did not answer``. The
``trace`` is pytest's long representation and ends with ``file.py:LINE: ServiceUnreachable``. The category
rules below match both.

Allure 3's default (``awesome``) report does not read ``categories.json``: they must come from the
``categories`` key of the Allure config (:func:`load_categories`, for :func:`postdeploy.report.build_report`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from postdeploy import errors
from postdeploy.errors import EnvironmentProblem, MissingSecret, SuiteError

CATEGORY_TARGET = "Target defects"
CATEGORY_ENVIRONMENT = "Environment errors"
CATEGORY_OTHER_BROKEN = "Suite errors"
CATEGORY_INCONCLUSIVE = "Inconclusive"
CATEGORY_FLAKY = "Flaky (failed now, passed recently)"

# Always listed, even if a subclass module was not imported when the metadata is written.
_KNOWN_ENVIRONMENT_PROBLEMS = (
    "EnvironmentProblem",
    "MissingSecret",
    "ServiceUnreachable",
    "AlreadyReported",
    "SandboxStartError",
    "BrowserUnavailable",
)


def _environment_problem_names() -> list[str]:
    """Exceptions whose verdict is *environment error*: EnvironmentProblem's subclasses that are not also
    suite errors (a wrong environment file), except a missing secret, which is the environment's."""
    names = list(_KNOWN_ENVIRONMENT_PROBLEMS)
    for cls in errors.tree(EnvironmentProblem):
        if cls.__name__ not in names and (not issubclass(cls, SuiteError) or issubclass(cls, MissingSecret)):
            names.append(cls.__name__)
    return names


def categories() -> list[dict]:
    """The category rules, in the Allure 2 ``categories.json`` format (Allure 3 accepts it as config).

    Allure 3 puts a result in the *first* category that matches, and lists categories in this order:
    flaky failures before the other failed results (target defects: the plugin turns every target defect
    into a failed result), then environment errors (broken results raised by the environment's problems,
    and scenarios skipped because a service was reported unreachable), then every other broken result
    (suite errors), then inconclusive scenarios (skipped with a reason that starts ``inconclusive:``).
    Skips by policy (``not applicable:``) are in no category.
    Regexes are written so that they work both as a search (Allure 3, JavaScript) and as a full match
    (Allure 2, Java).
    """
    alternatives = "|".join(re.escape(n) for n in _environment_problem_names())
    message_regex = rf"^(?:[A-Za-z_][\w.]*\.)?(?:{alternatives})(?:[:\s][\s\S]*)?$"
    trace_regex = rf"^[\s\S]*:\d+: (?:[A-Za-z_][\w.]*\.)?(?:{alternatives})\s*$"
    environment_description = (
        "The suite could not reach or authenticate to what it needs before anything answered: a service did "
        "not answer the preflight, a secret is missing, the browser or the sandbox did not start. Not a defect "
        "of the deployment; fix the environment and re-run."
    )
    flaky = {
        "name": CATEGORY_FLAKY,
        "description": "Failed in this run but passed in one of the recent runs (from history): an intermittent "
        "defect or an unstable check.",
        "matchedStatuses": ["failed"],
        "flaky": True,
    }
    target = {
        "name": CATEGORY_TARGET,
        "description": "A check ran and saw the deployment misbehave (a failed assertion).",
        "matchedStatuses": ["failed"],
    }
    environment_by_message = {
        "name": CATEGORY_ENVIRONMENT,
        "description": environment_description,
        "matchedStatuses": ["broken"],
        "messageRegex": message_regex,
    }
    # Same name: Allure 3 merges the two rules into one category (message OR trace matches).
    environment_by_trace = {**environment_by_message, "traceRegex": trace_regex}
    del environment_by_trace["messageRegex"]
    environment_skipped = {**environment_by_message, "matchedStatuses": ["skipped"],
                           "messageRegex": r"^(?:Skipped: )?environment error: [\s\S]*$"}
    other = {
        "name": CATEGORY_OTHER_BROKEN,
        "description": "A feature or environment file is wrong (an undefined step, a Then with nothing to check, "
        "an unknown service, a Gherkin syntax error, a writing step outside @mutating), or a step has a bug: "
        "read the message and the trace.",
        "matchedStatuses": ["broken"],
    }
    inconclusive = {
        "name": CATEGORY_INCONCLUSIVE,
        "description": "No verdict could be reached: the target rate-limited a check that is not about rate "
        "limits, a dependency of the check is not configured, or a service it needs stopped answering earlier "
        "(that was reported as a target defect).",
        "matchedStatuses": ["skipped"],
        "messageRegex": r"^(?:Skipped: )?inconclusive: [\s\S]*$",
    }
    return [flaky, target, environment_by_message, environment_by_trace, environment_skipped, other, inconclusive]


def load_categories(results_dir: Path) -> list[dict]:
    """The rules of ``categories.json`` in ``results_dir`` (else :func:`categories`), as Allure 3's config takes them."""
    path = results_dir / "categories.json"
    rules = categories()
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, list) and loaded:
                rules = loaded
        except ValueError:
            pass
    keep = ("name", "matchedStatuses", "messageRegex", "traceRegex", "flaky")
    out = []
    for rule in rules:
        if isinstance(rule, dict) and rule.get("name"):
            entry = {k: rule[k] for k in keep if k in rule}
            entry["expand"] = rule["name"] in (CATEGORY_TARGET, CATEGORY_ENVIRONMENT)
            out.append(entry)
    return out
