"""What option classes are written with: documented fields, validators whose messages say what was
expected and what was found, and :class:`Invalid` for a value a class cannot take. The spec's own
classes, the built-in and the plugin option classes (data sources, estimators, tasks) use the same
helpers, and docs/spec-reference.md is generated from the ``doc`` metadata.

It sits below every layer that declares options (data, estimators, tasks) and below ``spec``, which
structures YAML into those classes, so declaring an option never imports the spec loader."""

import math
from typing import Any, Callable

import attrs

from .errors import closest


class Invalid(ValueError):
    """A problem at ``at`` (a path relative to the value being structured). A ValueError, so
    Python callers building spec classes directly can catch it as one."""

    def __init__(self, message: str, at: tuple = ()):
        super().__init__(message)
        self.message, self.at = message, tuple(at)


def number(value: Any) -> float:
    """``value`` as a spec number: an int or float (not a bool), or text that ``float()`` reads
    (YAML 1.1 reads ``1e-3`` as text), except nan; else :class:`Invalid`."""
    if isinstance(value, bool):
        raise Invalid(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            out = float(value)
        except ValueError:
            pass
        else:
            if not math.isnan(out):
                return out
    raise Invalid(f"expected a number, got {value!r}")


def numbers(values: Any) -> tuple[float, ...]:
    """A list of spec numbers; every bad element is reported at its index (one group of
    :class:`Invalid`, which the spec loader turns into one located problem each)."""
    out, bad = [], []
    for i, value in enumerate(values):
        try:
            out.append(number(value))
        except Invalid as exc:
            bad.append(Invalid(exc.message, (i,)))
    if bad:
        raise ExceptionGroup("invalid numbers", bad)
    return tuple(out)


def field(default: Any = attrs.NOTHING, *, doc: str, validator: Any = None, factory: Any = None,
          converter: Any = None, flatten: bool = False) -> Any:
    """An ``attrs.field`` carrying its documentation (``doc``) for the generated reference."""
    if factory is not None:
        default = attrs.Factory(factory)
    return attrs.field(default=default, validator=validator, converter=converter,
                       metadata={"doc": doc, "flatten": flatten})


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive(_inst, attribute, value) -> None:
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"expected a number > 0, got {value!r}")


def non_negative(_inst, attribute, value) -> None:
    if not (_is_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"expected a number >= 0, got {value!r}")


def at_least(n: int) -> Callable:
    def check(_inst, attribute, value) -> None:
        if not (_is_number(value) and value >= n):
            raise ValueError(f"expected a whole number >= {n}, got {value!r}")

    return check


def one_of(*choices: str) -> Callable:
    def check(_inst, attribute, value) -> None:
        if value not in choices:
            hint = closest(str(value), choices)
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}{hint}")

    return check


def equal_to(expected: Any) -> Callable:
    def check(_inst, attribute, value) -> None:
        if value != expected:
            raise ValueError(f"expected {expected!r}, got {value!r}")

    return check
