"""Base simulations: the residents of a town and the moment their story starts.

``load_base`` reads a bundled base by name, a folder of aga's own format (``base.yaml`` +
``personas/*.yaml``, see docs/bases.md) or a storage folder of the original Generative Agents
format. ``validate_against_town`` lists the places a base mentions that a town lacks.
"""

from __future__ import annotations

import os
from pathlib import Path

from aga.bases.checks import validate_against_town
from aga.bases.history import merge_history
from aga.bases.model import BaseSim, Persona
from aga.bases.original import META, is_original_format, load_original_format
from aga.bases.own_format import BASE_FILE, is_own_format, load_own_format
from aga.errors import BaseSimError

__all__ = ["BaseSim", "Persona", "bundled_bases", "load_base", "validate_against_town"]

_BUNDLED_ROOT = Path(__file__).resolve().parent


def bundled_bases() -> list[str]:
    """Names of the bases shipped with aga, sorted."""
    return sorted(child.name for child in _BUNDLED_ROOT.iterdir() if (child / BASE_FILE).is_file())


def load_base(name_or_path: str | Path, *, history_csv: str | Path | None = None) -> BaseSim:
    """Load a base simulation.

    Args:
        name_or_path: a bundled base name (see :func:`bundled_bases`); a folder holding
            ``base.yaml`` (or that ``base.yaml`` itself); or an original-format storage folder
            (``reverie/meta.json`` + ``personas/<Full Name>/bootstrap_memory/``). A bare name
            that is bundled wins over a folder of the same name in the working directory; write
            ``./name`` for the folder.
        history_csv: optional ``Name,Whisper`` CSV whose ``;``-separated statements are added
            to the named residents' seed memories (after the ones the base already has).

    Returns:
        The validated base.

    Raises:
        BaseSimError: unknown name, missing folder or file, malformed content; the message
            names the file and the field.
    """
    base = _load(name_or_path)
    if history_csv is not None:
        base = merge_history(base, Path(history_csv))
    return base


def _load(name_or_path: str | Path) -> BaseSim:
    text = str(name_or_path)
    if not text.strip():
        raise BaseSimError(f"no base given: name a bundled base ({', '.join(bundled_bases())}) or a folder")
    is_bare_name = isinstance(name_or_path, str) and os.sep not in text and "/" not in text
    if is_bare_name and text in bundled_bases():
        return load_own_format(_BUNDLED_ROOT / text)
    path = Path(name_or_path).expanduser()
    if path.is_file() and path.name == BASE_FILE:
        path = path.parent
    if not path.exists():
        if is_bare_name:
            raise BaseSimError(
                f"unknown base {text!r}: not a bundled base ({', '.join(bundled_bases())}) "
                f"and no folder of that name"
            )
        raise BaseSimError(f"{path}: base folder not found")
    if not path.is_dir():
        raise BaseSimError(f"{path}: expected a base folder (with {BASE_FILE} or {META}), found a file")
    if is_own_format(path):
        return load_own_format(path)
    if (path / META).is_file():
        if not is_original_format(path):
            raise BaseSimError(
                f"{path}: has {META} but no personas/<Full Name>/bootstrap_memory/scratch.json"
            )
        return load_original_format(path)
    raise BaseSimError(
        f"{path}: not a base folder: expected {BASE_FILE} (aga format) or {META} (original format)"
    )
