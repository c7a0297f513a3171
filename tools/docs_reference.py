"""Generate docs/spec-reference.md from the spec classes and the registered plugins' option classes.

The page is built from the attrs fields (type, default, ``doc`` metadata) so that it cannot drift
from the code; a test compares the committed page with :func:`spec_reference`.

    python tools/docs_reference.py > docs/spec-reference.md
    python tools/docs_reference.py --check docs/spec-reference.md
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
import typing
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import attrs

from scalinglaws.spec.model import DatasetSpec, EstimatorSpec, LawSpec, OutputSpec, Spec, TaskSpec

REGENERATE = "python tools/docs_reference.py > docs/spec-reference.md"

CORE_CLASSES: Tuple[type, ...] = (Spec, OutputSpec, LawSpec, EstimatorSpec, DatasetSpec, TaskSpec)

# Fields of the spec classes that are not keys a user writes: the loader sets them.
_NOT_KEYS: Dict[type, Dict[str, Optional[str]]] = {
    Spec: {"file": None, "base_dir": None, "digest": None},
    DatasetSpec: {"name": "A dataset's name is its key under `datasets`, not a key inside it."},
}

# Keys whose attrs field has no default but which the loader fills in when they are omitted.
_LOADER_DEFAULTS: Dict[Tuple[type, str], str] = {
    (TaskSpec, "name"): "the kind (`fit`, then `fit_2`, ...)",
}

# The plugin kinds whose option classes are flattened into a spec class, beside a tag key:
# (registry attribute, section title, singular, tag key, spec class holding the options).
_PLUGIN_KINDS = (
    ("sources", "Data sources", "data source", "source", DatasetSpec),
    ("tasks", "Tasks", "task", "kind", TaskSpec),
    ("estimators", "Estimators", "estimator", "name", EstimatorSpec),
)

_SCALARS = {float: ("number", "numbers"), int: ("whole number", "whole numbers"),
            str: ("text", "text"), bool: ("true/false", "true/false values")}


# --- naming and linking -----------------------------------------------------------------------


def _slug(heading: str) -> str:
    """The anchor GitHub (and mkdocs' toc with its default slugify) gives a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


class _Names:
    """Headings of the class sections, unique across the page, so links are unambiguous."""

    def __init__(self) -> None:
        self.heading: Dict[type, str] = {}

    def add(self, cls: type, heading: str) -> None:
        if cls in self.heading:
            return
        taken = set(self.heading.values())
        if heading in taken:  # two plugins with a nested class of the same name
            heading = f"`{cls.__module__}.{cls.__qualname__}`"
        self.heading[cls] = heading

    def link(self, cls: type) -> str:
        if cls not in self.heading:
            return f"`{cls.__name__}`"
        return f"[{cls.__name__}](#{_slug(self.heading[cls])})"


# --- types in words ---------------------------------------------------------------------------


def _hints(cls: type) -> Dict[str, Any]:
    """Field types with string annotations (``from __future__ import annotations``) resolved."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # an unresolvable annotation: fall back to what attrs recorded
        return {f.name: f.type for f in attrs.fields(cls)}


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
        return Union[tuple(args)]
    return tp


def _words(tp: Any, names: _Names, plural: bool = False) -> str:
    tp = _strip_optional(tp)
    if tp in _SCALARS:
        return _SCALARS[tp][plural]
    if tp is Any or tp is None:
        return "any value" if not plural else "any values"
    if isinstance(tp, type) and attrs.has(tp):
        return names.link(tp) + (" mappings" if plural else "")
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_words(a, names, plural) for a in args)
    if origin in (tuple, list):
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(set(args)) == 1:
                return f"list of {len(args)} {_words(args[0], names, plural=True)}"
            return "list of " + ", ".join(_words(a, names) for a in args)
        elem = args[0] if args else Any
        return ("lists of " if plural else "list of ") + _words(elem, names, plural=True)
    if origin is dict:
        key, value = args if args else (str, Any)
        head = "mappings of " if plural else "mapping of "
        return head + f"{_words(key, names)} to {_words(value, names, plural=True)}"
    return f"`{getattr(tp, '__name__', str(tp))}`"


def _nested(tp: Any) -> Iterator[type]:
    """Attrs classes reachable through a field's type (inside Optional, lists, mappings)."""
    if isinstance(tp, type) and attrs.has(tp):
        yield tp
        return
    for arg in typing.get_args(tp):
        yield from _nested(arg)


# --- defaults ---------------------------------------------------------------------------------


def _value(v: Any) -> str:
    """A default as it would be written in YAML."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    if attrs.has(type(v)):
        return "{}"
    return str(v)


def _default(cls: type, f: attrs.Attribute) -> str:
    if (cls, f.name) in _LOADER_DEFAULTS:
        return _LOADER_DEFAULTS[(cls, f.name)]
    d: Any = f.default
    if d is attrs.NOTHING:
        return "required"
    if isinstance(d, attrs.Factory):  # type: ignore[arg-type]
        if d.takes_self:
            return "computed"
        d = d.factory()
    if d is None:
        return "not set"
    text = f"`{_value(d)}`"
    return text + " (all defaults)" if attrs.has(type(d)) else text


# --- the page ---------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Escape ``<`` outside code spans, so `fit_<name>.png` is not read as an HTML tag."""
    parts = re.split(r"(``.*?``|`[^`]*`)", text)
    return "".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def _cell(text: str) -> str:
    return _md(" ".join(text.split())).replace("|", "\\|")


def _doc(cls: type) -> str:
    return _md(inspect.cleandoc(cls.__doc__)) if cls.__doc__ else ""


def key_fields(cls: type) -> List[attrs.Attribute]:
    """The fields of ``cls`` that are written as keys (not loader-set, not flattened)."""
    skip = _NOT_KEYS.get(cls, {})
    return [f for f in attrs.fields(cls) if f.name not in skip and not f.metadata.get("flatten")]


def _table(cls: type, names: _Names) -> List[str]:
    fields = key_fields(cls)
    if not fields:
        return ["This class has no keys of its own.", ""]
    hints = _hints(cls)
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for f in fields:
        doc = f.metadata.get("doc") or "(undocumented)"
        tp = _words(hints.get(f.name, f.type), names)
        lines.append(f"| `{f.name}` | {_cell(tp)} | {_cell(_default(cls, f))} | {_cell(doc)} |")
    return lines + [""]


def _notes(cls: type) -> List[str]:
    out = [note for note in _NOT_KEYS.get(cls, {}).values() if note]
    for _attr, title, singular, tag, holder in _PLUGIN_KINDS:
        if cls is holder:
            out.append(f"The chosen {singular}'s own keys sit beside `{tag}:`; they are listed "
                       f"under [{title}](#{_slug(title)}).")
    return out


def _class_section(cls: type, names: _Names, level: str, intro: Optional[str] = None,
                   heading: Optional[str] = None) -> List[str]:
    lines = [f"{level} {heading or names.heading[cls]}", ""]
    if intro:
        lines += [intro, ""]
    doc = _doc(cls)
    if doc:
        lines += [doc, ""]
    for note in _notes(cls):
        lines += [note, ""]
    return lines + _table(cls, names)


def _reachable(roots: Tuple[type, ...], known: set) -> List[type]:
    """Attrs classes reachable from ``roots`` through field types, in field order, not in ``known``."""
    out: List[type] = []
    todo = list(roots)
    while todo:
        cls = todo.pop(0)
        hints = _hints(cls)
        for f in attrs.fields(cls):
            for sub in _nested(hints.get(f.name, f.type)):
                if sub not in known and sub not in out and sub not in roots:
                    out.append(sub)
                    todo.append(sub)
    return out


def _plugins(registry, attr: str) -> List[Tuple[str, Any]]:
    return sorted(((name, reg) for name, reg in getattr(registry, attr).items()), key=lambda p: p[0])


def documented_classes(registry) -> List[type]:
    """Every class whose fields the page documents: the spec classes, each registered source, task
    and estimator class, and the attrs classes reachable from them through field types."""
    seen = list(CORE_CLASSES)
    seen += _reachable(CORE_CLASSES, set(seen))
    for attr, *_ in _PLUGIN_KINDS:
        for _name, reg in _plugins(registry, attr):
            for cls in (reg.obj, *_reachable((reg.obj,), set(seen))):
                if cls not in seen:
                    seen.append(cls)
    return seen


def spec_reference(registry) -> str:
    """The Markdown of docs/spec-reference.md for the plugins in ``registry``."""
    names = _Names()
    headings: Dict[type, str] = {Spec: "Top level"}
    for cls in CORE_CLASSES:
        names.add(cls, headings.get(cls, f"`{cls.__name__}`"))
    core_nested = _reachable(CORE_CLASSES, set(CORE_CLASSES))
    for cls in core_nested:
        names.add(cls, f"`{cls.__name__}`")

    # Name every plugin section before rendering any, so links between sections resolve.
    plan: List[Tuple[str, str, str, str, List[Tuple[str, Any, List[type]]]]] = []
    known = set(CORE_CLASSES) | set(core_nested)
    for attr, title, singular, tag, _holder in _PLUGIN_KINDS:
        entries = []
        for name, reg in _plugins(registry, attr):
            cls = reg.obj
            names.add(cls, f"{singular.capitalize()} `{name}`")
            nested = _reachable((cls,), known)
            for sub in nested:
                names.add(sub, f"`{sub.__name__}`")
            known |= {cls, *nested}
            entries.append((name, reg, nested))
        plan.append((title, singular, tag, attr, entries))

    lines = [
        "<!-- Generated by tools/docs_reference.py from the spec classes; do not edit. -->",
        "",
        "# Spec reference",
        "",
        f"This page is generated from the spec classes and the registered plugins' option classes. "
        f"Regenerate it with `{REGENERATE}`.",
        "",
        "A spec is a YAML mapping. Every key is listed with its type, its default (or *required*) "
        "and what it does. Types: *number* (`1.5`, `1e-3`), *whole number*, *text*, *true/false*, "
        "*list of ...* (a YAML sequence), *mapping of text to ...* (a YAML mapping), or a named "
        "mapping documented in its own section.",
        "",
        "## Spec",
        "",
    ]
    for cls in CORE_CLASSES:
        lines += _class_section(cls, names, "###")
    for cls in core_nested:
        lines += _class_section(cls, names, "###")

    for title, singular, tag, _attr, entries in plan:
        lines += [f"## {title}", ""]
        if not entries:
            lines += [f"No {singular} is registered.", ""]
        for name, reg, nested in entries:
            intro = (f"Keys beside `{tag}: {name}`. From plugin `{reg.plugin}`, distribution "
                     f"`{reg.distribution}`.")
            # By registration name: one class may be registered under several names.
            heading = f"{singular.capitalize()} `{name}`"
            lines += _class_section(reg.obj, names, "###", intro, heading)
            for sub in nested:
                lines += _class_section(sub, names, "####", f"Used by {singular} `{name}`.")
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    from docs_pages import page_main
    from scalinglaws.plugins import build_registry

    def generate(with_plugins: bool) -> str:
        return spec_reference(build_registry(entry_points=with_plugins))

    return page_main(prog="python tools/docs_reference.py",
                     regenerate=REGENERATE, generate=generate, argv=argv,
                     description="Print docs/spec-reference.md, generated from the spec classes.")


if __name__ == "__main__":
    sys.exit(main())
