"""aga.testing: test doubles (scripted model, hash embedder, fake HTTP servers).

They are selected only with ``--llm scripted`` / ``--embed hash`` or inside tests; never a
default for real runs. Importing this package registers the doubles with the gateway's backend
registry (the installed package names it under the ``aga.backends`` entry points, so the
gateway finds them without importing anything of ``aga.testing`` itself).
"""

from __future__ import annotations

from aga.errors import InputError
from aga.gateway.registry import BuildOptions, register_embedder, register_llm
from aga.testing.hash_embedder import HashEmbedder
from aga.testing.scripted import ScriptedBackend

__all__ = ["HashEmbedder", "ScriptedBackend"]


def _scripted(arg: str, opts: BuildOptions) -> ScriptedBackend:
    if arg:
        raise InputError(f"unknown --llm {opts.spec!r}; the scripted test double takes no argument")
    return ScriptedBackend(seed=opts.sampling_seed)


def _hash(arg: str, spec: str) -> HashEmbedder:
    if arg:
        raise InputError(f"unknown --embed {spec!r}; the hash test double takes no argument")
    return HashEmbedder()


register_llm("scripted", _scripted, default_in_flight=4, double=True)
register_embedder("hash", _hash, double=True)
