"""Plain YAML data -> frozen spec classes, collecting every problem with its file position.

cattrs structures the leaves (option classes of sources, tasks, estimators, ``output``) with strict
scalar hooks and forbidden extra keys; this module handles the tagged entries (``source:``,
``kind:``, estimator ``name:``) through the plugin registry, turns cattrs' exception groups into
``file:line:col: path: message`` lines, then runs every attrs validator and each task's own
cross-reference checks, so that one run reports all problems at once.
"""

import hashlib
import json
import typing
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError

from ..data.conditions import parse_condition
from ..data.transforms import compile_pattern
from ..errors import ExpressionError, SpecError, closest
from ..fields import Invalid, number
from ..formula import parse_formula
from .model import SCHEMA_VERSION, DatasetSpec, EstimatorSpec, OutputSpec, Spec, TaskSpec
from .yaml_loader import Located, load_yaml


def _int(v, _):
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise Invalid(f"expected a whole number, got {v!r}")


def _str(v, _):
    if isinstance(v, str):
        return v
    raise Invalid(f"expected text, got {v!r}")


def _bool(v, _):
    if isinstance(v, bool):
        return v
    raise Invalid(f"expected true or false, got {v!r}")


def _number_or_text(v, _):
    """A table cell: a number (numeric text too, as YAML 1.1 reads `1e-3` as text), or text for
    names such as a run id (`cosine-1e-3`)."""
    try:
        return number(v)
    except Invalid:
        if isinstance(v, str):
            return v
        raise Invalid(f"expected a number or text, got {v!r}") from None


def _collect(items: Iterable, structure_one: Callable, label: str, tp) -> list:
    out, errors = [], []
    for key, value in items:
        try:
            out.append(structure_one(key, value))
        except Exception as exc:  # re-raised below as a group with the key attached
            exc.add_note(cattrs.IterableValidationNote(f"@ {key!r}", key, object))
            errors.append(exc)
    if errors:
        raise cattrs.IterableValidationError(f"while structuring {label}", errors, tp)
    return out


def _noted(exc: Exception, f) -> Exception:
    exc.add_note(cattrs.AttributeValidationNote(f"@ attribute {f.name}", f.name, f.type))
    return exc


def make_converter(registry=None) -> cattrs.Converter:
    """A cattrs converter with strict scalars, container type checks and registry-tagged entries."""
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for tp, hook in ((float, lambda v, _: number(v)), (int, _int), (str, _str), (bool, _bool)):
        conv.register_structure_hook(tp, hook)
    conv.register_structure_hook(typing.Union[float, str], _number_or_text)

    def sequence_hook(tp):
        (elem, *_rest) = typing.get_args(tp) or (Any,)

        def structure(v, _):
            if not isinstance(v, (list, tuple)):
                raise Invalid(f"expected a list, got {v!r}")
            return tuple(_collect(enumerate(v), lambda _k, x: conv.structure(x, elem), "list", tp))

        return structure

    def dict_hook(tp):
        key_t, val_t = typing.get_args(tp) or (str, Any)

        def structure(v, _):
            if not isinstance(v, dict):
                raise Invalid(f"expected a mapping, got {v!r}")
            pairs = _collect(v.items(), lambda k, x: (conv.structure(k, key_t), conv.structure(x, val_t)),
                             "mapping", tp)
            return dict(pairs)

        return structure

    def attrs_hook(cl):
        """Field by field, so that every bad field (type or validator) is reported, not the first."""
        attrs.resolve_types(cl)
        fields = [f for f in attrs.fields(cl) if f.init]
        names = {f.name for f in fields}
        shorthand = getattr(cl, "from_shorthand", None)

        def structure(v, _):
            if not isinstance(v, dict):
                if shorthand is not None:  # e.g. `law: chinchilla` for {family: chinchilla}
                    return shorthand(v)
                raise Invalid(f"expected a mapping, got {v!r}")
            errors: list = []
            extra = set(v) - names
            if extra:
                errors.append(ForbiddenExtraKeysError(None, cl, extra))
            kwargs = {}
            for f in fields:
                if f.name not in v:
                    if f.default is attrs.NOTHING:
                        errors.append(_noted(KeyError(f.name), f))
                    continue
                try:
                    value = conv.structure(v[f.name], f.type)
                    if f.validator is not None:
                        try:
                            f.validator(None, f, value)
                        except (ValueError, TypeError) as exc:
                            raise Invalid(str(exc)) from None
                except Exception as exc:  # collected and re-raised as one group below
                    errors.append(_noted(exc, f))
                else:
                    kwargs[f.name] = value
            if errors:
                raise cattrs.ClassValidationError(f"while structuring {cl.__name__}", errors, cl)
            with attrs.validators.disabled():  # already run, one field at a time
                return cl(**kwargs)

        return structure

    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) in (tuple, list), sequence_hook)
    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) is dict, dict_hook)
    conv.register_structure_hook_factory(attrs.has, attrs_hook)

    def estimator(v, _):
        if isinstance(v, str):
            v = {"name": v}
        if not isinstance(v, dict):
            raise Invalid(f"expected an estimator name or a mapping, got {v!r}")
        rest = dict(v)
        name = _str(rest.pop("name", "multistart"), None) if "name" in rest else "multistart"
        cls = _lookup(registry, "estimators", name, ("name",))
        return EstimatorSpec(name=name, options=conv.structure(rest, cls) if cls else None)

    conv.register_structure_hook(EstimatorSpec, estimator)
    return conv


