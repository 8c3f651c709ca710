"""The one table of feature switches, and the one place environment variables are read.

Each switch is declared once, here, with its help text. From :data:`SWITCHES` come:

- the ``aga run`` options (``aga.cli.run``: ``--disable_<name>`` for the AGA features that are on,
  ``--<name>/--no-<name>`` for those that are off, ``--disable_saving NAME`` for the savings);
- :data:`SAVINGS`, the names of the savings beyond AGA (``aga.minds.context``);
- the minds' ``MindConfig`` a run gets (``RunSettings.mind_config``) and the validation of
  ``--disable_saving`` names;
- the check that the docs' switch tables name exactly these switches (``tests/test_settings.py``).

Environment variables (:data:`ENV`) are parsed by the functions at the bottom and nowhere else
(the model backends' keys and endpoints live with the gateway).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aga.errors import InputError

Group = Literal["aga", "saving", "run", "profile"]


@dataclass(frozen=True)
class Switch:
    """One feature switch.

    Attributes:
        name: the ``MindConfig`` / ``RunSettings`` field and the CLI name.
        group: ``aga`` (AGA's features), ``saving`` (savings beyond AGA), ``run`` (a run setting
            outside the minds), ``profile`` (set by ``--profile``, no option of its own).
        on: whether ``aga run`` turns it on unless told otherwise (``MindConfig()`` has all off).
        help: one line for ``--help`` and the docs.
    """

    name: str
    group: Group
    on: bool
    help: str

    @property
    def in_minds(self) -> bool:
        """Whether the minds read it (a ``MindConfig`` field)."""
        return self.group != "run"

    @property
    def flags(self) -> tuple[str, ...]:
        """The ``aga run`` option declaration(s) of this switch (empty: no option of its own)."""
        if self.group in ("saving", "profile"):
            return ()
        if self.on:
            return (f"--disable_{self.name}", f"--disable-{self.name.replace('_', '-')}")
        return (f"--{self.name}/--no-{self.name}",)


SWITCHES: tuple[Switch, ...] = (
    Switch("policy", "aga", True, "Lifestyle Policy: reuse stored plans (decompositions) and groundings of actions."),
    Switch("relationship", "aga", True, "Social Memory: one relationship summary per pair, updated after each chat."),
    Switch("mind_wandering", "aga", False, "Mind Wandering: a new day's plan gets an idea from rarely recalled memories."),
    Switch("share_policy", "run", False, "Lifestyle Policy: reuse every resident's entries, not only one's own."),
    Switch(
        "reuse_ratings", "saving", True,
        "An importance this resident already gave (same text, or an object event mirroring an activity) costs no call.",
    ),
    Switch(
        "stored_ratings", "saving", True,
        "With the policy: one's own activities and seed memories keep the importance an earlier run got for them.",
    ),
    Switch(
        "batch_ratings", "saving", True,
        "The events of one step are rated in one call, with one's own upcoming activities.",
    ),
    Switch(
        "defer_ratings", "saving", True,
        "Events wait for their rating until a few gather, an hour passes, or something needs them.",
    ),
    Switch(
        "react_rules", "saving", True,
        "Rules settle reactions when the situation fixes the answer; a short interruption only pauses the plan.",
    ),
    Switch("batch_thoughts", "saving", True, "New thoughts get importance and triple from one call per batch."),
    Switch(
        "merged_reflection", "saving", True,
        "One insights call for all focal questions; one call for the planning note and memo after a chat.",
    ),
    Switch(
        "action_details", "saving", True,
        "An action's emoji, event triple and object state come from one call instead of five.",
    ),
    Switch(
        "plan_rules", "saving", True,
        "Rules settle what the text already says (wake-up hour, a named place, one's own room for sleep).",
    ),
    Switch(
        "original_pipeline", "profile", False,
        "The original's pipeline call for call (--profile original): the day's schedule asked hour by hour, each "
        "activity decomposed whole into 5-10 minute steps, retrieval keeping repeated texts.",
    ),
)  # fmt: skip
"""Every feature switch, once."""

BY_NAME: dict[str, Switch] = {s.name: s for s in SWITCHES}

SAVINGS: tuple[str, ...] = tuple(s.name for s in SWITCHES if s.group == "saving")
"""The cost savings beyond AGA (importance, reactions, reflection, grounding, planning)."""


def switch(name: str) -> Switch:
    """The switch called ``name``.

    Raises:
        InputError: no switch has that name (lists the known ones).
    """
    try:
        return BY_NAME[name]
    except KeyError:
        raise InputError(f"unknown switch {name!r}; known: {', '.join(BY_NAME)}") from None


def check_savings(names: list[str]) -> list[str]:
    """``names`` sorted and de-duplicated, each one a saving.

    Raises:
        InputError: one is not a saving (lists the known ones).
    """
    unknown = sorted(set(names) - set(SAVINGS))
    if unknown:
        raise InputError(f"unknown saving {unknown[0]!r} to disable; known: {', '.join(SAVINGS)}")
    return sorted(set(names))


def savings_help() -> str:
    """The ``--disable_saving`` help: every saving by name."""
    return (
        "Switch off one cost saving (repeatable): "
        + ", ".join(SAVINGS)
        + " (see docs/savings.md, docs/cost.md)."
    )


# ---------------------------------------------------------------------- environment variables
ENV: dict[str, str] = {
    "AGA_STORAGE": "folder holding the simulations (default ./storage; --storage wins)",
    "AGA_LLM_MAX_TRIES": "tries per model call, the first one included (a whole number)",
    "AGA_LLM_RETRY_BUDGET": "seconds a model call may spend retrying",
    "AGA_LLM_RETRY_DELAY": "the first wait before a retry, doubled after each failure (seconds)",
    "AGA_CHECK_STATE": "debug: 1 checks after every step that every change of a resident's state was marked",
    "AGA_EMBEDDED_THREADS": "CPU threads of the embedded model (default: every core this process may use)",
}
"""The environment variables aga reads (outside the model backends' keys and endpoints)."""

RETRY_VARIABLES = {
    "AGA_LLM_MAX_TRIES": "max_tries",
    "AGA_LLM_RETRY_BUDGET": "budget_seconds",
    "AGA_LLM_RETRY_DELAY": "base_delay",
}
"""The retry variables, and the ``RetryPolicy`` field each sets."""


def storage_root(storage: Path | None = None) -> Path:
    """``storage`` if given, else ``$AGA_STORAGE``, else ``./storage``."""
    if storage is not None:
        return storage
    return Path(os.environ.get("AGA_STORAGE", "").strip() or "storage")


def retry_overrides() -> dict[str, float]:
    """The ``RetryPolicy`` fields set by ``AGA_LLM_*`` variables (unset ones are left out).

    Raises:
        InputError: a variable is not a positive number (a whole number for the tries).
    """
    values: dict[str, float] = {}
    for var, attr in RETRY_VARIABLES.items():
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        try:
            value: float = int(raw) if attr == "max_tries" else float(raw)
        except ValueError:
            kind = "a whole number" if attr == "max_tries" else "a number of seconds"
            raise InputError(f"{var}={raw!r} is not {kind}") from None
        if not value > 0:
            raise InputError(f"{var}={raw!r} must be positive")
        values[attr] = value
    return values


def check_state_enabled() -> bool:
    """Whether ``AGA_CHECK_STATE`` asks for the after-every-step check of residents' states."""
    return os.environ.get("AGA_CHECK_STATE", "").strip().lower() in ("1", "true", "yes", "on")


def embedded_threads() -> int | None:
    """``AGA_EMBEDDED_THREADS`` as a thread count, or None when unset (use every core).

    Raises:
        InputError: the variable is not a whole number of at least 1.
    """
    raw = os.environ.get("AGA_EMBEDDED_THREADS", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"AGA_EMBEDDED_THREADS={raw!r} is not a whole number") from None
    if value < 1:
        raise InputError(f"AGA_EMBEDDED_THREADS={raw!r} must be at least 1")
    return value
