"""The error tree of aga. Every failure a user can cause or meet is one of these.

    AgaError                    base class; ``str(err)`` is one clear line for the user
     +-- InputError             bad user input: a flag, a name, a step count, a path
     +-- TownError              a town file or map folder is malformed (names file and place)
     +-- BaseSimError           a base simulation / persona file is malformed or unknown
     +-- StoreError             a simulation store is missing, locked, or inconsistent
     +-- ModelAnswerError       the model kept giving answers that do not fit the task's schema
     +-- BackendUnavailable     the model endpoint failed past the retry budget (status, message, hint)

The CLI catches ``AgaError`` at the top level, prints the message and exits non-zero.
Nothing else should catch ``Exception`` broadly.
"""

from __future__ import annotations


class AgaError(Exception):
    """Base class. The message is meant for the user, on one line."""


class InputError(AgaError):
    """The user gave a wrong flag, name, number or path."""


class TownError(AgaError):
    """A town file or original-format map is malformed.

    The message names the file and the place (tile, line, sector/arena name).
    """


class BaseSimError(AgaError):
    """A base simulation or persona file is unknown or malformed (names the file and field)."""


class StoreError(AgaError):
    """A simulation's store is missing, already exists, or cannot be read/written."""


class ModelAnswerError(AgaError):
    """The model's answers never fitted the task's schema within the allowed attempts."""

    def __init__(self, task: str, raw: str, reason: str) -> None:
        self.task = task
        self.raw = raw
        self.reason = reason
        super().__init__(
            f"model answer for task '{task}' did not fit its schema: {reason} (last answer: {raw[:200]!r})"
        )


class BackendUnavailable(AgaError):
    """The model backend failed after the retry budget was spent.

    Carries what the user needs to act: backend, model, HTTP status (if any), the server's
    message, and a hint of what to do.
    """

    def __init__(
        self,
        backend: str,
        model: str,
        message: str,
        *,
        status: int | None = None,
        hint: str = "",
    ) -> None:
        self.backend = backend
        self.model = model
        self.status = status
        self.server_message = message
        self.hint = hint
        where = f"{backend} model '{model}'"
        code = f" HTTP {status}" if status is not None else ""
        text = f"{where} unavailable{code}: {message}"
        if hint:
            text += f" -- {hint}"
        super().__init__(text)
