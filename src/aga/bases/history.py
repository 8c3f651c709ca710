"""Optional memory seeds in the original ``agent_history_init_*.csv`` format.

The file has a header ``Name,Whisper``; each row names a resident and gives statements separated
by ``;``. ``merge_history`` appends them, in file order, to that resident's seed memories (a
statement the resident already remembers is not added twice).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from aga.bases._files import read_text
from aga.bases.model import BaseSim
from aga.errors import BaseSimError


def read_history_csv(path: Path) -> dict[str, list[tuple[int, str]]]:
    """Resident name -> [(line, statement), ...] in file order (a row without statements gives
    one ``(line, "")`` entry, so that its line can still be named).

    Raises:
        BaseSimError: the file is missing, has no Name/Whisper header, or a row is malformed.
    """
    text = read_text(path)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise BaseSimError(f"{path}: the file is empty; expected a header line 'Name,Whisper'") from None
    except csv.Error as err:
        raise BaseSimError(f"{path}: line 1: malformed CSV: {err}") from None
    columns = [column.strip().lstrip("\ufeff").casefold() for column in header]
    if "name" not in columns or "whisper" not in columns:
        raise BaseSimError(f"{path}: line 1: expected the columns 'Name' and 'Whisper', found {header}")
    name_at, whisper_at = columns.index("name"), columns.index("whisper")
    history: dict[str, list[tuple[int, str]]] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(name_at, whisper_at):
                raise BaseSimError(
                    f"{path}: line {line}: expected a name and a whisper, found {len(row)} field(s)"
                )
            name = row[name_at].strip()
            if not name:
                raise BaseSimError(f"{path}: line {line}: field 'Name' is empty")
            statements = [part.strip() for part in row[whisper_at].split(";")]
            kept = [(line, s) for s in statements if s]
            history.setdefault(name, []).extend(kept or [(line, "")])
    except csv.Error as err:
        raise BaseSimError(f"{path}: line {reader.line_num}: malformed CSV: {err}") from None
    return history


def merge_history(base: BaseSim, path: Path) -> BaseSim:
    """A copy of ``base`` whose residents also remember the statements of a history CSV.

    Raises:
        BaseSimError: the CSV names a resident the base does not have (the message lists them).
    """
    history = read_history_csv(path)
    by_name = {persona.name: persona for persona in base.residents}
    for name, items in history.items():
        if name not in by_name:
            raise BaseSimError(
                f"{path}: line {items[0][0]}: field 'Name': {name!r} is not a resident "
                f"of base {base.name!r} (residents: {', '.join(by_name)})"
            )
    residents = []
    for persona in base.residents:
        memories = list(persona.seed_memories)
        for _, statement in history.get(persona.name, []):
            if statement and statement not in memories:
                memories.append(statement)
        residents.append(persona.model_copy(update={"seed_memories": memories}))
    return base.model_copy(update={"residents": residents})
