"""Structured matchers on dotted paths of an event's data: equality, any-of, not, exists, contains."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class _Missing:
    """The value of a path the event does not have."""

    def __repr__(self) -> str:
        return "missing"


MISSING: Any = _Missing()


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or MISSING; a null counts as missing."""
    value: Any = context
    for segment in path.split("."):
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return MISSING
    return MISSING if value is None else value


def show(value: Any) -> str:
    """A value as a rule author would write it in YAML."""
    if value is MISSING or value is None:
        return "missing" if value is MISSING else "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def values_equal(actual: Any, expected: Any) -> bool:
    """Equality as a rule author means it: true is not 1, but 42 and '42' are the same id."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, str):
        return str(actual) == expected
    if isinstance(actual, str) and isinstance(expected, (int, float)):
        return actual == str(expected)
    return actual == expected


@dataclass(frozen=True)
class Equals:
    """The value equals `value` (`path: value`); `null` means the path is missing."""

    value: Any

    def test(self, actual: Any) -> bool:
        if self.value is None:
            return actual is MISSING
        return actual is not MISSING and values_equal(actual, self.value)

    def describe(self) -> str:
        return show(self.value)


@dataclass(frozen=True)
class AnyOf:
    """The value is one of `values` (`path: [a, b]`)."""

    values: tuple[Any, ...]

    def test(self, actual: Any) -> bool:
        return any(Equals(value).test(actual) for value in self.values)

    def describe(self) -> str:
        return "one of " + ", ".join(show(value) for value in self.values)


@dataclass(frozen=True)
class Not:
    """The inner condition does not hold (`path: {not: …}`)."""

    inner: Condition

    def test(self, actual: Any) -> bool:
        return not self.inner.test(actual)

    def describe(self) -> str:
        return "not " + self.inner.describe()


@dataclass(frozen=True)
class Exists:
    """The path is present (or, with `exists: false`, absent)."""

    present: bool

    def test(self, actual: Any) -> bool:
        return (actual is not MISSING) == self.present

    def describe(self) -> str:
        return "it to exist" if self.present else "it to be missing"


@dataclass(frozen=True)
class Contains:
    """The value is a list holding `value` (`path: {contains: value}`); e-mails match whatever their case."""

    value: Any

    def test(self, actual: Any) -> bool:
        if not isinstance(actual, list | tuple):
            return False
        if isinstance(self.value, str):
            return any(isinstance(item, str) and item.lower() == self.value.lower() for item in actual)
        return any(values_equal(item, self.value) for item in actual)

    def describe(self) -> str:
        return f"a list containing {show(self.value)}"


Condition = Equals | AnyOf | Not | Exists | Contains


@dataclass(frozen=True)
class Matcher:
    """One condition on one dotted path of the event's data."""

    path: str
    condition: Condition

    def failure(self, context: Mapping[str, Any]) -> str | None:
        """Why the context fails this matcher, or None when it matches."""
        actual = lookup(context, self.path)
        if self.condition.test(actual):
            return None
        return f"{self.path} is {show(actual)}, rule wants {self.condition.describe()}"


def first_failure(matchers: tuple[Matcher, ...], context: Mapping[str, Any]) -> str | None:
    """The reason the first failing matcher gives, or None when all match."""
    for matcher in matchers:
        reason = matcher.failure(context)
        if reason is not None:
            return reason
    return None


def condition_from(spec: Any) -> Condition:
    """Build a condition from its YAML form; the loader has checked the shape already."""
    if isinstance(spec, list):
        return AnyOf(tuple(spec))
    if isinstance(spec, Mapping):
        if "not" in spec:
            return Not(condition_from(spec["not"]))
        if "contains" in spec:
            return Contains(spec["contains"])
        return Exists(bool(spec["exists"]))
    return Equals(spec)
