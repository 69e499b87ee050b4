"""YAML from an admin, read within bounds: the rulebook and its tests are untrusted text.

PyYAML's safe loader refuses to build Python objects, but not to be slow: an alias that
contains itself recurses without end, and a few hundred bytes of aliases to aliases (a
"billion laughs") expand to millions of nodes for whoever walks the document. So before
anything walks it, the composed document is measured once, each node counted as often as
aliases repeat it, in time linear in its size: a cycle, a document that expands past
MAX_NODES, a tag outside YAML's standard ones (`!!python/object`) or one nested past
MAX_DEPTH is refused with a YAMLLimitError that says where.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_TEXT = 512 * 1024  # characters
MAX_NODES = 50_000  # nodes, aliases expanded
MAX_DEPTH = 100  # levels of nesting

STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge", "binary")
)


class YAMLLimitError(yaml.MarkedYAMLError):
    """A document outside the bounds above; `problem` and `problem_mark` say what and where."""

    def __init__(self, problem: str, mark: Any = None):
        super().__init__(problem=problem, problem_mark=mark)


class _DepthBoundedLoader(yaml.SafeLoader):
    """The safe loader, stopping as soon as nesting passes MAX_DEPTH (its composer recurses)."""

    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise YAMLLimitError(
                    f"the document is nested too deeply (at most {MAX_DEPTH} levels)", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def compose(text: str) -> Node | None:
    """The document's node graph, once it is known to be bounded; raises yaml.YAMLError."""
    if len(text) > MAX_TEXT:
        raise YAMLLimitError(f"the document is {len(text):,} characters; at most {MAX_TEXT:,} are read")
    loader = _DepthBoundedLoader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    if root is not None:
        measure(root)
    return root


def load(text: str) -> Any:
    """The document's plain value (strings, numbers, lists, mappings), within bounds."""
    root = compose(text)
    return yaml.constructor.SafeConstructor().construct_document(root) if root is not None else None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def measure(root: Node) -> int:
    """The number of nodes the document expands to; raises YAMLLimitError past the bounds."""
    sizes: dict[int, int] = {}  # node id -> expanded size, once known
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if node.tag not in STANDARD_TAGS:
            raise YAMLLimitError(f"the tag {node.tag!r} is not allowed here", node.start_mark)
        if children_done:
            on_path.discard(id(node))
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_NODES:
                raise YAMLLimitError(
                    f"the document expands to more than {MAX_NODES:,} values (through its aliases)", node.start_mark
                )
            sizes[id(node)] = size
            continue
        if id(node) in sizes:
            continue  # an alias of a node already measured
        if id(node) in on_path:
            raise YAMLLimitError("an alias refers to a value that contains it", node.start_mark)
        if len(on_path) >= MAX_DEPTH:
            raise YAMLLimitError(f"the document is nested too deeply (at most {MAX_DEPTH} levels)", node.start_mark)
        on_path.add(id(node))
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YAMLLimitError("an alias refers to a value that contains it", child.start_mark)
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]
