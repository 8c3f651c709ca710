"""aga.testing: test doubles (scripted model, hash embedder, fake HTTP servers).

They are selected only with ``--llm scripted`` / ``--embed hash`` or inside tests; never a
default for real runs.
"""

from __future__ import annotations

from aga.testing.hash_embedder import HashEmbedder
from aga.testing.scripted import ScriptedBackend

__all__ = ["HashEmbedder", "ScriptedBackend"]