_KIND_WORDS = {"sources": "data source", "tasks": "task", "estimators": "estimator",
               "laws": "law", "reporters": "reporter"}


def _lookup(registry, kind: str, name: str, at: tuple):
    if registry is None:
        return None
    table = getattr(registry, kind)
    if name not in table:
        names = sorted(table)
        raise Invalid(f"unknown {_KIND_WORDS[kind]} {name!r}{closest(name, names)}; "
                      f"registered: {', '.join(names)}", at)
    return table[name].obj


# --- turning exceptions into located problems -------------------------------------------------


def _explain(exc: BaseException, path: tuple) -> Iterator[tuple]:
    """(path, message, at_key) for every leaf of a cattrs exception tree."""
    if isinstance(exc, ForbiddenExtraKeysError):
        candidates = list(attrs.fields_dict(exc.cl)) if attrs.has(exc.cl) else []
        candidates += list(getattr(exc, "_extra_candidates", ()))
        for key in sorted(exc.extra_fields, key=str):
            yield (path + (key,), f"unknown key {key!r}{closest(str(key), candidates)}; "
                   f"valid keys here: {', '.join(sorted(candidates))}", True)
    elif isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            step: tuple = ()
            for note in getattr(sub, "__notes__", ()):
                if isinstance(note, cattrs.AttributeValidationNote):
                    step = (note.name,)
                elif isinstance(note, cattrs.IterableValidationNote):
                    step = (note.index,)
            yield from _explain(sub, path + step)
    elif isinstance(exc, Invalid):
        yield path + exc.at, exc.message, False
    elif isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        # The attribute note of a missing field already put its name at the end of the path.
        at = path if path[-1:] == (key,) else path + (key,)
        yield at, f"required key {key!r} is missing", False
    else:
        yield path, f"invalid value: {exc}", False


class _Problems:
    def __init__(self, located: Located):
        self.located = located
        self.items: list = []

    def add(self, path: tuple, message, *, key: bool = False) -> None:
        """Record a problem; ``message`` may be an ExpressionError, located inside the text."""
        if isinstance(message, ExpressionError):
            self.items.append(self.located.problem_in_text(
                path, message.reason, message.offset, message.pointer(), message.column))
            return
        self.items.append(self.located.problem(path, message, key=key))

    def attempt(self, path: tuple, fn: Callable, extra_candidates: tuple = ()) -> Any:
        try:
            return fn()
        except Exception as exc:  # every structuring failure becomes a located problem
            _annotate_candidates(exc, extra_candidates)
            for p, message, at_key in _explain(exc, path):
                self.add(p, message, key=at_key)
            return None


