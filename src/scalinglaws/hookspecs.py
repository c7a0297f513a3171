"""The plugin hooks. Each hook receives a ``register`` callback; the host validates what is passed
to it and names the plugin in any error. Built-ins register through these same hooks."""

import pluggy

hookspec = pluggy.HookspecMarker("scalinglaws")
hookimpl = pluggy.HookimplMarker("scalinglaws")


@hookspec
def register_laws(register):
    """Add law families: ``register(family)`` with a :class:`scalinglaws.laws.LawFamily`."""


@hookspec
def register_mixture_laws(register):
    """Add mixture laws: ``register(law)`` with a :class:`scalinglaws.mixture.laws.MixtureLaw`
    (per-domain loss against the training mixture's proportions, with its own ``fit``). Separate
    from ``register_laws``: a mixture law is not a :class:`~scalinglaws.laws.LawFamily` (it maps
    proportions to one loss per validation domain and fits itself), so it is used by the
    ``fit_mixture`` and ``optimise_mixture`` tasks, not by ``fit``; ``scalinglaws list laws``
    shows both kinds, the mixture laws marked."""


@hookspec
def register_data_sources(register):
    """Add data sources: ``register(name, cls)``; ``cls`` is an attrs class whose fields are the
    source's spec keys and whose ``load(ctx) -> Table`` reads the data."""


@hookspec
def register_estimators(register):
    """Add estimators: ``register(name, cls)``; ``cls`` is an attrs class whose fields are the
    estimator's spec keys and which implements the estimator protocol
    (:class:`scalinglaws.estimators.protocol.Estimator`): ``space`` (``"log"`` or ``"linear"``),
    ``fit(family, obs, *, seed=0) -> FitResult`` on
    :class:`~scalinglaws.observations.Observations`, ``draws(family, obs, fit=None, *, n,
    seed=0) -> ParameterDraws`` and ``covariance(family, obs, fit, *, method="sandwich")``
    (a (P, P) fitting-space array, or None). Every task asks only these methods."""


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
