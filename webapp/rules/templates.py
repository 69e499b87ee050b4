"""Task titles, actions and reasons as Jinja templates, rendered in a sandbox with strict undefined."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Autoescape is off: these are plain text, and the web layer escapes when it renders HTML.
ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)

MISSING = "(unknown)"


class _MissingValue(jinja2.ChainableUndefined):
    """A field the vocabulary allows but this event lacks: shown as a placeholder."""

    def __str__(self) -> str:
        return MISSING


# Names are checked against the vocabulary when the rulebook loads, so an undefined
# value at render time is missing data, not a typo: a task with a placeholder in its
# title is better than an event that fails every retry and opens nothing.
LENIENT_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=_MissingValue, autoescape=False)


@functools.lru_cache(maxsize=256)
def _lenient(source: str) -> jinja2.Template:
    return LENIENT_ENVIRONMENT.from_string(source)


class TemplateRenderError(Exception):
    """A template could not be rendered for an event (a missing field, a forbidden operation)."""


@dataclass(frozen=True)
class Template:
    """A compiled template and its source text."""

    source: str
    compiled: jinja2.Template = field(compare=False, repr=False)

    def render(self, context: Mapping[str, Any], what: str = "template") -> str:
        """The rendered text, stripped; raises TemplateRenderError naming `what` on failure."""
        try:
            return self.compiled.render(dict(context)).strip()
        except jinja2.UndefinedError:
            try:
                return _lenient(self.source).render(dict(context)).strip()
            except jinja2.TemplateError as exc:
                raise TemplateRenderError(f"{what}: cannot render {self.source!r}: {exc}") from exc
        except jinja2.TemplateError as exc:
            raise TemplateRenderError(f"{what}: cannot render {self.source!r}: {exc}") from exc


def compile_template(source: str) -> Template:
    """Compile a template; raises jinja2.TemplateSyntaxError when it does not parse."""
    return Template(source, ENVIRONMENT.from_string(source))


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
