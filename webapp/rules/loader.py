"""Read rules.yaml into a Rulebook, reporting every problem with its file, line, column and path."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import safe_yaml
from . import vocabulary as vocab
from .examples import example_data
from .matchers import Contains, Matcher, condition_from
from .model import Due, ResolveOn, Rule, Rulebook, SamePath, Urgent
from .templates import Template, TemplateRenderError, compile_template, referenced_paths

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# A `due:` duration: a whole number of minutes, hours or days ("30m", "2h", "1d").
DURATION = re.compile(r"^(\d{1,4})([mhd])$")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
SUPPORTED_VERSION = 1
DEFAULT_PRIORITY = "normal"

TOP_KEYS = {"version": True, "defaults": False, "rules": True}
DEFAULTS_KEYS = {"priority": False, "assignee": False}
RULE_KEYS = {
    "id": True,
    "category": True,
    "description": False,
    "event": True,
    "match": False,
    "key": True,
    "assignee": False,  # required unless `defaults` names one
    "priority": False,
    "title": True,
    "action": True,
    "resolve_on": False,
    "wake_on": False,
    "due": False,
    "urgent": False,
}
DUE_KEYS = {"before": True, "by": True}
URGENT_KEYS = {"before": True, "within": True}
RESOLVE_KEYS = {"event": True, "match": False, "same": True, "reason": False}

_TAG_NAMES = {
    "tag:yaml.org,2002:str": "a string",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rulebook, where it is, and what to do about it."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RulebookError(Exception):
    """A rulebook failed validation; `problems` lists everything found, in file order."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def load_rulebook(text: str, filename: str = "rules.yaml", *, render_examples: bool = True) -> Rulebook:
    """Parse and validate rulebook text; raises RulebookError listing every problem.

    render_examples: also render every template on an example event of each type it is for. A
    saved version in force is loaded without it: it was checked when saved, and a template that
    fails at run time gives its task a plain text (see engine.make_trigger), not a lost rulebook.
    """
    return _Loader(text, filename, render_examples).load()


