"""The tasks of a resident's mind: one ``Task`` per prompt, with the schema of its answer.

Each task's template is ``src/aga/prompts/<name>.txt``. Schemas are small: ratings, hours,
yes/no and choices are Literals (llama.cpp's grammar ignores numeric bounds, enums it keeps);
free text is a short string. Numbers that must add up (minutes) are fixed by code; the model's
minutes are only weights. Task names are the metrics keys and do not change.
"""

from __future__ import annotations

from dataclasses import replace as dc_replace
from functools import cache
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, create_model

from aga.gateway import Task


def _squash(value: object) -> object:
    """Collapse whitespace in strings (models like to add newlines)."""
    return " ".join(value.split()) if isinstance(value, str) else value


Short = Annotated[str, BeforeValidator(_squash), StringConstraints(min_length=1, max_length=160)]
"""An activity name, a phrase: one line."""
Text = Annotated[str, BeforeValidator(_squash), StringConstraints(min_length=1, max_length=600)]
"""A sentence or two."""
LINE_CHARS = 400
"""Most characters in one chat line: three long sentences, about 90 tokens, so the grammar closes
the answer inside the turn's token budget (a 600-character line ran past it and ended a chat)."""
Line = Annotated[str, BeforeValidator(_squash), StringConstraints(min_length=1, max_length=LINE_CHARS)]
"""What a speaker says in one turn of a conversation."""
Thought = Annotated[str, BeforeValidator(_squash), StringConstraints(min_length=1, max_length=300)]
"""An insight: one or two sentences."""

M = TypeVar("M", bound=BaseModel)

StatementNumber = Annotated[int, Field(ge=0, le=99)]
"""The number of a statement in a numbered list (reflection lists at most 90)."""


def _known_numbers(value: object) -> object:
    """Evidence numbers outside the admitted range left out (code drops unknown ones anyway):
    a backend without a grammar may give them."""
    if not isinstance(value, list):
        return value
    return [v for v in value if not isinstance(v, int) or 0 <= v <= 99]


Rating = Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
Hour = Literal[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]
Minutes = Literal[5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 90, 120]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WakeUpHour(_Answer):
    """The hour the resident gets up."""

    hour: Hour


class PlanItem(_Answer):
    """One line of the day's plan: what, from which hour."""

    activity: Short
    hour: Hour


class DailyPlan(_Answer):
    """The day's plan, hour by hour (code fixes the durations)."""

    items: list[PlanItem] = Field(min_length=1, max_length=16)


class HourActivity(_Answer):
    """What the resident does during one hour of the day (the original's hourly schedule)."""

    activity: Short


class Subtask(_Answer):
    """A step of an activity; ``minutes`` is a rough size, code rescales it."""

    activity: Short
    minutes: Minutes


class TaskDecomp(_Answer):
    """The steps of one activity."""

    subtasks: list[Subtask] = Field(min_length=1, max_length=12)


class Emoji(_Answer):
    """One to three emoji."""

    emoji: Annotated[str, BeforeValidator(_squash), StringConstraints(min_length=1, max_length=8)]


class EventTriple(_Answer):
    """Predicate and object of a (subject, predicate, object) triple; the subject is known."""

    predicate: Short
    object: Short


class ObjectState(_Answer):
    """What state an object is in while it is used."""

    state: Short


class Importance(_Answer):
    """How much something matters to the resident, 1 (routine) to 10 (life-changing)."""

    rating: Rating


class YesNo(_Answer):
    """A yes/no decision."""

    answer: Literal["yes", "no"]


class WaitOrGo(_Answer):
    """Wait for the other person to finish, or carry on."""

    answer: Literal["wait", "continue"]


class Summary(_Answer):
    """A short summary."""

    summary: Text


class Turn(_Answer):
    """The next utterance of a conversation and whether the conversation ends after it."""

    utterance: Line
    end: bool


class ScheduleRewrite(_Answer):
    """What the resident does after the inserted activity, until the end of the window (at most 8
    activities: the 1.5B model otherwise repeated one item until its 400 tokens ran out, three
    times over, about 50 s of a CPU each time)."""

    activities: list[Subtask] = Field(min_length=1, max_length=8)


class FocalPoints(_Answer):
    """Questions worth thinking about."""

    questions: list[Short] = Field(min_length=1, max_length=5)


class Insight(_Answer):
    """One insight and the numbers of the statements it rests on."""

    insight: Thought
    evidence: Annotated[list[StatementNumber], BeforeValidator(_known_numbers)] = Field(
        default_factory=list, max_length=8
    )


class Insights(_Answer):
    """Insights drawn from numbered statements."""

    insights: list[Insight] = Field(min_length=1, max_length=6)


class RatedInsight(Insight):
    """An insight with its (predicate, object), the thinker being the subject, and how much it
    matters to them: the merged call rates its own insights (no ``thought_notes`` call after)."""

    predicate: Short
    object: Short
    importance: Rating


class RatedInsights(_Answer):
    """Rated insights drawn from numbered statements."""

    insights: list[RatedInsight] = Field(min_length=1, max_length=6)


class Note(_Answer):
    """A short note."""

    note: Text


