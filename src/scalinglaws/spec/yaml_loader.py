"""YAML to plain Python data, remembering where every key and value stands in the file."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import yaml

from ..errors import Problem, SpecError

Path = Tuple[Any, ...]
Mark = Tuple[int, int]  # 1-based line and column


class SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python tags, no code); we only walk its node tree ourselves."""


class Located:
    """The data of one YAML document, with the positions of its values and keys by path.

    ``inline`` maps the path of a one-line text value written without escapes to the position of
    its first character (after an opening quote), so that a problem at a character inside the text
    (a token of a formula) can be given its own line and column.
    """

    def __init__(self, data: Any, values: Dict[Path, Mark], keys: Dict[Path, Mark], file: str,
                 inline: Optional[Dict[Path, Mark]] = None):
        self.data, self.values, self.keys, self.file = data, values, keys, file
        self.inline = inline or {}

    def where(self, path: Path, *, key: bool = False) -> Mark:
        """The position of ``path`` (its key when ``key``), else of its nearest located parent."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def problem(self, path: Path, message: str, *, key: bool = False) -> Problem:
        line, col = self.where(path, key=key)
        return Problem(message, path=format_path(path), file=self.file, line=line, column=col)

    def problem_in_text(self, path: Path, reason: str, offset: int, pointer: str,
                        column: int) -> Problem:
        """A problem at character ``offset`` of the text value at ``path``: at that character's
        own file position when the text is written inline, else at the value with the column
        inside the text named. ``pointer`` (the text with a caret) follows on its own lines."""
        if tuple(path) in self.inline:
            line, col = self.inline[tuple(path)]
            message = f"{reason}\n{pointer}"
            col += offset
        else:
            line, col = self.where(path)
            message = f"{reason} (column {column} of the text)\n{pointer}"
        return Problem(message, path=format_path(path), file=self.file, line=line, column=col)


def format_path(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _mark(node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(text: str, file: str = "<spec>") -> Located:
    """Parse ``text`` safely; raise :class:`SpecError` with ``file:line:col`` on any YAML error."""
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError.single("the spec is empty; start with `version: 1`", file=file, line=1,
                                   column=1)
        values: Dict[Path, Mark] = {(): _mark(node)}
        keys: Dict[Path, Mark] = {}
        inline: Dict[Path, Mark] = {}
        problems: list = []
        data = _construct(loader, node, (), values, keys, problems, file, inline)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        raise SpecError.single(
            f"invalid YAML: {message}", file=file,
            line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError.single(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    if problems:
        raise SpecError(problems)
    return Located(data, values, keys, file, inline)


_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _inline_start(node, value) -> Optional[Mark]:
    """Where the characters of a one-line text scalar start, when each character of ``value``
    is one character of the file (plain or quoted, no escapes); None otherwise."""
    start, end = node.start_mark, node.end_mark
    if not isinstance(value, str) or start.buffer is None or start.line != end.line:
        return None
    raw = start.buffer[start.index:end.index]
    quote = 1 if node.style in ("'", '"') else 0
    if node.style not in (None, "'", '"') or raw[quote:len(raw) - quote] != value:
        return None
    return start.line + 1, start.column + 1 + quote


def _construct(loader, node, path, values, keys, problems, file, inline):
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        # Specs are data: tags such as !!python/object are refused, never constructed.
        raise yaml.constructor.ConstructorError(None, None, f"unsupported tag {node.tag!r}",
                                                node.start_mark)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        out: dict = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                line, col = _mark(key_node)
                problems.append(Problem(f"keys must be text, got {key!r}", path=format_path(path),
                                        file=file, line=line, column=col))
                continue
            if key in out:
                line, col = _mark(key_node)
                problems.append(Problem(f"duplicate key {key!r}; remove one of them",
                                        path=format_path(path + (key,)), file=file, line=line,
                                        column=col))
            child = path + (key,)
            keys[child] = _mark(key_node)
            values[child] = _mark(value_node)
            out[key] = _construct(loader, value_node, child, values, keys, problems, file, inline)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            values[path + (i,)] = _mark(item)
            items.append(_construct(loader, item, path + (i,), values, keys, problems, file, inline))
        return items
    value = loader.construct_object(node, deep=True)
    if isinstance(node, yaml.ScalarNode):
        start = _inline_start(node, value)
        if start is not None:
            inline[path] = start
    return value
