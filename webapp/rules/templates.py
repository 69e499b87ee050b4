"""Task titles, actions and reasons as Jinja templates, rendered in a sandbox with strict undefined.

The sandbox is bounded as well as safe: an admin's template cannot make a huge number (`9**9999999`,
which Jinja would even fold while compiling), a huge string (`'x' * 10**9`, `|center(10**9)`), a long
range, or more output than a task's text can hold; each is a TemplateRenderError (a SecurityError
inside Jinja), raised at once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

# Bounds on what a template may build: far above any title or action, far below a slow page.
MAX_OUTPUT = 10_000  # characters a template may render
MAX_SIZE = 10_000  # length of a string or list an operator or call may be asked to make
MAX_RANGE = 1_000  # items of range()
MAX_POWER_BITS = 256  # bits of the result of `**`


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_count(value: Any) -> None:
    """An integer argument that would size a string or list (`center(n)`, `'x' * n`)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE:
        raise SecurityError(f"{value} is too large a number here (at most {MAX_SIZE})")


def _bounded_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise SecurityError(f"range() of {len(values)} items is too long (at most {MAX_RANGE})")
    return values


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every operation that could take unbounded time or memory bounded."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _bounded_range
        # Filters are called directly, not through `call`: each gets the same argument check.
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**" and _number(left) and _number(right):
            magnitude = abs(left) if left else 1
            bits = (magnitude.bit_length() if isinstance(magnitude, int) else 64) * abs(right)
            if abs(right) > MAX_POWER_BITS or bits > MAX_POWER_BITS:
                raise SecurityError(f"{left} ** {right} is too large a number")
        elif op == "*" and (_size(left) or _size(right)):
            count = right if _size(left) else left
            if isinstance(count, int) and (_size(left) or _size(right)) * count > MAX_SIZE:
                raise SecurityError(f"repeating to {MAX_SIZE} or more characters or items is not allowed")
        elif op == "%" and isinstance(left, str):
            # printf-style widths and precisions (`%0999999999d`) size the result.
            for width in _spec_numbers(_PRINTF_SPEC.findall(left)):
                _check_count(width)
        result = super().call_binop(context, op, left, right)
        if _size(result) > MAX_OUTPUT:
            raise SecurityError(f"a value of {len(result)} characters or items is too long")
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        for value in (*args, *kwargs.values()):
            _check_count(value)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:  # `'{:>20}'.format(x)`: the spec's widths size the result
            for width in _spec_numbers(_FORMAT_SPEC.findall(value.__self__)):
                _check_count(width)
        return wrapped


def _bounded_filter(function: Any) -> Any:
    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            _check_count(value)
        return function(*args, **kwargs)

    return bounded


# The numbers in printf-style conversions (`%08.3f`) and str.format specs (`{:>20}`).
_PRINTF_SPEC = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")


def _spec_numbers(specs: list[str]) -> list[int]:
    return [int(number) for spec in specs for number in re.findall(r"\d+", spec)]


# Autoescape is off: these are plain text, and the web layer escapes when it renders HTML.
ENVIRONMENT = BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=False)

MISSING = "(unknown)"


class _MissingValue(jinja2.ChainableUndefined):
    """A field the vocabulary allows but this event lacks: shown as a placeholder."""

    def __str__(self) -> str:
        return MISSING


# Names are checked against the vocabulary when the rulebook loads, so an undefined
# value at render time is missing data, not a typo: a task with a placeholder in its
# title is better than an event that fails every retry and opens nothing.
LENIENT_ENVIRONMENT = BoundedSandbox(undefined=_MissingValue, autoescape=False)


@functools.lru_cache(maxsize=256)
def _lenient(source: str) -> jinja2.Template:
    return LENIENT_ENVIRONMENT.from_string(source)


class TemplateRenderError(Exception):
    """A template could not be rendered for an event (a missing field, a forbidden operation)."""


