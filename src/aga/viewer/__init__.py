"""The replay viewer: compress a run, import an original one, watch either in a web page.

Public API (see docs/viewer.md)::

    from aga.viewer import compress_simulation, import_ga_replay, make_server, Library

    compress_simulation(Path("storage/my_run"))        # -> storage/my_run/replay/...
    import_ga_replay(Path(".../July1_..."), Path("storage"), matrix=Path(".../matrix"))
    server = make_server(Path("storage"), "127.0.0.1", 8000); server.serve_forever()

The viewer only reads simulations (their store or their replay folder), never a live process.
"""

from __future__ import annotations

from aga.viewer.convert import ReplaySummary, compress_simulation, import_ga_replay
from aga.viewer.replay import apply_changes, compress_frames, fold, read_master, read_meta, write_replay
from aga.viewer.server import ReplayServer, make_server
from aga.viewer.sources import CHUNK, Chunk, Library, NotFound, SimInfo, UnknownSimulation, UnknownStep

__all__ = [
    "CHUNK",
    "Chunk",
    "Library",
    "NotFound",
    "ReplayServer",
    "ReplaySummary",
    "SimInfo",
    "UnknownSimulation",
    "UnknownStep",
    "apply_changes",
    "compress_frames",
    "compress_simulation",
    "fold",
    "import_ga_replay",
    "make_server",
    "read_master",
    "read_meta",
    "write_replay",
]
