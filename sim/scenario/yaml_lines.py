"""Safe YAML reading that remembers where every key was written.

Scenario errors must point at a line, so mappings are built as :class:`LocatedDict` (a ``dict``
that also records the line of each key) and lists as :class:`LocatedList` (the line of each item).
The loader is a :class:`yaml.SafeLoader` subclass: YAML is only data here, never code. To start
fast, a file is first read with libyaml's parser under the same composer and constructors
(:class:`FastLineLoader`); anything it refuses, or might read otherwise, is read by PyYAML alone.

Two YAML traps are caught while reading rather than producing silently wrong values:

- a key written twice in one mapping (YAML would keep the last one without a word);
- an unquoted time of day: YAML 1.1 reads ``20:00`` as the base-60 integer 1200. The scalar's source
  text is checked when it resolved to an int, and the value is kept as the text ``"20:00"`` so
  that validation can carry on and report the other problems of the file too.

Both are reported as located :class:`~sim.scenario.errors.Problem` objects by
:func:`locate`, which also flattens the line information into a :data:`LocationMap`.

Hostile files are refused before they can cost anything (each a located :class:`ScenarioError`):

- bytes that are not UTF-8 text ("not UTF-8 text", with the line and byte offset of the first bad
  byte), and files larger than :data:`MAX_FILE_BYTES` (no scenario comes near);
- aliases that expand to more than :data:`MAX_ALIAS_EXPANSION` values (a "billion laughs" file,
  nine levels of nine aliases, is 40 lines and 387 million values once expanded) and aliases that
  contain themselves: the composed node graph is measured, with each shared node counted once per
  use, before anything is built from it;
- nesting deeper than :data:`MAX_DEPTH` levels (the YAML library itself recurses per level).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from sim.scenario.errors import NotAScenarioFile, Problem, ScenarioError
from sim.scenario.keypath import KeyPath, format_key_path
from sim.scenario.yaml_scalars import read_unreadable_scalars_as_text, text_if_unreadable

MAX_FILE_BYTES = 10 * 1024 * 1024
"""A scenario is a few kilobytes; anything above 10 MiB is not one (and is not read whole)."""
MAX_ALIAS_EXPANSION = 100_000
"""Values that aliases may add to a document once expanded (the bundled scenarios use none)."""
MAX_DEPTH = 100
"""Nesting levels a document may have (a scenario has about six)."""

TIME_OF_DAY_TEXT = re.compile(r"^\d{1,2}:\d{2}$")
UNQUOTED_TIME_MESSAGE = 'write times of day as quoted strings, e.g. "08:00"'


class Location(NamedTuple):
    """Where a value was written: a file (or ``--set``) and a 1-based line when known."""

    file: str
    line: int | None


LocationMap = dict[KeyPath, Location]
"""Key path → where it was written. Paths not in the map inherit the location of their parent."""


class LocatedDict(dict):
    """A mapping read from YAML, with the line of each key and the keys written twice."""

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}
        self.duplicates: list[tuple[Any, int, int]] = []  # (key, line, line of first occurrence)


class LocatedList(list):
    """A list read from YAML, with the line of each item."""

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []


class UnquotedTime(str):
    """The text of a time of day that YAML would have read as a base-60 number."""

    def __new__(cls, text: str, line: int) -> UnquotedTime:  # noqa: PYI034
        instance = super().__new__(cls, text)
        instance.line = line
        return instance

    line: int


class _LineLimits:
    """What both loaders add to PyYAML's composer: a nesting limit, and the alias expansion check."""

    def compose_node(self, parent, index):
        # The composer recurses once per nesting level: stop a deep document before Python does.
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            if isinstance(self.peek_event(), yaml.AliasEvent):
                self._aliased = True
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node):
        if getattr(self, "_aliased", False):  # without an alias no value is shared: nothing to expand
            _check_expansion(node)
        return super().construct_document(node)


class LineLoader(_LineLimits, yaml.SafeLoader):
    """A safe loader whose mappings and lists remember the lines they were written on, and which
    refuses documents whose aliases would expand them beyond :data:`MAX_ALIAS_EXPANSION` values.

    Pure Python from the first character to the last: its error messages are the ones users see."""


_LIBYAML_PARSER = (yaml.cyaml.CParser,) if yaml.__with_libyaml__ else ()  # every PyYAML wheel has libyaml