class DayReview(_Answer):
    """Looking back before a new day: what to keep in mind, and how one feels."""

    plan_note: Text
    feelings: Text


class DayRevision(_Answer):
    """The resident's status and standing plan requirements for the new day."""

    currently: Text
    daily_requirements: Text


# ---------------------------------------------------------------------- Social Memory and savings
class TieUpdate(_Answer):
    """After a chat: how one person now sees the other, their notes, how much the chat mattered."""

    relationship: Short
    feeling: Short
    summary: Text
    importance: Rating


class EventRating(_Answer):
    """One event, copied, and its importance (the copy makes a small model rate each on its own)."""

    event: Short
    rating: Rating


class Ratings(_Answer):
    """Importance of several numbered events, in their order (one entry per event)."""

    ratings: list[EventRating] = Field(min_length=1, max_length=8)


class ThoughtNote(_Answer):
    """A thought's (predicate, object), the subject being the thinker, and its importance."""

    predicate: Short
    object: Short
    importance: Rating


class ThoughtNotes(_Answer):
    """One note per numbered thought, in their order."""

    notes: list[ThoughtNote] = Field(min_length=1, max_length=6)


class ChatThoughts(_Answer):
    """What a resident takes from a chat: a note for planning and a memo."""

    planning_note: Text
    planning_importance: Rating
    memo: Text
    memo_importance: Rating


def exactly(schema: type[M], field: str, count: int) -> type[M]:
    """``schema`` with its list ``field`` holding exactly ``count`` items (cached per count).

    The answer format shown to the model is the same for every count; a wrong count is caught
    by validation and repaired like any other misfit.
    """
    return _sized(schema, field, count, count)


def at_most(schema: type[M], field: str, count: int) -> type[M]:
    """``schema`` with its list ``field`` holding one to ``count`` items (cached per count)."""
    return _sized(schema, field, 1, count)


@cache
def _sized(schema: type[M], field: str, low: int, high: int) -> type[M]:
    item = schema.model_fields[field].annotation
    name = f"{schema.__name__}{high}" if low == high else f"{schema.__name__}Upto{high}"
    return create_model(  # type: ignore[call-overload,no-any-return]
        name, __base__=schema, **{field: (item, Field(min_length=low, max_length=high))}
    )


# ---------------------------------------------------------------------- cost layer: grounding, wandering
EmojiText = Annotated[str, BeforeValidator(_squash), StringConstraints(min_length=1, max_length=8)]
"""One to three emoji."""


class ActionLook(_Answer):
    """How an activity shows: its emoji and (predicate, object); the subject is the person."""

    emoji: EmojiText
    predicate: Short
    object: Short


class ActionDetails(ActionLook):
    """How an activity shows, with the state of the object used (its emoji and triple follow)."""

    object_state: Short


class NewIdea(_Answer):
    """Something new to do today (Mind Wandering)."""

    idea: Short


# ---------------------------------------------------------------------- planning
WAKE_UP_HOUR = Task("wake_up_hour", WakeUpHour, max_tokens=16)
DAILY_PLAN = Task("daily_plan", DailyPlan, max_tokens=690, temperature=0.6, hint="home")
TASK_DECOMP = Task("task_decomp", TaskDecomp, max_tokens=580)  # 12 steps; see decomposition
STEP_TOKENS = 46
"""The most tokens one step of a decomposition takes under its grammar (a 160-character activity
and its minutes, in ordinary English)."""


def decomposition(count: int) -> Task[TaskDecomp]:
    """``task_decomp`` asking for ``count`` steps: at most two more are admitted, with the tokens
    they may take, so a constrained answer always closes inside its budget."""
    most = count + 2
    budget = 24 + STEP_TOKENS * most
    return dc_replace(TASK_DECOMP, schema=at_most(TaskDecomp, "subtasks", most), max_tokens=budget)


NEW_DAY_REVIEW = Task("new_day_review", DayReview, max_tokens=270)
NEW_DAY_REVISION = Task("new_day_revision", DayRevision, max_tokens=270)
SCHEDULE_REWRITE = Task("schedule_rewrite", ScheduleRewrite, max_tokens=400, hint="after")
MIND_WANDERING = Task("mind_wandering", NewIdea, max_tokens=48, temperature=0.7)
HOURLY_SCHEDULE = Task("hourly_schedule", HourActivity, max_tokens=40, temperature=0.5)  # --profile original

# ---------------------------------------------------------------------- grounding an action
ACTION_SECTOR: Task[None] = Task("action_sector", None, max_tokens=24)
ACTION_ARENA: Task[None] = Task("action_arena", None, max_tokens=24)
ACTION_OBJECT: Task[None] = Task("action_object", None, max_tokens=24)
ACTION_EMOJI = Task("action_emoji", Emoji, max_tokens=16)
EVENT_TRIPLE = Task("event_triple", EventTriple, max_tokens=80)
OBJECT_STATE = Task("object_state", ObjectState, max_tokens=48)
OBJECT_EMOJI = Task("object_emoji", Emoji, max_tokens=16)
OBJECT_EVENT_TRIPLE = Task("object_event_triple", EventTriple, max_tokens=80)
ACTION_DETAILS = Task("action_details", ActionDetails, max_tokens=120)  # the five above in one call
ACTION_LOOK = Task("action_look", ActionLook, max_tokens=90)  # emoji and triple, no object used

