"""The plugin host: a pluggy ``PluginManager("scalinglaws")`` and the registry it fills.

Order: built-in modules (``DEFAULT_PLUGINS``) are registered like any plugin, then entry points of
the group ``scalinglaws`` are loaded one by one (a plugin that fails to import is reported by its
distribution name and skipped), then ``check_pending()`` rejects hooks no spec knows. Each plugin's
hooks are then called on their own, so a plugin that raises, or registers a name already taken,
is reported and the others keep working.

Environment: ``SCALINGLAWS_LOAD_PLUGINS=a,b`` loads only those distributions' entry points (empty:
none); ``SCALINGLAWS_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys
from importlib import metadata
from typing import Any, Callable, Dict, List, Optional

import attrs
import pluggy

from . import builtin, hookspecs
from .errors import ScalingLawsError, closest
from .laws.base import LawFamily
from .mixture.laws import MixtureLaw

GROUP = "scalinglaws"


def _builtin_modules() -> tuple:
    """Every module of :mod:`scalinglaws.builtin`, each a plugin registered like a third-party one."""
    return tuple(f"{builtin.__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(builtin.__path__),
                                                                 key=lambda m: m.name))


DEFAULT_PLUGINS = _builtin_modules()
BUILTIN_DISTRIBUTION = "scalinglaws"
KINDS = {
    "laws": "register_laws",
    "mixture_laws": "register_mixture_laws",
    "sources": "register_data_sources",
    "estimators": "register_estimators",
    "tasks": "register_tasks",
    "reporters": "register_reporters",
}

log = logging.getLogger("scalinglaws.plugins")


@attrs.frozen
class Registration:
    name: str
    obj: Any
    plugin: str  # plugin (module or entry point) name
    distribution: str


@attrs.define
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: List[str] = attrs.Factory(list)
    error: Optional[str] = None


@attrs.define
class Registry:
    """Everything the plugins registered, by kind and name, and the problems met on the way."""

    laws: Dict[str, Registration] = attrs.Factory(dict)
    mixture_laws: Dict[str, Registration] = attrs.Factory(dict)
    sources: Dict[str, Registration] = attrs.Factory(dict)
    estimators: Dict[str, Registration] = attrs.Factory(dict)
    tasks: Dict[str, Registration] = attrs.Factory(dict)
    reporters: Dict[str, Registration] = attrs.Factory(dict)
    plugins: Dict[str, PluginInfo] = attrs.Factory(dict)
    problems: List[str] = attrs.Factory(list)

    def law(self, name: str):
        return self._lookup(self.laws, "law", name)

    def mixture_law(self, name: str):
        return self._lookup(self.mixture_laws, "mixture law", name)

    def any_law(self, name: str):
        """A law family or a mixture law, by name (``scalinglaws describe``)."""
        return self._lookup({**self.laws, **self.mixture_laws}, "law", name)

    @staticmethod
    def _lookup(table: Dict[str, Registration], what: str, name: str):
        if name not in table:
            raise ScalingLawsError(f"unknown {what} {name!r}{closest(name, table)}; registered: "
                                   f"{', '.join(sorted(table))}")
        return table[name].obj


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _allowed() -> Optional[set]:
    value = os.environ.get("SCALINGLAWS_LOAD_PLUGINS")
    if value is None:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name, hook_impls, kwargs):
        print(f"scalinglaws: calling {hook_name} on {[i.plugin_name for i in hook_impls]}",
              file=sys.stderr)

    def after(outcome, hook_name, hook_impls, kwargs):
        status = "raised " + repr(outcome.exception) if outcome.exception else "ok"
        print(f"scalinglaws: {hook_name} {status}", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)


def _note(registry: Registry, info: PluginInfo, message: str) -> None:
    registry.problems.append(message)
    info.error = message if info.error is None else f"{info.error}; {message}"
    log.debug(message)


def build_registry(extra_plugins: tuple = (), *, entry_points: bool = True) -> Registry:
    """Create a plugin manager, load every plugin and collect their registrations."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    registry = Registry()

    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        registry.plugins[module_name] = PluginInfo(module_name, BUILTIN_DISTRIBUTION,
                                                   _version(BUILTIN_DISTRIBUTION))

    if entry_points:
        allowed = _allowed()
        for ep in metadata.entry_points(group=GROUP):
            dist = ep.dist.name if ep.dist is not None else ep.name
            if allowed is not None and dist not in allowed and ep.name not in allowed:
                continue
            if pm.has_plugin(ep.name) or pm.is_blocked(ep.name):
                continue
            info = PluginInfo(ep.name, dist, _version(dist))
            registry.plugins[ep.name] = info
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not take the others down
                _note(registry, info, f"plugin {ep.name!r} from distribution {dist!r} failed to "
                      f"import: {type(exc).__name__}: {exc}; it is skipped")
                continue
            _register(pm, registry, info, plugin)

    for plugin, name in extra_plugins:
        info = PluginInfo(name, "(in-process)", "")
        registry.plugins[name] = info
        _register(pm, registry, info, plugin)

    _check_pending(pm, registry)
    if os.environ.get("SCALINGLAWS_TRACE_PLUGINS"):
        _trace(pm)
    _collect(pm, registry)
    return registry


