"""What every part of the environment schema shares: the base model, the field types (seconds,
milliseconds, an absolute URL, an HTTP method), the HTTP method names, and the wording of
"did you mean ...?" in error messages."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

#: a timeout in seconds: a positive, finite number (0 or a negative value would make every request fail)
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
#: a database timeout in milliseconds: a positive whole number
Milliseconds = Annotated[int, Field(gt=0)]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ALL_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _absolute_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
    return value.rstrip("/")


#: a URL that steps send requests to: absolute http(s)
HttpUrl = Annotated[str, BeforeValidator(lambda v: _absolute_url(v) if isinstance(v, str) else v)]


def _known_method(value: str) -> str:
    if value.upper() not in ALL_METHODS:
        raise ValueError(f"unknown HTTP method {value!r}; use one of {list(ALL_METHODS)}")
    return value.upper()


#: an HTTP method, written in any case, held upper-case: one of :data:`ALL_METHODS`
Method = Annotated[str, AfterValidator(_known_method)]


def _did_you_mean(name: str, options: Mapping[str, Any] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _overlaps(a: str, b: str) -> bool:
    """Whether two dotted paths are the same, or one lies inside the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"
