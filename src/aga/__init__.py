"""aga: Affordable Generative Agents.

Folders are layers (imports only point down):

- ``world/``    the town: tiles, addresses, paths, tile events (knows nothing of minds)
- ``gateway/``  the one door to language models: typed asks, retries, cache, ledger, metrics
- ``prompts/``  prompt templates in our words, next to their output schemas
- ``minds/``    what a resident does: perceive, remember, retrieve, plan, react, converse, reflect
- ``bases/``    bundled base simulations (persona texts) and their loader
- ``store/``    SQLite storage of a simulation, importers/exporters of the original formats
- ``runner/``   the step loop: fork, run, resume
- ``viewer/``   the web replay page
- ``testing/``  test doubles (scripted model, hash embedder); never a user's default
- ``cli/``      the ``aga`` command
"""

__version__ = "0.1.0"
