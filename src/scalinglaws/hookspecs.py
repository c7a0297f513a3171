"""The plugin hooks. Each hook receives a ``register`` callback; the host validates what is passed
to it and names the plugin in any error. Built-ins register through these same hooks."""

import pluggy

hookspec = pluggy.HookspecMarker("scalinglaws")
hookimpl = pluggy.HookimplMarker("scalinglaws")


@hookspec
def register_laws(register):
    """Add law families: ``register(family)`` with a :class:`scalinglaws.laws.LawFamily`."""


@hookspec
def register_data_sources(register):
    """Add data sources: ``register(name, cls)``; ``cls`` is an attrs class whose fields are the
    source's spec keys and whose ``load(ctx) -> Table`` reads the data."""


@hookspec
def register_estimators(register):
    """Add estimators: ``register(name, cls)``; ``cls`` is an attrs class whose fields are the
    estimator's spec keys and whose ``fit(family, x, y, *, weights=None, seed=0) -> FitResult``
    fits a law (``x`` (n, k) inputs in ``family.inputs`` order, ``y`` (n,) target). An optional
    ``space`` attribute (``"log"`` or ``"linear"``) says whether the target must be positive."""


@hookspec
def register_tasks(register):
    """Add tasks: ``register(name, cls)``; ``cls`` is an attrs class whose fields are the task's
    spec keys, with ``run(ctx, name) -> TaskResult`` (:class:`scalinglaws.results.TaskResult`)
    and optionally ``check(spec, registry)`` yielding ``(relative_path, message)`` for
    cross-reference problems. ``cls.result_type``, when set, is the TaskResult class its runs
    return: ``scalinglaws report`` rebuilds results.json entries of that kind with it."""


@hookspec
def register_reporters(register):
    """Add reporters: ``register(name, fn)``; ``fn(run_result, out_dir) -> list[str]`` writes files
    into the (temporary) output folder and returns their names."""