def load_rulebook_file(path: str | Path) -> Rulebook:
    """Load a rulebook from a file, naming the file in problems as it was given."""
    return load_rulebook(Path(path).read_text(encoding="utf-8"), filename=str(path))


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(node: Node) -> str:
    """What a YAML node is, in words: 'a list', 'an integer'."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _TAG_NAMES.get(node.tag, "a value")


def _getter(entries: dict[str, tuple[Node, Node]]) -> Callable[[str], Node | None]:
    """A function giving the value node of a key, or None when the key is absent."""
    return lambda key: entries[key][1] if key in entries else None


def _is_string(node: Node | None) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str"


class _Loader:
    """One pass over one document, collecting problems instead of stopping at the first."""

    def __init__(self, text: str, filename: str, render_examples: bool = True):
        self.text = text
        self.filename = filename
        self.render_examples = render_examples
        self.problems: list[Problem] = []
        self.constructor = yaml.constructor.SafeConstructor()

    # -- reporting -----------------------------------------------------------------

    def problem(self, node: Node | None, path: str, message: str) -> None:
        mark = node.start_mark if node is not None else None
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.problems.append(Problem(self.filename, line, column, path, message))

    def value(self, node: Node) -> Any:
        """The plain Python value of a node (scalars, lists and mappings alike)."""
        return self.constructor.construct_object(node, deep=True)

    # -- the document ---------------------------------------------------------------

    def load(self) -> Rulebook:
        try:
            root = safe_yaml.compose(self.text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            if not isinstance(exc, safe_yaml.YAMLLimitError):
                problem = f"YAML syntax error: {problem}"
            raise RulebookError([Problem(self.filename, line, column, "", problem)]) from exc
        if root is None:
            raise RulebookError([Problem(self.filename, 1, 1, "", "the rulebook is empty")])

        self.check_duplicate_keys(root, "")
        rulebook = self.rulebook(root)
        if self.problems or rulebook is None:
            raise RulebookError(self.problems)
        return rulebook

    def check_duplicate_keys(self, node: Node, path: str) -> None:
        """Report every key defined twice in any mapping; YAML itself would keep the last."""
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.check_duplicate_keys(item, f"{path}[{index}]")
        elif isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, ScalarNode) else id(key_node)
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    self.problem(
                        key_node,
                        path,
                        f"duplicate key {key!r} (first defined on line {first})",
                    )
                else:
                    seen[key] = key_node
                child = f"{path}.{key}" if path else str(key)
                self.check_duplicate_keys(value_node, child)

    def mapping(self, node: Node, path: str, allowed: dict[str, bool]) -> dict[str, tuple[Node, Node]] | None:
        """The entries of a mapping node by key, after checking unknown and missing keys."""
        if not isinstance(node, MappingNode):
            self.problem(node, path, f"expected a mapping, got {describe(node)}")
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key not in allowed:
                shown = key if key is not None else describe(key_node)
                hint = did_you_mean(str(shown), allowed)
                self.problem(key_node, path, f"unknown key {shown!r}{hint}")
                continue
            entries.setdefault(key, (key_node, value_node))
        for key, required in allowed.items():
            if required and key not in entries:
                self.problem(node, path, f"missing required key {key!r}")
        return entries

    def string(self, node: Node, path: str, *, empty_ok: bool = False) -> str | None:
        if not _is_string(node):
            self.problem(node, path, f"expected a string, got {describe(node)}")
            return None
        if not empty_ok and not node.value.strip():
            self.problem(node, path, "must not be empty")
            return None
        return node.value

    def strings(self, node: Node, path: str, *, single_ok: bool) -> list[tuple[str, Node, str]]:
        """(value, node, path) for a list of strings, or for one string when `single_ok`."""
        if single_ok and isinstance(node, ScalarNode):
            value = self.string(node, path)
            return [(value, node, path)] if value is not None else []
        if not isinstance(node, SequenceNode):
            wanted = "a string or a list of strings" if single_ok else "a list of strings"
            self.problem(node, path, f"expected {wanted}, got {describe(node)}")
            return []
        if not node.value:
            self.problem(node, path, "must not be empty")
        result = []
        for index, item in enumerate(node.value):
            value = self.string(item, f"{path}[{index}]")
            if value is not None:
                result.append((value, item, f"{path}[{index}]"))
        return result

    def rulebook(self, root: Node) -> Rulebook | None:
        entries = self.mapping(root, "", TOP_KEYS)
        if entries is None:
            return None
        version = self.version(entries)
        defaults = self.defaults(entries["defaults"][1]) if "defaults" in entries else {}
        rules: list[Rule] = []
        if "rules" in entries:
            rules_node = entries["rules"][1]
            if not isinstance(rules_node, SequenceNode):
                self.problem(rules_node, "rules", f"expected a list, got {describe(rules_node)}")
            else:
                rules = self.rules(rules_node, defaults)
        return Rulebook(version or SUPPORTED_VERSION, tuple(rules), self.text)

    def version(self, entries: dict[str, tuple[Node, Node]]) -> int | None:
        if "version" not in entries:
            return None
        node = entries["version"][1]
        value = self.value(node) if isinstance(node, ScalarNode) else None
        if value != SUPPORTED_VERSION or isinstance(value, bool):
            self.problem(
                node,
                "version",
                f"unsupported version {self.value(node)!r}; use {SUPPORTED_VERSION}",
            )
            return None
        return value

    def defaults(self, node: Node) -> dict[str, Any]:
        entries = self.mapping(node, "defaults", DEFAULTS_KEYS)
        if not entries:
            return {}
        defaults: dict[str, Any] = {}
        if "priority" in entries:
            defaults["priority"] = self.priority(entries["priority"][1], "defaults.priority")
        if "assignee" in entries:
            defaults["assignee"] = self.assignee(entries["assignee"][1], "defaults.assignee", [])
        return defaults

    # -- rules ----------------------------------------------------------------------

    def rules(self, node: SequenceNode, defaults: dict[str, Any]) -> list[Rule]:
        rules: list[Rule] = []
        first_use: dict[str, tuple[str, int]] = {}
        for index, rule_node in enumerate(node.value):
            path = f"rules[{index}]"
            rule = self.rule(rule_node, path, defaults)
            # Duplicates are checked on the id alone, so they show even in rules with other problems.
            id_node = self._entry(rule_node, "id")
            if not _is_string(id_node):
                continue
            if id_node.value in first_use:
                where, line = first_use[id_node.value]
                self.problem(
                    id_node,
                    f"{path}.id",
                    f"duplicate rule id {id_node.value!r} (first used by {where} on line {line})",
                )
                continue
            first_use[id_node.value] = (path, id_node.start_mark.line + 1)
            if rule is not None:
                rules.append(rule)
        return rules

    @staticmethod
    def _entry(node: Node, key: str) -> Node | None:
        """The first value of `key` in a mapping node, or None."""
        if not isinstance(node, MappingNode):
            return None
        return next((v for k, v in node.value if getattr(k, "value", None) == key), None)

    def rule(self, node: Node, path: str, defaults: dict[str, Any]) -> Rule | None:
        """Check one rule completely; None when anything about it is wrong."""
        entries = self.mapping(node, path, RULE_KEYS)
        if entries is None:
            return None
        before = len(self.problems)
        get = _getter(entries)

        rule_id = self.rule_id(get("id"), f"{path}.id") if get("id") else None
        category = self.string(get("category"), f"{path}.category") if get("category") else None
        description = ""
        if get("description"):
            description = self.string(get("description"), f"{path}.description", empty_ok=True) or ""
        events = self.event_types(get("event"), f"{path}.event") if get("event") else []
        match = self.match(get("match"), f"{path}.match", events) if get("match") else ()
        key = self.key(get("key"), f"{path}.key", events) if get("key") else None

        # The rulebook's default assignee is also the fallback of a rule with its own: when none of
        # the rule's resolvers finds a person, the task goes there (and the inbox row says so).
        fallback: tuple[str, ...] = ()
        if get("assignee"):
            assignee = self.assignee(get("assignee"), f"{path}.assignee", events)
            fallback = tuple(
                r
                for r in defaults.get("assignee", ())
                if r not in assignee and all(vocab.resolver_allowed(t, r) for t in events)
            )
        elif "assignee" in defaults:
            assignee = defaults["assignee"]
            self.check_resolvers_allowed(assignee, node, f"{path}.assignee", events)
        else:
            assignee = ()
            self.problem(node, path, "missing required key 'assignee' (and no default assignee)")
        priority = defaults.get("priority") or DEFAULT_PRIORITY
        if get("priority"):
            priority = self.priority(get("priority"), f"{path}.priority")

        due = self.due(get("due"), f"{path}.due", events) if get("due") else None
        urgent = self.urgent(get("urgent"), f"{path}.urgent", events) if get("urgent") else None
        title = self.template(get("title"), f"{path}.title", events) if get("title") else None
        action = self.template(get("action"), f"{path}.action", events) if get("action") else None
        resolve_on: list[ResolveOn] = []
        if get("resolve_on"):
            resolve_on = self.resolve_on_list(get("resolve_on"), f"{path}.resolve_on", key)
        # `wake_on` entries read as resolve_on's do: the same keys, checks and errors.
        wake_on = self.resolve_on_list(get("wake_on"), f"{path}.wake_on", key) if get("wake_on") else []

        if len(self.problems) > before:
            return None
        return Rule(
            id=rule_id,
            category=category,
            description=description.strip(),
            events=tuple(events),
            match=match,
            key=key or (),
            assignee=tuple(assignee),
            fallback=fallback,
            priority=priority,
            title=title,
            action=action,
            resolve_on=tuple(resolve_on),
            due=due,
            urgent=urgent,
            wake_on=tuple(wake_on),
        )

    def due(self, node: Node, path: str, events: list[str]) -> Due | None:
        """`due: 1d` (after the event happened), `due: schedule.starts_at` (a time the event has), or
        `due: {before: schedule.starts_at, by: 1h}`."""
        if isinstance(node, MappingNode):
            entries = self.mapping(node, path, DUE_KEYS)
            if not entries or len(entries) < len(DUE_KEYS):
                return None
            time_path = self.due_path(entries["before"][1], f"{path}.before", events)
            by = self.duration(entries["by"][1], f"{path}.by")
            return Due(-by, time_path) if time_path and by is not None else None
        if isinstance(node, ScalarNode) and not _is_string(node):
            self.duration(node, path)  # reports `due: 30` with what a duration looks like
            return None
        value = self.string(node, path)
        if value is None:
            return None
        if value.strip()[:1].isdigit():
            by = self.duration(node, path)
            return Due(by) if by is not None else None
        time_path = self.due_path(node, path, events)
        return Due(timedelta(0), time_path) if time_path else None

    def urgent(self, node: Node, path: str, events: list[str]) -> Urgent | None:
        """`urgent: true` (every new task), `urgent: false` (none), or `urgent: {before:
        schedule.starts_at, within: 24h}` (when the event happened at most that long before the time)."""
        if isinstance(node, MappingNode):
            entries = self.mapping(node, path, URGENT_KEYS)
            if not entries or len(entries) < len(URGENT_KEYS):
                return None
            time_path = self.due_path(entries["before"][1], f"{path}.before", events)
            within = self.duration(entries["within"][1], f"{path}.within")
            return Urgent(time_path, within) if time_path and within is not None else None
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return Urgent() if self.value(node) else None
        shown = repr(node.value) if isinstance(node, ScalarNode) else describe(node)
        self.problem(node, path, f"expected true, false or {{before: a time, within: a duration}}, got {shown}")
        return None

    def duration(self, node: Node, path: str) -> timedelta | None:
        """A duration such as 30m, 2h or 1d."""
        text = node.value.strip() if _is_string(node) else None
        found = DURATION.match(text) if text is not None else None
        if found is None:
            shown = repr(node.value) if isinstance(node, ScalarNode) else describe(node)
            self.problem(node, path, f"expected a duration such as 30m, 2h or 1d, got {shown}")
            return None
        return timedelta(**{DURATION_UNITS[found[2]]: int(found[1])})

    def due_path(self, node: Node, path: str, events: list[str]) -> str | None:
        """A path that is a time in every event type of the rule."""
        data_path = self.string(node, path)
        if data_path is None:
            return None
        for event_type in events:
            if vocab.path_kind(event_type, data_path) != vocab.TIME:
                times = [p for p in vocab.known_paths(event_type) if vocab.path_kind(event_type, p) == vocab.TIME]
                use = f"use {' or '.join(times)}" if times else "they have none; use a duration such as 1d"
                self.problem(node, path, f"{data_path!r} is not a time of {event_type} events; {use}")
                return None
        return data_path

    def rule_id(self, node: Node, path: str) -> str | None:
        value = self.string(node, path)
        if value is not None and not RULE_ID.match(value):
            self.problem(
                node,
                path,
                f"malformed rule id {value!r}: use lower case letters, digits and _, starting with a letter",
            )
            return None
        return value

    def event_types(self, node: Node, path: str) -> list[str]:
        """The known event types named; unknown ones are reported and left out."""
        known = []
        for value, item, item_path in self.strings(node, path, single_ok=True):
            if value in vocab.EVENT_TYPES:
                known.append(value)
            else:
                hint = did_you_mean(value, vocab.EVENT_TYPES)
                self.problem(item, item_path, f"unknown event type {value!r}{hint}")
        return known

    def check_path(
        self,
        node: Node,
        path: str,
        data_path: str,
        events: list[str],
        message: str = "path {path!r} is not part of {event} events",
    ) -> bool:
        """Whether every event type has `data_path`; reports the first that does not."""
        for event_type in events:
            if vocab.path_kind(event_type, data_path) is None:
                hint = did_you_mean(data_path, vocab.known_paths(event_type))
                text = message.format(path=data_path, event=event_type)
                self.problem(node, path, text + hint)
                return False
        return True

    def match(self, node: Node, path: str, events: list[str]) -> tuple[Matcher, ...]:
        if not isinstance(node, MappingNode):
            self.problem(node, path, f"expected a mapping of path: value, got {describe(node)}")
            return ()
        matchers = []
        for key_node, value_node in node.value:
            data_path = self.string(key_node, path)
            if data_path is None:
                continue
            known = self.check_path(key_node, f"{path}.{data_path}", data_path, events)
            if self.condition_ok(value_node, f"{path}.{data_path}"):
                condition = condition_from(self.value(value_node))
                if known and isinstance(condition, Contains):
                    self.check_list(key_node, f"{path}.{data_path}", data_path, events, "contains")
                matchers.append(Matcher(data_path, condition))
        return tuple(matchers)

    def check_list(self, node: Node, path: str, data_path: str, events: list[str], what: str) -> bool:
        """Whether `data_path` is a list in every event type, for `contains` and `in`."""
        for event_type in events:
            kind = vocab.path_kind(event_type, data_path)
            if kind not in (vocab.LIST, vocab.ANY):
                self.problem(node, path, f"'{what}' needs a list, and {data_path} of {event_type} events is not one")
                return False
        return True

    def condition_ok(self, node: Node, path: str) -> bool:
        """Whether a matcher's value has one of the allowed shapes: value, [values], {not}, {exists}."""
        if isinstance(node, ScalarNode):
            return True
        if isinstance(node, SequenceNode):
            ok = True
            for index, item in enumerate(node.value):
                if not isinstance(item, ScalarNode):
                    self.problem(
                        item,
                        f"{path}[{index}]",
                        f"any-of values must be plain values, got {describe(item)}",
                    )
                    ok = False
            if not node.value:
                self.problem(node, path, "an any-of list must not be empty")
                ok = False
            return ok
        entries = self.mapping(node, path, {"not": False, "exists": False, "contains": False})
        if entries is None:
            return False
        if len(entries) != 1 or len(node.value) != 1:
            if len(node.value) == len(entries):
                self.problem(
                    node,
                    path,
                    "a matcher mapping takes exactly one of 'not', 'exists' or 'contains'",
                )
            return False
        if "not" in entries:
            return self.condition_ok(entries["not"][1], f"{path}.not")
        if "contains" in entries:
            value = entries["contains"][1]
            if not isinstance(value, ScalarNode) or value.tag == "tag:yaml.org,2002:null":
                self.problem(value, f"{path}.contains", f"expected a plain value, got {describe(value)}")
                return False
            return True
        exists = entries["exists"][1]
        if not (isinstance(exists, ScalarNode) and exists.tag == "tag:yaml.org,2002:bool"):
            self.problem(
                exists,
                f"{path}.exists",
                f"expected true or false, got {describe(exists)}",
            )
            return False
        return True

    def key(self, node: Node, path: str, events: list[str]) -> tuple[str, ...] | None:
        """The key paths, or None when any is wrong (so `same` is not checked against it)."""
        before = len(self.problems)
        key: list[str] = []
        for value, item, item_path in self.strings(node, path, single_ok=False):
            if value in key:
                self.problem(item, item_path, f"{value!r} is already part of the key")
            elif self.check_path(item, item_path, value, events):
                key.append(value)
        return tuple(key) if len(self.problems) == before else None

    def assignee(self, node: Node, path: str, events: list[str]) -> tuple[str, ...]:
        resolvers = []
        for value, item, item_path in self.strings(node, path, single_ok=True):
            if value not in vocab.RESOLVERS:
                hint = did_you_mean(value, vocab.RESOLVERS)
                self.problem(item, item_path, f"unknown resolver {value!r}{hint}")
                continue
            self.check_resolvers_allowed([value], item, item_path, events)
            resolvers.append(value)
        return tuple(resolvers)

    def check_resolvers_allowed(self, resolvers: Iterable[str], node: Node, path: str, events: list[str]) -> None:
        for resolver in resolvers:
            for event_type in events:
                if not vocab.resolver_allowed(event_type, resolver):
                    record = vocab.RESOLVERS[resolver]
                    self.problem(
                        node,
                        path,
                        f"resolver {resolver!r} needs the {record}, which {event_type} events do not have",
                    )
                    break

    def priority(self, node: Node, path: str) -> str | None:
        value = self.string(node, path)
        if value is not None and value not in vocab.PRIORITIES:
            hint = did_you_mean(value, vocab.PRIORITIES)
            allowed = "|".join(vocab.PRIORITIES)
            self.problem(node, path, f"unknown priority {value!r}; use {allowed}{hint}")
            return None
        return value

    def template(self, node: Node, path: str, events: list[str]) -> Template | None:
        source = self.string(node, path)
        if source is None:
            return None
        try:
            template = compile_template(source)
            paths = referenced_paths(source)
        except jinja2.TemplateSyntaxError as exc:
            self.problem(
                node,
                path,
                f"template does not compile: {exc.message} (template line {exc.lineno})",
            )
            return None
        failed: list[str] = []
        for data_path in sorted(paths):
            # `schedule` unknown makes `schedule.id` unknown too; say it once.
            if any(data_path.startswith(prefix + ".") for prefix in failed):
                continue
            message = "template uses {path!r}, which {event} events do not have"
            if not self.check_path(node, path, data_path, events, message):
                failed.append(data_path)
        if failed:
            return None
        # Compiling is not enough: `{{ 1/0 }}` compiles and fails on every event. Render it on an
        # example event of each type it is for, as the worker would.
        for event_type in events if self.render_examples else ():
            try:
                template.render(example_data(event_type), path)
            except TemplateRenderError as exc:
                reason = exc.__cause__ or exc
                self.problem(node, path, f"template fails when rendered for an example {event_type} event: {reason}")
                return None
        return template

    # -- resolve_on -------------------------------------------------------------------

    def resolve_on_list(self, node: Node, path: str, key: tuple[str, ...] | None) -> list[ResolveOn]:
        if not isinstance(node, SequenceNode):
            self.problem(node, path, f"expected a list, got {describe(node)}")
            return []
        entries = []
        for index, item in enumerate(node.value):
            entry = self.resolve_on(item, f"{path}[{index}]", key)
            if entry is not None:
                entries.append(entry)
        return entries

    def resolve_on(self, node: Node, path: str, key: tuple[str, ...] | None) -> ResolveOn | None:
        entries = self.mapping(node, path, RESOLVE_KEYS)
        if entries is None:
            return None
        get = _getter(entries)
        events = self.event_types(get("event"), f"{path}.event") if get("event") else []
        match = self.match(get("match"), f"{path}.match", events) if get("match") else ()
        same = self.same(get("same"), f"{path}.same", key, events) if get("same") else ()
        reason = self.template(get("reason"), f"{path}.reason", events) if get("reason") else None
        if not events or not same:
            return None
        return ResolveOn(tuple(events), match, same, reason)

    def same(self, node: Node, path: str, key: tuple[str, ...] | None, events: list[str]) -> tuple[SamePath, ...]:
        """How a task's key lines up with the resolving event, from the list or the mapping form."""
        if isinstance(node, MappingNode):
            pairs = []
            for key_node, value_node in node.value:
                task_path = self.string(key_node, path)
                if not task_path:
                    continue
                item_path = f"{path}.{task_path}"
                member = isinstance(value_node, MappingNode)
                if member:
                    # `attendee.email: {in: changes.removed_attendees}`: the task's value is one of a list's.
                    entries = self.mapping(value_node, item_path, {"in": True})
                    if entries is None or "in" not in entries:
                        continue  # the mapping's problem is reported
                    value_node, item_path = entries["in"][1], f"{item_path}.in"
                event_path = self.string(value_node, item_path)
                if event_path:
                    pairs.append((task_path, event_path, key_node, value_node, item_path, member))
        else:
            pairs = [
                (value, value, item, item, item_path, False)
                for value, item, item_path in self.strings(node, path, single_ok=False)
            ]
        same = []
        for task_path, event_path, key_node, value_node, item_path, member in pairs:
            if key is not None and task_path not in key:
                hint = did_you_mean(task_path, key)
                shown = ", ".join(key) or "empty"
                self.problem(
                    key_node,
                    item_path,
                    f"{task_path!r} is not part of the rule's key ({shown}){hint}",
                )
            elif self.check_path(value_node, item_path, event_path, events) and (
                not member or self.check_list(value_node, item_path, event_path, events, "in")
            ):
                same.append(SamePath(task_path, event_path, member))
        return tuple(same)
