"""The one YAML reader of every input: scenario files, uploads, ``--set`` values, sweep files.

A safe loader (no Python objects) that reads plain data and refuses what a hostile or mistaken
document could do to the program:

- **YAML 1.2 scalars**: only ``true``/``false`` are booleans and only decimal numbers are numbers.
  YAML 1.1's ``yes``/``no``/``on``/``off``/``y``/``n``, sexagesimals (``1:30``), octals (``010``)
  and dates stay plain strings, so a numeric field refuses them instead of reading 1, 90, 8 or a
  date. Mapping keys are always the key's text (``yes:`` names a policy ``yes``, not ``True``).
- **Duplicate keys** are an error naming the key and both lines (YAML's "last one wins" hides typos).
- **Nesting** deeper than :data:`MAX_DEPTH` levels is refused while the document is composed,
  before any Python object exists; so is a document whose aliases would expand to more than
  :data:`MAX_NODES` nodes ("billion laughs") or refer to themselves. Size is bounded by the
  caller (1 MB).
- Only the standard tags (str, int, float, bool, null, seq, map, merge) are constructed.

Every failure is a :class:`YamlProblem` with a message and the 1-based line; nothing else
escapes (RecursionError included).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

__all__ = ["load", "YamlProblem", "MAX_DEPTH", "MAX_NODES"]

MAX_DEPTH = 50
"""The deepest nesting of mappings and lists a document may have (aliases counted as expanded)."""

MAX_NODES = 200_000
"""The most values (scalars, lists, mappings) a document may hold once its aliases are expanded."""

_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP, _MERGE = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map", "tag:yaml.org,2002:merge"


class YamlProblem(ValueError):
    """Why a document cannot be read; ``line`` and ``column`` are 1-based (None when unknown).

    ``str()`` gives ``broken YAML at line 3, column 5: ...`` for a syntax error and
    ``line 3: duplicate key 'a' (first at line 2)`` for anything else.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None, syntax: bool = False):
        self.message, self.line, self.column, self.syntax = message, line, column, syntax
        if syntax:
            where = f" at line {line}" + (f", column {column}" if column else "") if line else ""
            text = f"broken YAML{where}: {message}"
        else:
            text = f"line {line}: {message}" if line else message
        super().__init__(text)


class _Limit(yaml.MarkedYAMLError):
    """A limit of this loader was hit (depth, size, duplicate key, tag): never read as a plain string."""


class _Resolver(BaseResolver):
    """YAML 1.2 core schema: true/false, null, decimal integers and floats (with ``_`` separators),
    ``.inf`` and ``.nan`` (which the schema then refuses); everything else is a string."""


_DIGITS = "[0-9][0-9_]*"
_Resolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver.add_implicit_resolver(_INT, re.compile(rf"^[-+]?{_DIGITS}$"), list("-+0123456789"))
_Resolver.add_implicit_resolver(
    _FLOAT,
    re.compile(rf"^(?:[-+]?(?:\.[0-9][0-9_]*|{_DIGITS}(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"),
)
_Resolver.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(_MERGE, re.compile(r"^(?:<<)$"), ["<"])


def _mark(node_or_event):
    return getattr(node_or_event, "start_mark", None)


