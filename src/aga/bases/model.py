"""Plain-data description of a base simulation: the residents and where time starts.

A base is the starting point that ``aga run -o <base>`` forks. Bundled bases live in
``src/aga/bases/<name>/``; original-format storage folders are imported into the same model.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

Tile = tuple[int, int]

KnownPlaces = dict[str, dict[str, list[str]]]
"""sector -> arena -> objects the resident knows at the start (the world level is the town's)."""


class Persona(BaseModel):
    """One resident at the start of a simulation."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="full name, e.g. 'Isabella Rodriguez'")
    first_name: str
    last_name: str
    age: int = Field(ge=0, le=130)
    innate: str = Field(description="three innate traits, comma separated")
    learned: str = Field(description="background: who they are, what they do")
    currently: str = Field(description="what is going on in their life right now")
    lifestyle: str = Field(
        description="sleep and meal habits, e.g. 'goes to bed around 11pm, wakes up around 6am'"
    )
    daily_plan_req: str = Field(default="", description="standing requirements for the day's plan")
    living_area: str = Field(description="'world:sector:arena' of their home")
    start_tile: Tile | None = Field(default=None, description="None: a spawn tile of the living area")
    known_places: KnownPlaces = Field(default_factory=dict)
    seed_memories: list[str] = Field(default_factory=list, description="facts they remember at the start")
    workplace: str | None = Field(
        default=None,
        description="'sector' or 'sector:arena' of the town where they work or study (for aga eval), e.g. 'Hobbs Cafe'",
    )
    # perception and memory parameters (GA_NOTES 2.1)
    vision_r: int = 8
    att_bandwidth: int = 8
    retention: int = 8
    recency_decay: float = 0.995
    importance_trigger_max: int = 150
    recency_w: float = 1.0
    relevance_w: float = 1.0
    importance_w: float = 1.0


class SeededFact(BaseModel):
    """A fact the base plants in some residents' minds, declared so ``aga eval`` can follow it.

    A text carries the fact when it holds every item of ``words`` (case-insensitive); an item may
    offer alternatives separated by ``|`` (``"mayor|election"``).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="short key, e.g. 'party'")
    about: str = Field(default="", description="the fact in one sentence, for reports")
    words: list[str] = Field(min_length=1, description="identifying words; a text must hold every item")
    question: str = Field(default="", description="interview question that asks whether one knows it")
    place: str | None = Field(
        default=None, description="'sector' or 'sector:arena' of an event the fact announces"
    )
    starts: datetime | None = Field(default=None, description="start of the announced event")
    ends: datetime | None = Field(default=None, description="end of the announced event")


class BaseSim(BaseModel):
    """A base simulation: a town, a start time and the residents."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    town: str = "the_ville"
    start: datetime = datetime(2023, 2, 13, 0, 0, 0)
    sec_per_step: int = Field(default=10, ge=1)
    seed: int = 0
    residents: list[Persona]
    facts: list[SeededFact] = Field(default_factory=list, description="seeded facts aga eval follows")