class _FastLineLoader(_LineLimits, yaml.composer.Composer, yaml.constructor.SafeConstructor,
                      yaml.resolver.Resolver, *_LIBYAML_PARSER):
    """:class:`LineLoader` reading its events from libyaml's parser (C) instead of PyYAML's scanner
    and parser (Python, three quarters of the time of reading a scenario). The composer (with the
    nesting limit; libyaml's own composer recurses in C, beyond the reach of Python's recursion
    limit), the resolver and the constructors are the same Python code, so a document it reads
    becomes the same values with the same lines. A document it refuses is read again by
    :class:`LineLoader`, whose messages are the ones users see (libyaml words its errors otherwise)."""

    def __init__(self, stream) -> None:
        _LIBYAML_PARSER[0].__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def compose_scalar_node(self, anchor):
        event = self.peek_event()
        if not event.style:  # a plain scalar: libyaml's style is "", PyYAML's (tested by _construct_str) None
            # In a flow collection PyYAML ends a plain scalar at "?" ({to: 2025-12-31?} is an error),
            # libyaml reads it into the scalar: leave such documents to PyYAML.
            if "?" in event.value:
                raise _ReadByPyYAML("a plain scalar with '?'")
            event.style = None
        return super().compose_scalar_node(anchor)


class _ReadByPyYAML(yaml.YAMLError):
    """Where libyaml and PyYAML read a document differently: :class:`LineLoader` reads it."""


_READ_BY_PYYAML = re.compile("\t|\ufeff|[|>][-+0-9]*#")
"""Text that libyaml accepts and PyYAML refuses, so that only :class:`LineLoader` reads it: a tab
(libyaml takes one after ``key:`` as a space), a byte-order mark after the start (libyaml skips it)
and a comment right after a block scalar's ``|`` or ``>`` (``|# note``). Found by feeding both
loaders mutated scenario files (tests/test_yaml_lines.py); a false alarm only costs time."""


class AliasBombError(yaml.YAMLError):
    """A document whose aliases expand it beyond the limit, or contain themselves."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _check_expansion(root: yaml.Node) -> None:
    """Count the values of ``root`` as if every alias were written out, without building them.

    A node reached a second time is an alias (PyYAML shares the anchored node). The count is
    memoised per node, so it costs the size of the file, not of the expansion. Iterative, so that
    the check itself cannot exhaust the stack.
    """
    expanded: dict[int, int] = {}
    written = 0
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            on_path.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in children)
            if expanded[key] - 1 > MAX_ALIAS_EXPANSION + written:
                raise AliasBombError(
                    f"aliases expand this document beyond {MAX_ALIAS_EXPANSION:,} values; "
                    "write the values out, or use fewer aliases", node.start_mark.line + 1)
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise AliasBombError("an alias refers to a value that contains it (a loop); aliases must not "
                                 "repeat their own anchor inside it", node.start_mark.line + 1)
        written += 1
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children) if id(child) not in expanded)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LocatedDict:
    explicit_count = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)  # resolves "<<: *anchor" merge keys into leading entries
    merged_count = len(node.value) - explicit_count
    mapping = LocatedDict()
    first_explicit_line: dict[Any, int] = {}
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key", key_node.start_mark
            ) from None
        line = key_node.start_mark.line + 1
        if index >= merged_count:
            # Keys brought in by a "<<" merge may be overridden; a key written twice may not.
            if key in first_explicit_line:
                mapping.duplicates.append((key, line, first_explicit_line[key]))
            else:
                first_explicit_line[key] = line
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LocatedList:
    items = LocatedList()
    for child in node.value:
        items.append(loader.construct_object(child, deep=True))
        items.item_lines.append(child.start_mark.line + 1)
    return items


def _construct_int(loader: LineLoader, node: yaml.ScalarNode) -> int | UnquotedTime | str:
    if TIME_OF_DAY_TEXT.match(node.value):
        return UnquotedTime(node.value, node.start_mark.line + 1)
    return text_if_unreadable(yaml.SafeLoader.construct_yaml_int, loader, node)


def _construct_str(loader: LineLoader, node: yaml.ScalarNode) -> str:
    # "08:00" (leading zero) is not base-60 to PyYAML, so it arrives as text; it is still unquoted,
    # and the format asks for quoted times everywhere so that "8:00" and "08:00" behave alike.
    if node.style is None and TIME_OF_DAY_TEXT.match(node.value):
        return UnquotedTime(node.value, node.start_mark.line + 1)
    return yaml.SafeLoader.construct_yaml_str(loader, node)


FastLineLoader = _FastLineLoader if _LIBYAML_PARSER else LineLoader

for _loader in (LineLoader, _FastLineLoader):
    read_unreadable_scalars_as_text(_loader)
    _loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
    _loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def parse_yaml_text(text: str, file: str) -> Any:
    """Parse YAML text with line information; a syntax error becomes a located :class:`ScenarioError`."""
    if FastLineLoader is not LineLoader and not _READ_BY_PYYAML.search(text):
        try:
            return yaml.load(text, Loader=FastLineLoader)
        except (yaml.YAMLError, RecursionError):
            pass  # read again below: PyYAML's answer, and its wording of the error, are the ones users see
    try:
        return yaml.load(text, Loader=LineLoader)
    except AliasBombError as error:
        raise ScenarioError([Problem(file, error.line, "", error.message)]) from None
    except RecursionError:
        raise ScenarioError([Problem(file, None, "", f"nested too deeply (at most {MAX_DEPTH} levels)")]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = " ".join(part for part in (error.context, error.problem) if part)
        raise ScenarioError([Problem(file, line, "", f"YAML syntax error: {detail}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(file, None, "", f"YAML error: {str(error).splitlines()[0]}")]) from None


def read_yaml_file(path: Path, file: str | None = None) -> Any:
    """Read a YAML file with line information (see :func:`parse_yaml_text`).

    Refuses, located and without quoting the file, what cannot be a scenario: more than
    :data:`MAX_FILE_BYTES`, or bytes that are not UTF-8 text.
    """
    file = file if file is not None else str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ScenarioError([Problem(file, None, "", f"cannot read the file: {error.strerror or error}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise NotAScenarioFile([Problem(file, None, "", f"not a scenario file: larger than {MAX_FILE_BYTES // 2**20} MiB")])
    return parse_yaml_text(decode_utf8(data, file), file)


def decode_utf8(data: bytes, file: str) -> str:
    """``data`` as text, or a located "not UTF-8 text" problem at the first bad byte.

    A byte-order mark is dropped (editors on Windows write one); NUL bytes are refused too, since
    no text file holds them and YAML would report them as an unreadable character.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        offset = error.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, offset) + 1
        raise NotAScenarioFile([Problem(file, line, "", f"not UTF-8 text (byte {offset}: 0x{data[offset]:02x}); "
                                                     "save the scenario as UTF-8")]) from None
    if "\x00" in text:
        offset = data.index(b"\x00")
        line = data.count(b"\n", 0, offset) + 1
        raise NotAScenarioFile([Problem(file, line, "", f"not a text file (a NUL byte at byte {offset}); "
                                                     "a scenario is UTF-8 text")])
    return text


