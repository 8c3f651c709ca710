"""Fork a base into a new simulation, and open an existing one to continue it.

Everything that can be wrong with the user's input (the base, the town, the model spec, the
target name) is checked before anything is created; a new simulation folder is built under a
temporary name and renamed into place, so a failure leaves the storage folder as it was.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from aga.bases import BaseSim, Persona, load_base
from aga.errors import InputError, StoreError
from aga.gateway import Gateway, RetryPolicy, build_gateway
from aga.minds import MemoryStream, MindConfig, Resident
from aga.policy import LifestylePolicy, NullPolicy, Policy, PublicStore
from aga.policy.store import DB_NAME as POLICY_DB
from aga.policy.store import PUBLIC_DIR
from aga.runner.simulation import TIME_FORMAT, Simulation
from aga.settings import SAVINGS, SWITCHES, check_savings, retry_overrides
from aga.store.sim_store import DB_NAME, SimStore
from aga.world import Town, load_town

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass
class RunSettings:
    """How a simulation runs; stored with it and reused when it is continued.

    Attributes:
        llm, embed: the model specs (see ``build_gateway``).
        llm_cache: reuse stored answers to identical requests.
        policy: Lifestyle Policy (reuse of decompositions and groundings through the public store).
        share_policy: look up every resident's policy entries, not only one's own.
        relationship: Social Memory.
        mind_wandering: a new day's plan gets an idea from a few rarely recalled memories.
        disabled_savings: names from ``aga.minds.context.SAVINGS`` to switch off (all on otherwise).
        max_in_flight: most model calls at once across all residents (None: the backend kind's
            default, 1 for the embedded model, 8 for remote endpoints).
        structured: how answers are held to their schema on OpenAI-compatible servers (``auto``
            or one form, see ``aga.gateway.structured``).
        llm_options: ``KEY=VALUE`` request fields for OpenAI-compatible servers (``--llm-option``).
        profile: ``default`` or ``original`` (see :data:`PROFILES`); ``original`` turns every
            AGA feature and saving off and the minds' ``original_pipeline`` on.
    """

    llm: str = "embedded"
    embed: str | None = None
    llm_cache: bool = False
    policy: bool = True
    relationship: bool = True
    mind_wandering: bool = False
    max_in_flight: int | None = None
    structured: str = "auto"
    llm_options: list[str] = field(default_factory=list)
    share_policy: bool = False
    disabled_savings: list[str] = field(default_factory=list)
    profile: str = "default"

    def __post_init__(self) -> None:
        self.disabled_savings = check_savings(self.disabled_savings)
        if self.profile not in PROFILES:
            raise InputError(f"unknown profile {self.profile!r}; known: {', '.join(PROFILES)}")
        if self.profile == "original":  # the original's pipeline: no AGA feature, no saving
            self.policy = self.relationship = self.mind_wandering = self.share_policy = False
            self.disabled_savings = list(SAVINGS)

    def merged(self, overrides: dict[str, Any]) -> RunSettings:
        """A copy with the non-None overrides applied."""
        known = {f.name for f in fields(self)}
        values = asdict(self)
        values.update({k: v for k, v in overrides.items() if v is not None and k in known})
        return RunSettings(**values)

    def mind_config(self) -> MindConfig:
        """The feature switches the minds see (from :data:`aga.settings.SWITCHES`): the AGA
        features as set, every saving on unless disabled."""
        values = {s.name: bool(getattr(self, s.name)) for s in SWITCHES if s.group == "aga"}
        values.update({name: name not in self.disabled_savings for name in SAVINGS})
        values["original_pipeline"] = self.profile == "original"
        return MindConfig(**values)


PROFILES = ("default", "original")
"""``aga run --profile``: ``default`` (the switches as set) or ``original`` (the original Generative
Agents' pipeline call for call: hourly schedule, whole decompositions, every AGA feature and saving
off)."""

TEST_DOUBLE_LLMS = ("scripted",)
"""Model specs whose answers are test doubles: their policy entries are kept apart."""


def policy_store_path(storage: Path, llm: str) -> Path:
    """The public policy store of a storage folder for runs on model ``llm``.

    Real models share ``<storage>/public/policy.db``. Runs on the scripted test model use
    ``<storage>/public/policy-scripted.db``, so a test double's plans never feed a real model's run.
    """
    kind = llm.split(":", 1)[0]
    name = f"policy-{kind}.db" if kind in TEST_DOUBLE_LLMS else POLICY_DB
    return storage / PUBLIC_DIR / name


def build_policy(settings: RunSettings, storage: Path, sim: str, embed_model: str) -> Policy:
    """The Lifestyle Policy of one simulation: a ``LifestylePolicy`` on the storage folder's public
    store, or ``NullPolicy`` (no file opened or created) when the policy is off."""
    if not settings.policy:
        return NullPolicy()
    store = PublicStore(policy_store_path(storage, settings.llm))
    return LifestylePolicy(store, sim=sim, embed_model=embed_model, share_across_agents=settings.share_policy)


def retry_policy_from_env() -> RetryPolicy:
    """The retry budget for transient model failures, with any ``AGA_LLM_*`` overrides applied.

    ``AGA_LLM_MAX_TRIES`` (tries per call, first one included), ``AGA_LLM_RETRY_BUDGET`` (seconds
    per call) and ``AGA_LLM_RETRY_DELAY`` (the first wait, doubled after each failure). Unset
    variables keep the gateway's defaults.

    Raises:
        InputError: a variable is not a positive number (a whole number for the tries).
    """
    return RetryPolicy(**retry_overrides())  # type: ignore[arg-type]


def check_sim_name(name: str) -> str:
    """A simulation name is one folder name: letters, digits, '_', '-', '.'."""
    if not name or not _NAME_RE.match(name):
        raise InputError(
            f"invalid simulation name {name!r}: use letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return name


def check_steps(steps: int) -> int:
    """Step counts are positive integers."""
    if steps <= 0:
        raise InputError(f"--steps must be a positive integer, got {steps}")
    return steps


def place_residents(base: BaseSim, town: Town) -> list[Persona]:
    """Each resident on its start tile if that tile is walkable and in its living area, else on a
    spawn tile of its living area (spread over the spawn tiles in name order)."""
    placed: list[Persona] = []
    per_area: dict[str, int] = {}
    for persona in sorted(base.residents, key=lambda p: p.name):
        area = persona.living_area
        if not town.has_address(area):
            raise InputError(
                f"resident {persona.name!r} lives in {area!r}, which town {town.name!r} does not have;"
                " pick a town that has it with --town"
            )
        tile = persona.start_tile
        fits = (
            tile is not None
            and 0 <= tile[0] < town.width
            and 0 <= tile[1] < town.height
            and town.is_walkable((tile[0], tile[1]))
            and town.address((tile[0], tile[1]), "arena") == area
        )
        if tile is None or not fits:
            spawns = town.spawn_tiles(area) or sorted(t for t in town.tiles(area) if town.is_walkable(t))
            if not spawns:
                raise InputError(
                    f"town {town.name!r} has no walkable tile in {area!r} to start {persona.name!r}"
                )
            k = per_area.get(area, 0)
            per_area[area] = k + 1
            tile = spawns[k % len(spawns)]
        placed.append(persona.model_copy(update={"start_tile": (int(tile[0]), int(tile[1]))}))
    return placed


def _town_ref(base: BaseSim, town_arg: str | None) -> str:
    if town_arg is None:
        return base.town
    path = Path(town_arg)
    return str(path.resolve()) if path.exists() else town_arg


def fork(
    base_ref: str | BaseSim,
    storage: Path,
    sim: str,
    *,
    town: str | None = None,
    settings: RunSettings,
    force: bool = False,
) -> Path:
    """Create ``<storage>/<sim>`` from a base (a reference for ``load_base``, or a BaseSim);
    returns the folder. Checks everything before creating anything."""
    check_sim_name(sim)
    target = storage / sim
    if target.exists() and not force:
        raise StoreError(
            f"simulation {sim!r} already exists in {storage}; continue it with `aga run -t {sim} -s N`"
            " or replace it with --force"
        )
    base = base_ref if isinstance(base_ref, BaseSim) else load_base(base_ref)
    town_ref = _town_ref(base, town)
    the_town = load_town(town_ref)
    personas = place_residents(base, the_town)
    build_gateway(  # validates the model spec before anything is created
        settings.llm, embed=settings.embed, structured=settings.structured, llm_options=settings.llm_options
    )
    retry_policy_from_env()  # and the retry variables
    residents = [Resident.from_persona(p, the_town) for p in personas]

    storage.mkdir(parents=True, exist_ok=True)
    tmp = storage / f".{sim}.forking-{uuid.uuid4().hex[:8]}"
    try:
        store = SimStore.create(
            tmp,
            {
                "name": sim,
                "fork_sim_code": base.name,
                "base": base.model_dump(mode="json"),
                "town": town_ref,
                "world": the_town.world,
                "start": base.start.isoformat(),
                "start_date": base.start.strftime("%B %d, %Y"),
                "curr_time": base.start.strftime(TIME_FORMAT),
                "sec_per_step": base.sec_per_step,
                "seed": base.seed,
                "step": 0,
                "persona_names": [p.name for p in personas],
                "start_tiles": {r.name: [r.tile[0], r.tile[1]] for r in residents},
                "settings": asdict(settings),
            },
        )
        store.write_initial(
            {r.name: r.to_state() for r in residents},
            {r.name: r.memory.drain_changes() for r in residents},
        )
        store.close()
        if target.exists():
            trash = storage / f".{sim}.replaced-{uuid.uuid4().hex[:8]}"
            target.rename(trash)
            tmp.rename(target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def open_simulation(
    folder: Path, overrides: dict[str, Any] | None = None, *, gateway: Gateway | None = None
) -> Simulation:
    """Load a simulation at its last committed step, ready to continue."""
    if not (folder / DB_NAME).is_file():
        raise StoreError(
            f"no simulation at {folder} (missing {DB_NAME}); fork one with `aga run -o <base> -t <name>`"
        )
    store = SimStore.open(folder)
    meta = store.meta()
    settings = RunSettings(**meta.get("settings", {})).merged(overrides or {})
    town = load_town(meta["town"])
    gw = gateway or build_gateway(
        settings.llm,
        embed=settings.embed,
        cache_path=(folder / "llm_cache.db") if settings.llm_cache else None,
        max_in_flight=settings.max_in_flight,
        retry=retry_policy_from_env(),
        structured=settings.structured,
        llm_options=settings.llm_options,
        sampling_seed=int(meta["seed"]),
    )
    vectors = store.embeddings(gw.embed_model)
    gw.preload_embeddings(gw.embed_model, vectors.items())  # a resumed run re-embeds nothing it already has
    residents: dict[str, Resident] = {}
    for name, state in store.resident_states().items():
        records = store.memory_records(name)
        mine = {
            r["embedding_key"]: vectors[r["embedding_key"]]
            for r in records
            if r.get("embedding_key") in vectors
        }
        residents[name] = Resident.from_state(state, MemoryStream.from_records(records, mine))
    start = datetime.fromisoformat(meta["start"])
    if overrides:
        store.set_meta({"settings": asdict(settings)})
    return Simulation(
        store=store,
        town=town,
        residents=residents,
        gateway=gw,
        config=settings.mind_config(),
        policy=build_policy(settings, folder.parent, folder.name, gw.embed_model),
        step=int(meta["step"]),
        start=start,
        sec_per_step=int(meta["sec_per_step"]),
        seed=int(meta["seed"]),
    )
