"""aga.interview: talk to the residents of a simulation as they were at any committed step.

Public API::

    from aga.interview import answer_questions, AnswerRecord, load_question_set
    records = await answer_questions(sim_dir, questions, residents=None, step=None, llm=None, gateway=None)
    records = answer_questions_sync(sim_dir, questions, ...)        # the same, without an event loop
    qs = load_question_set("diffusion")                              # or "battery", or a YAML file
    session = InterviewSession.open(sim_dir, "Klaus Mueller", step=None, llm=None)   # a conversation
    await whisper(sim_dir, [("Klaus Mueller", "...")])               # tell a resident something

Answers never change ``sim.db`` (their calls go to ``<sim>/interviews/ledger.jsonl``); only
``whisper`` and a session's ``remember()`` write memories into the store. See docs/interview.md.
"""

from __future__ import annotations

from aga.interview.answer import AnswerRecord, answer_questions, answer_questions_sync
from aga.interview.questions import BATTERY, BUILT_IN, DIFFUSION, Question, QuestionSet, load_question_set
from aga.interview.snapshot import ResidentAtStep, ResidentError, SimSnapshot, StepError

__all__ = [
    "BATTERY",
    "BUILT_IN",
    "DIFFUSION",
    "AnswerRecord",
    "Question",
    "QuestionSet",
    "ResidentAtStep",
    "ResidentError",
    "SimSnapshot",
    "StepError",
    "answer_questions",
    "answer_questions_sync",
    "load_question_set",
]
