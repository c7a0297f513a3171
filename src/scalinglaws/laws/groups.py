"""One fit over several groups of rows, with some parameters shared and the others per group.

Comparisons of model families or datasets (Choshen et al. 2024, "A Hitchhiker's Guide to Scaling Law
Estimation"), and the step laws of Ye et al. (2024, "Data Mixing Laws") with one exponent across
curves, fit one law to all rows at once: parameters in ``shared`` take one value, every other
parameter ``E`` one value per group, reported as ``E[label]``.

This is a transformation of a :class:`~scalinglaws.laws.base.LawFamily` into another, so the core
fits it like any law: the new family's inputs are the old ones plus a group-index column, its
parameter vector holds the shared values and every group's copies, and its prediction evaluates the
old law once per group (all rows, that group's parameter vector) and keeps, for each row, the value
of its own group. Laws whose prediction couples rows therefore still see whole columns.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from ..core import enable_float64


@attrs.frozen
class Grouping:
    """How a grouped family splits its rows: ``input`` is the name of the group-index input,
    ``labels[i]`` the label of group ``i``, ``shared`` the parameters common to all groups."""

    input: str
    labels: Tuple[str, ...]
    shared: Tuple[str, ...]


def group_label(value) -> str:
    """How a group value appears in parameter names: ``E[gpt2]``, ``E[3]`` (numbers with %g)."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


def with_groups(family, labels: Sequence, shared: Sequence[str] = (), *, input_name: str = "group"):
    """``family`` fitted jointly to groups of rows (see the module docstring).

    Parameter order: the family's own, each non-shared parameter replaced by its copies in the
    order of ``labels``. Copies keep the transform and starting values of the parameter they copy
    (``copy_of``), so a multi-start grid over the grouped family has as many points as the
    ungrouped one: every group starts from the same values.
    """
    labels = tuple(group_label(v) for v in labels)
    shared = tuple(shared)
    if family.grouping is not None:
        raise ValueError(f"law {family.name!r} is already split by {family.grouping.input!r}")
    if not labels:
        raise ValueError("groups need at least one label")
    if len(set(labels)) != len(labels):
        raise ValueError(f"group labels must be distinct, got {list(labels)}")
    unknown = [n for n in shared if n not in family.param_names]
    if unknown:
        raise KeyError(f"law {family.name!r} has no parameter {', '.join(unknown)} to share; its "
                       f"parameters are {', '.join(family.param_names)}")
    if input_name in family.inputs:
        raise ValueError(f"the group column {input_name!r} is already an input of {family.name!r}")
    enable_float64()  # before constants are made
    params: list = []
    index = np.zeros((len(labels), len(family.parameters)), dtype=np.int64)
    for j, p in enumerate(family.parameters):
        if p.name in shared:
            index[:, j] = len(params)
            params.append(p)
            continue
        for g, label in enumerate(labels):
            index[g, j] = len(params)
            fit_name = f"{p.fit_name}[{label}]" if p.fit_name else ""
            params.append(attrs.evolve(p, name=f"{p.name}[{label}]", fit_name=fit_name,
                                       copy_of=p.name))
    n_new = len(params)
    index_c = jnp.asarray(index)

    def split(theta, z):
        """Every group's parameter vector (G, P), the law's own inputs, each row's group."""
        return theta[index_c], z[:, :-1], z[:, -1].astype(jnp.int32)

    def per_group(f):
        if f is None:
            return None

        def grouped(theta, z):
            thetas, inputs, group = split(theta, z)
            every = jax.vmap(lambda th: f(th, inputs))(thetas)  # (G, n)
            return every[group, jnp.arange(inputs.shape[0])]

        return grouped

    log_predict_and_jac = None
    if family.log_predict_and_jac is not None:
        base_fj = family.log_predict_and_jac

        def log_predict_and_jac(theta, z):
            thetas, inputs, group = split(theta, z)
            ys, jacs = jax.vmap(lambda th: base_fj(th, inputs))(thetas)  # (G, n), (G, n, P)
            rows = jnp.arange(inputs.shape[0])
            jac = jacs[group, rows]  # (n, P): d prediction / d own group's parameters
            # Column j of row i belongs to new parameter index[group_i, j].
            full = jnp.zeros((inputs.shape[0], n_new), dtype=jac.dtype)
            return ys[group, rows], full.at[rows[:, None], index_c[group]].add(jac)

    base_prepare = family.prepare

    def prepare(x):
        x = np.asarray(x, dtype=np.float64)
        return np.column_stack([np.asarray(base_prepare(x[:, :-1]), dtype=np.float64), x[:, -1]])

    aliases = {}
    for tied, source in family.aliases.items():
        if source in shared:
            aliases[tied] = source
        else:
            aliases.update({f"{tied}[{g}]": f"{source}[{g}]" for g in labels})
    return attrs.evolve(
        family,
        name=f"{family.name}[groups={input_name}]",
        inputs=tuple(family.inputs) + (input_name,),
        parameters=tuple(params),
        log_predict=per_group(family.log_predict),
        log_predict_and_jac=log_predict_and_jac,
        linear_predict=per_group(family.linear_predict),
        prepare=prepare,
        aliases=aliases,
        grouping=Grouping(input=input_name, labels=labels, shared=shared),
        # Per-group parameters and a group input: the base law's declarations do not apply.
        linear_structure=None, derived=None, allocation=None,
    )
