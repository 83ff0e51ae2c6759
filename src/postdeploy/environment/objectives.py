"""Objectives: a threshold in a unit (ms, s, percent, a count, per minute) with green / yellow / red
levels, graded against a measured value (:meth:`Objective.grade`)."""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from ..errors import EnvironmentFileError
from .common import _Model, _number

Unit = Literal["ms", "s", "percent", "count", "per_minute"]
#: an objective's name ending in one of these gives its unit when the entry does not say it
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_ms", "ms"), ("_s", "s"), ("_seconds", "s"), ("_pct", "percent"), ("_percent", "percent"),
    ("_per_minute", "per_minute"), ("_per_min", "per_minute"), ("_count", "count"),
)
_UNIT_WORDS = {
    "ms": "ms", "millisecond": "ms", "milliseconds": "ms", "s": "s", "sec": "s", "second": "s", "seconds": "s",
    "%": "percent", "percent": "percent", "/min": "per_minute", "per minute": "per_minute", "/m": "per_minute",
}
_SHOWN_UNIT = {"ms": " ms", "s": " s", "percent": "%", "per_minute": "/min", "count": "", None: ""}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(%|ms|s|sec|seconds?|milliseconds?|percent|/min|/m|per minute)?\s*$", re.IGNORECASE)
_THRESHOLDS = ("green_below", "red_above", "green_above", "red_below")


class Level(StrEnum):
    """How a measured value stands against an objective: green (fine), yellow (watch), red (roll back)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def unit_of_name(name: str) -> str | None:
    """The unit an objective's name implies (``p95_ms``: ms; ``error_rate_pct``: percent), None if none."""
    return next((unit for suffix, unit in UNIT_SUFFIXES if name.endswith(suffix)), None)


def _quantity(value: Any) -> tuple[Any, str | None]:
    """``0.5%`` -> (0.5, "percent"), ``600 ms`` -> (600, "ms"), 600 -> (600, None); anything else unchanged."""
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a number with an optional unit (600, 600 ms, 5 s, 0.5%, 10/min)")
        unit = match.group(2)
        return float(match.group(1)), (_UNIT_WORDS[unit.lower()] if unit else None)
    return value, None