# ---------------------------------------------------------------------- memory
EVENT_IMPORTANCE = Task("event_importance", Importance, max_tokens=12)
THOUGHT_IMPORTANCE = Task("thought_importance", Importance, max_tokens=12)
CHAT_IMPORTANCE = Task("chat_importance", Importance, max_tokens=12)

# ---------------------------------------------------------------------- reactions and chats
DECIDE_TO_TALK = Task("decide_to_talk", YesNo, max_tokens=12)
DECIDE_TO_REACT = Task("decide_to_react", WaitOrGo, max_tokens=12)
RELATIONSHIP_SUMMARY = Task("relationship_summary", Summary, max_tokens=140)
CONVERSATION_TURN = Task("conversation_turn", Turn, max_tokens=120, temperature=0.6, hint="turn")
CONVERSATION_SUMMARY = Task("conversation_summary", Summary, max_tokens=140)

# ---------------------------------------------------------------------- reflection
FOCAL_POINTS = Task("focal_points", FocalPoints, max_tokens=190)
INSIGHTS = Task("insights", Insights, max_tokens=580, temperature=0.3)
CHAT_PLANNING_NOTE = Task("chat_planning_note", Note, max_tokens=140)
CHAT_MEMO = Task("chat_memo", Note, max_tokens=140)

# ---------------------------------------------------------------------- Social Memory
SOCIAL_SUMMARY = Task("social_summary", Summary, max_tokens=200)
RELATIONSHIP_UPDATE = Task("relationship_update", TieUpdate, max_tokens=220)

# ---------------------------------------------------------------------- savings (MindConfig switches)
EVENT_RATINGS = Task("event_ratings", Ratings, max_tokens=350, hint="items")
THOUGHT_NOTES = Task("thought_notes", ThoughtNotes, max_tokens=500, hint="items")
CHAT_THOUGHTS = Task("chat_thoughts", ChatThoughts, max_tokens=280)
INSIGHTS_ALL = Task("insights_all", RatedInsights, max_tokens=1050, temperature=0.3)


# ---------------------------------------------------------------------- interviews and whispers (aga.interview)
class InterviewAnswer(_Answer):
    """An interview answer: the memory it rests on (copied, or "nothing"), then the answer."""

    recalled: Text
    answer: Text


class InterviewMemory(_Answer):
    """How a remembered interview is kept: "<name> is <summary>" and its importance."""

    summary: Short
    importance: Rating


class WhisperThought(_Answer):
    """What a resident was told, as their own first-person thought."""

    thought: Text


INTERVIEW_ANSWER = Task("interview_answer", InterviewAnswer, max_tokens=270, temperature=0.0)
INTERVIEW_MEMORY = Task("interview_memory", InterviewMemory, max_tokens=60)
WHISPER_THOUGHT = Task("whisper_thought", WhisperThought, max_tokens=140)
WHISPER_IMPORTANCE = Task("whisper_importance", Importance, max_tokens=12)


# ---------------------------------------------------------------------- evaluation (aga eval --judge)
class Judgement(_Answer):
    """A believability score of one line (1 broken .. 5 natural and specific) and why."""

    score: Literal[1, 2, 3, 4, 5]
    reason: Short


JUDGE_BELIEVABILITY = Task("judge_believability", Judgement, max_tokens=80)

ALL_TASKS: tuple[Task, ...] = (
    WAKE_UP_HOUR, DAILY_PLAN, TASK_DECOMP, NEW_DAY_REVIEW, NEW_DAY_REVISION, SCHEDULE_REWRITE,
    ACTION_SECTOR, ACTION_ARENA, ACTION_OBJECT, ACTION_EMOJI, EVENT_TRIPLE, OBJECT_STATE,
    OBJECT_EMOJI, OBJECT_EVENT_TRIPLE, EVENT_IMPORTANCE, THOUGHT_IMPORTANCE, CHAT_IMPORTANCE,
    DECIDE_TO_TALK, DECIDE_TO_REACT, RELATIONSHIP_SUMMARY, CONVERSATION_TURN, CONVERSATION_SUMMARY,
    FOCAL_POINTS, INSIGHTS, CHAT_PLANNING_NOTE, CHAT_MEMO,
    ACTION_DETAILS, ACTION_LOOK, MIND_WANDERING, HOURLY_SCHEDULE,
    SOCIAL_SUMMARY, RELATIONSHIP_UPDATE, EVENT_RATINGS, THOUGHT_NOTES, CHAT_THOUGHTS, INSIGHTS_ALL,
    INTERVIEW_ANSWER, INTERVIEW_MEMORY, WHISPER_THOUGHT, WHISPER_IMPORTANCE,
    JUDGE_BELIEVABILITY,
)  # fmt: skip
"""Every task of the minds, in a stable order."""

TASKS_BY_NAME: dict[str, Task] = {t.name: t for t in ALL_TASKS}
