"""Learning-rate schedules of simulated training runs, expanded into one row per logged step.

Used by the ``simulate`` source (``schedules:``) to draw loss curves for laws of the whole
training trajectory such as ``lr_annealing``, whose inputs are per-step rows (run, step, lr).
"""

from __future__ import annotations

from typing import Iterator

import attrs
import numpy as np

from ..fields import at_least, field, non_negative, one_of, positive

KINDS = ("constant", "cosine", "wsd")


@attrs.frozen(kw_only=True)
class Schedule:
    """One run's learning rate at every step 1..`steps`: linear warmup from 0 over `warmup`
    steps, then `constant` (the peak), `cosine` (from the peak down to `final` x peak) or `wsd`
    (warmup-stable-decay: the peak, then a linear decay to `final` x peak over the last `decay`
    fraction of the steps). Rows are logged every `every` steps (and at the last step)."""

    kind: str = field(validator=one_of(*KINDS), doc="Shape of the schedule: constant, cosine or wsd.")
    peak: float = field(validator=positive, doc="Peak learning rate, e.g. `2.0e-4`.")
    steps: int = field(validator=at_least(1), doc="Number of training steps.")
    every: int = field(default=1, validator=at_least(1), doc=(
        "Log one row every this many steps (steps every, 2 every, ..., and the last step)."))
    warmup: int = field(default=0, validator=at_least(0), doc=(
        "Steps of linear warmup from 0 to the peak; their rows are kept, so the law's areas "
        "include them."))
    final: float = field(default=0.0, validator=non_negative, doc=(
        "cosine, wsd: learning rate at the last step, as a fraction of the peak (0.1: 10%)."))
    decay: float = field(default=0.2, validator=positive, doc=(
        "wsd: fraction of the steps in the final linear decay."))

    def problems(self) -> Iterator[tuple]:
        """(key, message) for settings that the field validators cannot see alone."""
        if self.every > self.steps:
            yield "every", f"logs every {self.every} steps but the run has only {self.steps}; " \
                           "lower `every` or raise `steps`"
        if self.warmup >= self.steps:
            yield "warmup", f"{self.warmup} warmup steps leave none of the {self.steps} steps; " \
                            "lower `warmup`"
        if self.final > 1.0:
            yield "final", f"is a fraction of the peak, expected 0 <= final <= 1, got {self.final}"
        if self.kind == "wsd" and self.decay > 1.0:
            yield "decay", f"is a fraction of the steps, expected 0 < decay <= 1, got {self.decay}"
        elif self.kind == "wsd" and self.warmup > self.steps * (1.0 - self.decay):
            yield "warmup", (f"{self.warmup} warmup steps run into the decay, which starts at step "
                             f"{self.steps * (1.0 - self.decay):g}; lower `warmup` or `decay`")

    def logged_steps(self) -> np.ndarray:
        """every, 2 every, ... up to `steps`; the last step always, as the end of training."""
        steps = np.arange(self.every, self.steps + 1, self.every, dtype=np.float64)
        if steps[-1] != self.steps:
            steps = np.append(steps, float(self.steps))
        return steps

    def rates(self, step: np.ndarray) -> np.ndarray:
        """The learning rate at each of ``step`` (float64)."""
        step = np.asarray(step, dtype=np.float64)
        after = self._after_warmup(step)
        if self.warmup == 0:
            return after
        return np.where(step <= self.warmup, self.peak * step / self.warmup, after)

    def _after_warmup(self, step: np.ndarray) -> np.ndarray:
        floor = self.final * self.peak
        if self.kind == "constant":
            return np.full_like(step, self.peak)
        if self.kind == "cosine":
            # Progress counts from the end of warmup, so the cosine spans the steps left.
            progress = np.clip((step - self.warmup) / (self.steps - self.warmup), 0.0, 1.0)
            return floor + (self.peak - floor) * 0.5 * (1.0 + np.cos(np.pi * progress))
        start = self.steps * (1.0 - self.decay)
        fraction_left = np.clip((self.steps - step) / (self.steps - start), 0.0, 1.0)
        return np.where(step <= start, self.peak, floor + (self.peak - floor) * fraction_left)


def expand(schedules: dict) -> tuple:
    """(run label per row, step, lr) of every schedule's logged rows, runs in the given order."""
    labels, steps, rates = [], [], []
    for label, schedule in schedules.items():
        s = schedule.logged_steps()
        labels += [str(label)] * len(s)
        steps.append(s)
        rates.append(schedule.rates(s))
    return np.array(labels, dtype=object), np.concatenate(steps), np.concatenate(rates)
