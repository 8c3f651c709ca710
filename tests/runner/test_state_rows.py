"""What a step writes of the residents' states: only the keys that changed, and read back whole."""

from __future__ import annotations

import asyncio
import json

from aga.runner.lifecycle import fork, open_simulation

from .conftest import BASE3, scripted_settings


def test_a_step_writes_only_the_changed_state_keys_and_the_store_reads_the_live_state(storage):
    folder = fork(BASE3, storage, "rows", settings=scripted_settings())
    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(2520))  # 00:00-07:00: asleep, then up and walking
        live = {n: json.loads(r.to_state_json()) for n, r in sim.residents.items()}
        assert sim.store.resident_states() == live
        rows = {
            (n, part): step
            for n, part, step in sim.store._conn.execute("SELECT name, part, step FROM state_parts")
        }
    finally:
        sim.close()
    isabella = "Isabella Rodriguez"
    assert rows[(isabella, "identity")] == 0  # written with the first step, never again
    assert rows[(isabella, "tile")] > 2000  # she walked after waking at 6
    assert len(rows) == 3 * len(live[isabella])  # one row per key and resident, replaced in place
