"""The Lifestyle Policy: plans and groundings learned once, reused by later runs.

    from aga.policy import PublicStore, LifestylePolicy, Grounding

    store = PublicStore.in_storage(storage)            # <storage>/public/policy.db, shared
    policy = LifestylePolicy(store, sim="run-1", embed_model=gateway.embed_model)
    hit = policy.find_plan(agent, activity, minutes, key_vector, step)

See docs/policy.md for the stores, the visibility rule and the threshold calibration.
"""

from __future__ import annotations

from aga.policy.policy import LifestylePolicy, NullPolicy, Policy, normalise
from aga.policy.rescale import rescale_minutes, rescale_subtasks
from aga.policy.store import PublicStore
from aga.policy.thresholds import DEFAULT_THRESHOLD, THRESHOLDS, threshold_for
from aga.policy.types import Grounding, PlanHit, Triple

__all__ = [
    "DEFAULT_THRESHOLD",
    "THRESHOLDS",
    "Grounding",
    "LifestylePolicy",
    "NullPolicy",
    "PlanHit",
    "Policy",
    "PublicStore",
    "Triple",
    "normalise",
    "rescale_minutes",
    "rescale_subtasks",
    "threshold_for",
]
