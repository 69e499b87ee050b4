"""What every entry point checks of what it is sent, before anything is stored: one layer, so that
hostile input gets the same clear 400 at `/api/events`, at every vendor's webhook and in forms,
on SQLite and PostgreSQL alike.

A body is JSON nested at most MAX_DEPTH deep; no string in it (keys included) holds a NUL or a
lone surrogate (PostgreSQL cannot store them, SQLite would store what the worker then cannot
process); numbers are finite; ids and vendor actions fit the inbox's 255 characters.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
MAX_ID_LENGTH = 255


class InboundError(ValueError):
    """Input refused at the door: `error` is the machine-readable code, the text says what is wrong."""

    def __init__(self, message: str, error: str = "bad_request", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.error = error
        self.field = field


def _refuse_constant(name: str) -> float:
    raise InboundError(f"{name} is not a JSON number Docket can store", "bad_json")


def read_json(body: bytes) -> Any:
    """The body's JSON value, checked as above; raises InboundError."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InboundError("the body is not UTF-8", "bad_json") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InboundError(f"the JSON is nested more than {MAX_DEPTH} levels deep", "bad_json") from None
    except ValueError as exc:  # json's own errors, and integers too long to read
        if isinstance(exc, InboundError):
            raise
        raise InboundError("the body is not JSON", "bad_json") from None
    check_value(value)
    return value


def read_object(body: bytes, what: str = "the body") -> dict:
    """read_json, for bodies that must be a JSON object."""
    value = read_json(body)
    if not isinstance(value, dict):
        raise InboundError(f"{what} must be a JSON object, not {_kind(value)}", "bad_json", "(body)")
    return value


def check_value(value: Any, where: str = "(body)") -> None:
    """Walk a decoded value without recursion; raise InboundError at the first thing that cannot be stored."""
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InboundError(f"the JSON is nested more than {MAX_DEPTH} levels deep", "bad_json", path)
        if isinstance(item, str):
            check_text(item, path)
        elif isinstance(item, float) and not math.isfinite(item):
            raise InboundError(f"{path}: {item} is not a number Docket can store", "bad_json", path)
        elif isinstance(item, dict):
            for key, sub in item.items():
                check_text(key, f"{path} (a key)")
                stack.append((sub, key if path == "(body)" else f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((sub, f"{path}[{index}]", depth + 1) for index, sub in enumerate(item))


def check_text(text: str, field: str) -> None:
    """A string that PostgreSQL and SQLite both store as it is: no NUL, no lone surrogate."""
    if "\x00" in text:
        raise InboundError(f"{field}: contains a NUL character", "bad_text", field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InboundError(f"{field}: contains a lone surrogate (not valid Unicode)", "bad_text", field) from None


def check_id(value: Any, field: str) -> str:
    """An id or action as the inbox stores it: text of at most MAX_ID_LENGTH characters."""
    text = str(value)
    check_text(text, field)
    if len(text) > MAX_ID_LENGTH:
        raise InboundError(f"{field} is longer than {MAX_ID_LENGTH} characters", "bad_request", field)
    return text


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