class Objective(_Model):
    """A threshold a measured value is graded against, in a unit, with green / yellow / red levels.

    Lower is better (latency, error rate): ``green_below`` and, for a yellow band, ``red_above``
    (``{unit: percent, green_below: 0.5, red_above: 1}`` reads "< 0.5% green, 0.5-1% yellow, > 1% red").
    Higher is better (throughput, days before a certificate expires): ``green_above`` and ``red_below``.
    Without the red limit there is no yellow band: what is not green is red. The limits may carry their
    unit (``green_below: 0.5%``, ``red_above: 1 s``): it must agree with ``unit`` (seconds and milliseconds
    convert).
    """

    unit: Unit | None = None  # None: a plain number ("as is")
    green_below: float | None = Field(default=None, allow_inf_nan=False)
    red_above: float | None = Field(default=None, allow_inf_nan=False)
    green_above: float | None = Field(default=None, allow_inf_nan=False)
    red_below: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _limits_with_units(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError(  # noqa: TRY004 (pydantic reports a ValueError as a schema error; a TypeError escapes)
                "an objective is a number or a mapping such as {unit: ms, green_below: 600, red_above: 1000}")
        if isinstance(data, (int, float, str)):
            data = {"green_below": data}  # a bare limit: green below it, red from it on
        if not isinstance(data, dict):
            return data
        data = dict(data)
        limits = {key: _quantity(data[key]) for key in _THRESHOLDS if key in data}
        unit = data.get("unit") or next((written for _, written in limits.values() if written), None)
        for key, (number, written) in limits.items():
            if written is not None and written != unit:
                if {written, unit} != {"ms", "s"}:
                    raise ValueError(f"'{key}' is {data[key]!r}, in {written}, but the objective is in {unit}")
                number = number * 1000 if written == "s" else number / 1000  # 1 s in an objective in ms
            data[key] = number
        if unit is not None:
            data["unit"] = unit
        return data

    @model_validator(mode="after")
    def _one_direction(self) -> Objective:
        lower = self.green_below is not None or self.red_above is not None
        higher = self.green_above is not None or self.red_below is not None
        if lower and higher:
            raise ValueError("use green_below with red_above (lower is better) or green_above with red_below "
                             "(higher is better), not both")
        if self.green_below is None and self.green_above is None:
            raise ValueError("needs its green limit: green_below (lower is better, e.g. latency) or green_above "
                             "(higher is better, e.g. days before a certificate expires)")
        if self.green_below is not None and self.red_above is not None and self.red_above <= self.green_below:
            raise ValueError(f"red_above ({_number(self.red_above)}) must be greater than green_below "
                             f"({_number(self.green_below)}); leave red_above out for no yellow band")
        if self.green_above is not None and self.red_below is not None and self.red_below >= self.green_above:
            raise ValueError(f"red_below ({_number(self.red_below)}) must be less than green_above "
                             f"({_number(self.green_above)}); leave red_below out for no yellow band")
        return self

    @property
    def higher_is_better(self) -> bool:
        return self.green_above is not None

    @property
    def green(self) -> float:
        """The green limit, in the objective's unit."""
        return self.green_above if self.green_above is not None else self.green_below  # type: ignore[return-value]

    @property
    def red(self) -> float | None:
        """The red limit (None: no yellow band, what is not green is red)."""
        return self.red_below if self.higher_is_better else self.red_above

    def grade(self, value: float) -> Level:
        """Green, yellow or red: lower is better: green below ``green_below``, red above ``red_above``, yellow
        from one to the other, both included (the seeds' "< 0.5% green, 0.5-1% yellow, > 1% red"); higher is
        better: the mirror image. Without a red limit, what is not green is red."""
        if math.isnan(value):
            return Level.RED
        if self.higher_is_better:
            if value > self.green:
                return Level.GREEN
            return Level.RED if self.red is None or value < self.red else Level.YELLOW
        if value < self.green:
            return Level.GREEN
        return Level.RED if self.red is None or value > self.red else Level.YELLOW

    def show(self, value: float) -> str:
        """A value in the objective's unit: ``600 ms``, ``0.5%``, ``10/min``."""
        return f"{_number(value)}{_SHOWN_UNIT[self.unit]}"

    def describe(self) -> str:
        """``green below 600 ms, yellow 600-1000 ms, red above 1000 ms``: the levels as a release manager reads them."""
        green, red = self.green, self.red
        if self.higher_is_better:
            if red is None:
                return f"green above {self.show(green)}, red from {self.show(green)} down"
            return (f"green above {self.show(green)}, yellow {_number(red)}-{self.show(green)}, "
                    f"red below {self.show(red)}")
        if red is None:
            return f"green below {self.show(green)}, red from {self.show(green)} up"
        return f"green below {self.show(green)}, yellow {_number(green)}-{self.show(red)}, red above {self.show(red)}"

    def grade_ms(self, elapsed_ms: float) -> Level:
        """:meth:`grade` for a duration measured in milliseconds (the objective in ms or s)."""
        return self.grade(elapsed_ms / self.milliseconds(1.0))

    def latency_note(self, elapsed_ms: float) -> str:
        """``" (yellow: green below 600 ms, yellow 600-1000 ms, red above 1000 ms)"`` for an objective with a
        yellow band; "" for a bare limit (what is not green is red, as the message already says)."""
        if self.red is None:
            return ""
        return f" ({self.grade_ms(elapsed_ms)}: {self.describe()})"

    def milliseconds(self, value: float | None = None, name: str = "") -> float:
        """A duration of this objective (by default its green limit) in milliseconds; an objective that is
        not a duration (percent, a count, no unit) raises :class:`EnvironmentFileError`."""
        value = self.green if value is None else value
        if self.unit == "ms":
            return value
        if self.unit == "s":
            return value * 1000
        what = f"the objective '{name}'" if name else "the objective"
        unit = f"in {self.unit}" if self.unit else "a plain number"
        raise EnvironmentFileError(
            f"{what} is {unit}, not a duration; a latency needs one in ms or s "
            "(a name ending in _ms or _s, or unit: ms)")