def _annotate_candidates(exc: BaseException, extra: tuple) -> None:
    if isinstance(exc, ForbiddenExtraKeysError):
        exc._extra_candidates = extra  # type: ignore[attr-defined]
    elif isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            _annotate_candidates(sub, extra)


# --- the spec -----------------------------------------------------------------------------------

_TOP_KEYS = ("version", "name", "description", "seed", "datasets", "tasks", "output")


def _tagged(problems: _Problems, conv, registry, raw: Any, path: tuple, tag: str, kind: str,
            common: tuple) -> Optional[tuple]:
    """Split a tagged mapping into its common keys and the plugin class structured from the rest."""
    if not isinstance(raw, dict):
        problems.add(path, f"expected a mapping with a `{tag}:` key, got {raw!r}")
        return None
    if tag not in raw:
        problems.add(path, f"required key {tag!r} is missing")
        return None
    name = problems.attempt(path + (tag,), lambda: _str(raw[tag], None))
    if name is None:
        return None
    cls = problems.attempt(path, lambda: _lookup(registry, kind, name, (tag,)))
    if cls is None:
        return None
    rest = {k: v for k, v in raw.items() if k not in (tag,) + common}
    options = problems.attempt(path, lambda: conv.structure(rest, cls), (tag,) + common)
    return name, options


def structure_spec(located: Located, registry, *, file: Optional[str] = None,
                   base_dir: str = ".") -> Spec:
    """Structure, validate and cross-check a loaded spec; raise :class:`SpecError` listing all problems.

    Each field is structured and validated on its own, so one bad value does not hide the others.
    """
    with attrs.validators.disabled():  # the classes are built from values already validated
        return _structure_spec(located, registry, file, base_dir)


_DATASET_TYPES = {"columns": dict[str, str], "extract": dict[str, str], "derive": dict[str, str],
                  "where": tuple[str, ...], "exclude_largest": dict[str, int],
                  "exclude_smallest": dict[str, int]}


def _dataset_common(problems: _Problems, conv, entry: Any, path: tuple) -> dict:
    """The keys every dataset has (renaming, derived columns, filters), with formulas checked."""
    out: dict = {}
    if not isinstance(entry, dict):
        return out
    for key, tp in _DATASET_TYPES.items():
        if key not in entry:
            continue
        raw = [entry[key]] if key == "where" and isinstance(entry[key], str) else entry[key]
        value = problems.attempt(path + (key,), lambda r=raw, t=tp: conv.structure(r, t))
        if value is not None:
            out[key] = value
    for column, pattern in out.get("extract", {}).items():
        try:
            compile_pattern(pattern)
        except ValueError as exc:
            problems.add(path + ("extract", column), str(exc))
    for name, text in out.get("derive", {}).items():
        try:
            parse_formula(text)
        except ExpressionError as exc:
            problems.add(path + ("derive", name), exc)
    where_is_list = isinstance(entry.get("where"), list)
    for i, text in enumerate(out.get("where", ())):
        try:
            parse_condition(text)
        except ExpressionError as exc:
            problems.add(path + (("where", i) if where_is_list else ("where",)), exc)
    for key in ("exclude_largest", "exclude_smallest"):
        for column, k in out.get(key, {}).items():
            if k < 0:
                problems.add(path + (key, column), f"expected a whole number >= 0, got {k}")
    return out