def locate(data: Any, file: str, path: KeyPath = (), line: int | None = 1) -> tuple[LocationMap, list[Problem]]:
    """Flatten the lines of a parsed document into a :data:`LocationMap`.

    Also returns the problems the reading noticed: keys written twice and unquoted times of day.
    """
    locations: LocationMap = {}
    problems: list[Problem] = []

    def walk(node: Any, node_path: KeyPath, node_line: int | None) -> None:
        locations[node_path] = Location(file, node_line)
        if isinstance(node, UnquotedTime):
            problems.append(Problem(file, node.line, format_key_path(node_path), UNQUOTED_TIME_MESSAGE))
        elif isinstance(node, dict):
            key_lines = getattr(node, "key_lines", {})
            for key, duplicate_line, first_line in getattr(node, "duplicates", []):
                problems.append(
                    Problem(
                        file,
                        duplicate_line,
                        format_key_path(node_path + (key,)),
                        f"duplicate key '{key}' (first written on line {first_line}); write each key once",
                    )
                )
            for key, value in node.items():
                walk(value, node_path + (key,), key_lines.get(key, node_line))
        elif isinstance(node, list):
            item_lines = getattr(node, "item_lines", [])
            for index, value in enumerate(node):
                walk(value, node_path + (index,), item_lines[index] if index < len(item_lines) else node_line)

    walk(data, path, line)
    return locations, problems


def plain(data: Any) -> Any:
    """A deep copy made of plain ``dict``/``list``/``str`` (line information dropped)."""
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(value) for value in data]
    if isinstance(data, UnquotedTime):
        return str(data)
    return data


def location_of(locations: LocationMap, path: KeyPath, default: Location) -> Location:
    """The location of ``path``, else of its nearest written ancestor, else ``default``."""
    for length in range(len(path), -1, -1):
        found = locations.get(tuple(path[:length]))
        if found is not None:
            return found
    return default