# Rendered texts by template and the values it reads: a worker renders the same title for every
# event about one candidate and stage, and the same reason for every resolution of a kind.
# Templates are pure (no clock, no randomness: the sandbox has no such global), so a text
# depends on nothing else. Bounded: the oldest entries go first.
RENDERED_CACHE_SIZE = 4096
_rendered: dict[tuple[str, str], str] = {}


def _render_key(template: Template, context: Mapping[str, Any]) -> tuple[str, str] | None:
    """What a text depends on: the template and the values of the names it reads, as JSON (None
    when a value is not plain JSON data, whose text could stand for more than one value)."""
    try:
        values = json.dumps([context.get(name, _ABSENT) for name in template.names], sort_keys=True)
    except (TypeError, ValueError):
        return None
    return template.source, values


_ABSENT = {"__absent__": True}  # a name the context lacks, told apart from null


@dataclass(frozen=True)
class Template:
    """A compiled template and its source text."""

    source: str
    compiled: jinja2.Template = field(compare=False, repr=False)
    names: tuple[str, ...] = field(default=(), compare=False, repr=False)  # the free names it reads

    def render(self, context: Mapping[str, Any], what: str = "template") -> str:
        """The rendered text, stripped; raises TemplateRenderError naming `what` on failure: a missing
        field the lenient pass cannot place, a forbidden or unbounded operation, or any error the
        template's own expressions raise (`1/0`, `name + 1`)."""
        key = _render_key(self, context)
        if key is not None and key in _rendered:
            return _rendered[key]
        text = self._render(context, what)
        if key is not None:
            if len(_rendered) >= RENDERED_CACHE_SIZE:
                _rendered.pop(next(iter(_rendered), None), None)  # two threads may drop the same one
            _rendered[key] = text
        return text

    def _render(self, context: Mapping[str, Any], what: str) -> str:
        try:
            try:
                return _bounded_text(self.compiled, context)
            except jinja2.UndefinedError:
                return _bounded_text(_lenient(self.source), context)
        except Exception as exc:  # a template is the admin's code: whatever it raises is its failure
            raise TemplateRenderError(f"{what}: cannot render {self.source!r}: {exc}") from exc


def _bounded_text(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render piece by piece, stopping as soon as the text outgrows MAX_OUTPUT."""
    pieces, length = [], 0
    for piece in template.generate(dict(context)):
        length += len(piece)
        if length > MAX_OUTPUT:
            raise SecurityError(f"the text is longer than {MAX_OUTPUT} characters")
        pieces.append(piece)
    return "".join(pieces).strip()


def compile_template(source: str) -> Template:
    """Compile a template; raises jinja2.TemplateSyntaxError when it does not parse."""
    names = tuple(sorted(meta.find_undeclared_variables(ENVIRONMENT.parse(source))))
    return Template(source, ENVIRONMENT.from_string(source), names)


def referenced_paths(source: str) -> set[str]:
    """The dotted data paths a template reads (`candidate.name`), as far as they are static.

    Raises jinja2.TemplateSyntaxError when the template does not parse.
    """
    tree = ENVIRONMENT.parse(source)
    free = meta.find_undeclared_variables(tree)
    paths = set(free)
    # `candidate.name.upper()` calls a method of the value; only the data part is a path.
    methods = {id(call.node) for call in tree.find_all(nodes.Call)}
    for node in tree.find_all(nodes.Getattr):
        if id(node) in methods:
            continue
        path = _dotted(node)
        # Loop variables and `set` names are not data; only chains rooted in free names are.
        if path and path.split(".")[0] in free:
            paths.add(path)
    return paths


def _dotted(node: nodes.Node) -> str | None:
    """`a.b.c` for a chain of attribute reads on a name, else None."""
    parts: list[str] = []
    while isinstance(node, nodes.Getattr):
        parts.append(node.attr)
        node = node.node
    if not isinstance(node, nodes.Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))
