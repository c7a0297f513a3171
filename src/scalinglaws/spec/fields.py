"""Field helpers for spec classes: documented fields and validators whose messages say
what was expected and what was found. Built-in and plugin option classes use the same helpers,
and docs/spec-reference.md is generated from the ``doc`` metadata."""

import math
from typing import Any, Callable

import attrs


def field(default: Any = attrs.NOTHING, *, doc: str, validator: Any = None, factory: Any = None,
          converter: Any = None, flatten: bool = False) -> Any:
    """An ``attrs.field`` carrying its documentation (``doc``) for the generated reference."""
    if factory is not None:
        default = attrs.Factory(factory)
    return attrs.field(default=default, validator=validator, converter=converter,
                       metadata={"doc": doc, "flatten": flatten})


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive(_inst, attribute, value) -> None:
    if not (_number(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"expected a number > 0, got {value!r}")


def non_negative(_inst, attribute, value) -> None:
    if not (_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"expected a number >= 0, got {value!r}")


def at_least(n: int) -> Callable:
    def check(_inst, attribute, value) -> None:
        if not (_number(value) and value >= n):
            raise ValueError(f"expected a whole number >= {n}, got {value!r}")

    return check


def one_of(*choices: str) -> Callable:
    def check(_inst, attribute, value) -> None:
        if value not in choices:
            from ..errors import closest

            hint = closest(str(value), choices)
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}{hint}")

    return check


def equal_to(expected: Any) -> Callable:
    def check(_inst, attribute, value) -> None:
        if value != expected:
            raise ValueError(f"expected {expected!r}, got {value!r}")

    return check