class _Constructor(SafeConstructor):
    """Plain data only; numbers in decimal; keys as their text; duplicate keys refused."""

    yaml_constructors = {}

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node).replace("_", "")
        if len(text.lstrip("+-")) > 100:
            raise ConstructorError(None, None, f"a number of {len(text)} digits is too long", node.start_mark)
        try:
            return int(text, 10)
        except ValueError:
            raise ConstructorError(None, None, f"not a whole number: {text[:40]!r}", node.start_mark) from None

    def construct_yaml_float(self, node):
        text = self.construct_scalar(node).replace("_", "").lower()
        special = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
        if text in special:
            return special[text]
        try:
            return float(text)
        except ValueError:
            raise ConstructorError(None, None, f"not a number: {text[:40]!r}", node.start_mark) from None

    def construct_yaml_bool(self, node):
        text = self.construct_scalar(node)
        if text.lower() not in ("true", "false"):
            raise ConstructorError(None, None, f"not a boolean (true or false): {text[:40]!r}", node.start_mark)
        return text.lower() == "true"

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, ScalarNode):
                raise _Limit(None, None, "a key must be a name, not a list or a mapping", key_node.start_mark)
            key = key_node.value
            if key in seen:
                raise _Limit(None, None, f"duplicate key {key!r} (first at line {seen[key]})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):  # a merged mapping's own keys
                raise _Limit(None, None, "a key must be a name, not a list or a mapping", key_node.start_mark)
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


for _tag, _fn in ((_NULL, SafeConstructor.construct_yaml_null), (_BOOL, _Constructor.construct_yaml_bool),
                  (_INT, _Constructor.construct_yaml_int), (_FLOAT, _Constructor.construct_yaml_float),
                  (_STR, SafeConstructor.construct_yaml_str), (_SEQ, SafeConstructor.construct_yaml_seq),
                  (_MAP, SafeConstructor.construct_yaml_map), (None, SafeConstructor.construct_undefined)):
    _Constructor.add_constructor(_tag, _fn)


class _DepthComposer(Composer):
    """Composes nodes from parser events, refusing nesting deeper than MAX_DEPTH as it goes."""

    def compose_node(self, parent, index):
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Limit(None, None, f"nested more than {MAX_DEPTH} levels deep", _mark(self.peek_event()))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expansion(root) -> None:
    """Refuse a node graph whose aliases expand past MAX_NODES values or MAX_DEPTH levels, or
    that contains itself. Each node is measured once (memoised), so a "billion laughs" document
    is refused in time linear in its size."""
    memo: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded values, expanded depth)
    on_path: set[int] = set()

    def visit(node, level: int) -> tuple[int, int]:
        if level > MAX_DEPTH:
            raise _Limit(None, None, f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded",
                         node.start_mark)
        key = id(node)
        if key in on_path:
            raise _Limit(None, None, "an alias refers to a node that contains it (a recursive structure)",
                         node.start_mark)
        got = memo.get(key)
        if got is None:
            if isinstance(node, SequenceNode):
                children = node.value
            elif isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = ()
            on_path.add(key)
            size, depth = 1, 0
            for child in children:
                s, d = visit(child, level + 1)
                size, depth = size + s, max(depth, d)
                if size > MAX_NODES:
                    raise _Limit(None, None, f"more than {MAX_NODES:,} values once its aliases are expanded",
                                 node.start_mark)
            on_path.discard(key)
            got = memo[key] = (size, depth + 1)
        if level + got[1] - 1 > MAX_DEPTH:
            raise _Limit(None, None, f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded",
                         node.start_mark)
        return got

    visit(root, 1)


def _loader_class():
    if getattr(yaml, "__with_libyaml__", False):  # libyaml scans and parses (10x faster), Python composes
        from yaml._yaml import CParser

        class Loader(_DepthComposer, CParser, _Constructor, _Resolver):
            def __init__(self, stream):
                CParser.__init__(self, stream)
                _DepthComposer.__init__(self)
                _Constructor.__init__(self)
                _Resolver.__init__(self)
    else:  # pragma: no cover - PyYAML without libyaml
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        class Loader(Reader, Scanner, Parser, _DepthComposer, _Constructor, _Resolver):
            def __init__(self, stream):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                Parser.__init__(self)
                _DepthComposer.__init__(self)
                _Constructor.__init__(self)
                _Resolver.__init__(self)

    return Loader


_Loader = _loader_class()


def load(text: str, strict: bool = True) -> Any:
    """Parse one YAML document into plain data (dicts with string keys, lists, str, int, float,
    bool, None), or raise :class:`YamlProblem`.

    ``strict=False`` (for ``--set`` values) returns the text itself when it is not valid YAML
    syntax, so ``--set description=a: b`` is a string; the loader's limits still apply.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise YamlProblem("not valid text (it contains an unpaired surrogate, i.e. bytes that are not UTF-8)") \
            from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expansion(node)
        return loader.construct_document(node)
    except _Limit as err:
        mark = err.problem_mark
        raise YamlProblem(err.problem, mark.line + 1 if mark else None, None) from None
    except yaml.YAMLError as err:
        constructing = isinstance(err, ConstructorError)
        if not strict:  # a --set value that is not YAML is its text; the limits above still apply
            return text
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise YamlProblem(problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                          syntax=not constructing) from None
    except RecursionError:  # cannot happen below MAX_DEPTH; kept so that it can never escape
        raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, TypeError, OverflowError, MemoryError) as err:
        raise YamlProblem(f"cannot read YAML: {err}") from None
    finally:
        loader.dispose()