def _structure_spec(located: Located, registry, file: Optional[str], base_dir: str) -> Spec:
    conv = make_converter(registry)
    problems = _Problems(located)
    raw = located.data
    if not isinstance(raw, dict):
        raise SpecError([located.problem((), f"a spec is a mapping of keys, got {raw!r}")])
    for key in raw:
        if key not in _TOP_KEYS:
            problems.add((key,), f"unknown key {key!r}{closest(str(key), _TOP_KEYS)}; "
                         f"valid keys here: {', '.join(_TOP_KEYS)}", key=True)
    head = {}
    for key, tp in (("version", int), ("name", str), ("description", str), ("seed", int)):
        if key in raw:
            head[key] = problems.attempt((key,), lambda k=key, t=tp: conv.structure(raw[k], t))
    output = OutputSpec()
    if "output" in raw:
        output = problems.attempt(("output",), lambda: conv.structure(raw["output"], OutputSpec))

    datasets = {}
    raw_datasets = raw.get("datasets", {})
    if not isinstance(raw_datasets, dict):
        problems.add(("datasets",), f"expected a mapping of named datasets, got {raw_datasets!r}")
        raw_datasets = {}
    for name, entry in raw_datasets.items():
        path = ("datasets", name)
        got = _tagged(problems, conv, registry, entry, path, "source", "sources", tuple(_DATASET_TYPES))
        common = _dataset_common(problems, conv, entry, path)
        if got is not None and got[1] is not None:
            check = getattr(got[1], "check", None)
            for rel, message in (check(registry) if check is not None else ()):
                problems.add(path + tuple(rel), message)
        # A dataset with problems is still declared: tasks that use it must not be told it is missing.
        source, options = got if got is not None else ("", None)
        datasets[name] = DatasetSpec(name=str(name), source=source, options=options, **common)

    tasks = []
    raw_tasks = raw.get("tasks", [])
    if not isinstance(raw_tasks, list):
        problems.add(("tasks",), f"expected a list of tasks, got {raw_tasks!r}")
        raw_tasks = []
    if not raw_tasks:
        problems.add(("tasks",), "the spec has no tasks; add one, e.g. `tasks: [{kind: fit, ...}]`")
    seen: dict = {}
    for i, entry in enumerate(raw_tasks):
        path = ("tasks", i)
        got = _tagged(problems, conv, registry, entry, path, "kind", "tasks", ("name",))
        if got is None:
            continue
        kind, options = got
        name = entry.get("name")
        if name is None:
            seen[kind] = seen.get(kind, 0) + 1
            name = kind if seen[kind] == 1 else f"{kind}_{seen[kind]}"
        elif not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            problems.add(path + ("name",), f"expected a name of letters, digits, - and _, got {name!r}")
            continue
        tasks.append((path, TaskSpec(name=name, kind=kind, options=options)))

    names = [t.name for _, t in tasks]
    for path, t in tasks:
        if names.count(t.name) > 1:
            problems.add(path + ("name",), f"task name {t.name!r} is used twice; names must be unique")

    spec = Spec(**{k: v for k, v in head.items() if v is not None}, datasets=datasets,
                tasks=tuple(t for _, t in tasks), output=output or OutputSpec(), file=file,
                base_dir=base_dir, digest=digest(raw))
    version = head.get("version")
    if version is not None and version != SCHEMA_VERSION:
        problems.add(("version",), f"expected {SCHEMA_VERSION}, got {version!r}; this release "
                     f"reads schema version {SCHEMA_VERSION}")
    for path, t in tasks:
        check = getattr(t.options, "check", None)
        if check is not None:
            for rel, message in check(spec, registry):
                problems.add(path + tuple(rel), message)
    if output and output.reporters is not None and registry is not None:
        for i, name in enumerate(output.reporters):
            problems.attempt(("output", "reporters", i),
                             lambda n=name: _lookup(registry, "reporters", n, ()))
    if problems.items:
        raise SpecError(problems.items)
    return spec


def digest(data: Any) -> str:
    """sha256 of the spec's data in canonical JSON: comments and layout do not change it."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def load_spec(source, registry) -> Spec:
    """Load a spec from a path (or YAML text with ``source`` not naming a file), structured and
    checked against ``registry`` (its data sources, tasks, estimators, laws and reporters).

    The registry is given, never looked up here, so the spec layer imports no plugin host;
    :func:`scalinglaws.load_spec` passes the process-wide one."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError.single(f"no such spec file; check the path ({path.resolve()})",
                                   file=str(source)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError.single(f"cannot read the spec: {exc}", file=str(source)) from None
        file, base = str(source), str(path.resolve().parent)
    else:
        text, file, base = source, "<spec>", "."
    return structure_spec(load_yaml(text, file), registry, file=file, base_dir=base)