def _register(pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, plugin: Any) -> None:
    try:
        pm.register(plugin, name=info.name)
    except (pluggy.PluginValidationError, ValueError) as exc:  # e.g. a hook argument misnamed
        _note(registry, info, f"plugin {info.name!r} ({info.distribution}) cannot be registered: "
              f"{exc}; it is skipped")


def _check_pending(pm: pluggy.PluginManager, registry: Registry) -> None:
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            info = registry.plugins.setdefault(name, PluginInfo(name, "unknown", ""))
            _note(registry, info, f"plugin {name!r} ({info.distribution}): {exc}; it is skipped")
            pm.unregister(exc.plugin)


def _validator(kind: str) -> Callable:
    def check(name: str, obj: Any) -> Optional[str]:
        if kind == "laws":
            return None if isinstance(obj, LawFamily) else f"expected a LawFamily, got {obj!r}"
        if kind == "mixture_laws":
            if not isinstance(obj, MixtureLaw):
                return f"expected a MixtureLaw, got {obj!r}"
            return None if callable(obj.fit) else f"mixture law {name!r} must have a fit function"
        if kind == "reporters":
            return None if callable(obj) else f"reporter {name!r} must be callable"
        if not attrs.has(obj):
            return f"{kind[:-1]} {name!r} must be an attrs class (its fields are its spec keys)"
        needed = {"sources": "load", "estimators": "fit", "tasks": "run"}[kind]
        if not callable(getattr(obj, needed, None)):
            return f"{kind[:-1]} {name!r} must define {needed}()"
        return None

    return check


def _collect(pm: pluggy.PluginManager, registry: Registry) -> None:
    # In registration order (built-ins first), so that on a duplicate name the built-in is kept.
    plugins = [pm.get_plugin(n) for n in registry.plugins if pm.get_plugin(n) is not None]
    for kind, hook_name in KINDS.items():
        table: Dict[str, Registration] = getattr(registry, kind)
        check = _validator(kind)
        for plugin in plugins:
            name = pm.get_name(plugin) or repr(plugin)
            info = registry.plugins.setdefault(name, PluginInfo(name, "unknown", ""))
            if not any(impl.plugin is plugin for impl in getattr(pm.hook, hook_name).get_hookimpls()):
                continue
            info.hooks.append(hook_name)
            others = [p for p in plugins if p is not plugin]
            caller = pm.subset_hook_caller(hook_name, remove_plugins=others)

            def register(*args, _kind=kind, _info=info, _table=table, _check=check):
                if _kind in ("laws", "mixture_laws"):  # the name is the object's own
                    (obj,) = args
                    reg_name = getattr(obj, "name", repr(obj))
                else:
                    reg_name, obj = args
                problem = _check(reg_name, obj)
                if problem:
                    _note(registry, _info, f"plugin {_info.name!r} ({_info.distribution}): {problem}")
                    return
                if reg_name in _table:
                    first = _table[reg_name]
                    what = _kind[:-1].replace("_", " ")
                    _note(registry, _info, f"plugin {_info.name!r} ({_info.distribution}) registers "
                          f"{what} {reg_name!r}, already registered by {first.plugin!r} "
                          f"({first.distribution}); the first one is kept")
                    return
                _table[reg_name] = Registration(reg_name, obj, _info.name, _info.distribution)

            try:
                caller(register=register)
            except Exception as exc:  # a plugin that raises is reported and skipped
                _note(registry, info, f"plugin {name!r} ({info.distribution}) raised in "
                      f"{hook_name}: {type(exc).__name__}: {exc}")


_REGISTRY: Optional[Registry] = None


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = build_registry()
    return _REGISTRY
