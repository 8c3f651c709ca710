"""aga.minds: what a resident does each step (perceive, remember, retrieve, plan, react,
converse, reflect, move).

Public API (see docs/architecture.md)::

    from aga.minds import Resident, StepContext, AgentView, Intent, ChatIntent, Movement, MindConfig
    from aga.minds import MemoryStream
    from aga.minds.converse import converse
"""

from __future__ import annotations

from aga.minds.action import Action, Grounding
from aga.minds.context import AgentView, ChatIntent, Intent, MindConfig, Movement, StepContext, rng_for
from aga.minds.memory import MemoryNode, MemoryStream
from aga.minds.resident import Resident

__all__ = [
    "Action",
    "AgentView",
    "ChatIntent",
    "Grounding",
    "Intent",
    "MemoryNode",
    "MemoryStream",
    "MindConfig",
    "Movement",
    "Resident",
    "StepContext",
    "rng_for",
]
