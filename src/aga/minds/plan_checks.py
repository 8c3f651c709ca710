"""Reading and checking the model's day plan: what a plan item says, whether a plan is wrong in
a way the schema cannot say (a bare clock time, no bed, bed at midday, a missing or repeated
meal), and how a plan the re-asks could not mend is kept (:func:`salvage_plan`). Used by
:mod:`aga.minds.plan`."""

from __future__ import annotations

import re

from aga.minds.text import activity_phrase
from aga.prompts.tasks import TASK_DECOMP, DailyPlan, PlanItem


def _item(activity: str, hour: int) -> PlanItem:
    return PlanItem.model_validate({"activity": activity, "hour": hour})


_EATING = re.compile(r"\b(?:eat|eats|eating)\b", re.IGNORECASE)


def named_meal(text: str, hour: int) -> str:
    """An item that eats without naming the meal, named by its hour: Klaus's "eats at Hobbs
    Cafe" at 12 is "having lunch at Hobbs Cafe" (the meal check asked three times for a lunch he
    had planned, and his day was salvaged from a broken plan). Breakfast up to 10, lunch 11-15,
    dinner 16-22; any other hour, or a text naming a meal, is left as it is."""
    if not _EATING.search(text) or _ANY_MEAL_WORD.search(text):
        return text
    meal = (
        "breakfast"
        if 5 <= hour <= 10
        else "lunch"
        if 11 <= hour <= 15
        else "dinner"
        if 16 <= hour <= 22
        else ""
    )
    return _EATING.sub(f"having {meal}", text, count=1) if meal else text


_ANY_MEAL_WORD = re.compile(r"\b(?:breakfast|brunch|lunch|dinner|supper|meal|snack)\b", re.IGNORECASE)


def tidy_plan(answer: DailyPlan, wake: int) -> DailyPlan:
    """The model's plan read as it was meant, before it is checked: one item per hour (the items
    a small model gives the same hour are joined: "get up", "brush teeth", "eat breakfast" at 6
    become one item, not the first of them alone), and going to bed at 7-11 after the wake-up
    hour taken as the evening (a 12-hour clock: "go to bed" at 11 is 23:00)."""
    by_hour: dict[int, list[str]] = {}
    bare: dict[int, PlanItem] = {}  # a bare clock time, left for the check to refuse
    beds: list[PlanItem] = []  # going to bed is never joined to another item: a check may refuse it
    for item in answer.items:
        hour = int(item.hour)
        text = named_meal(clean_activity(item.activity), hour)
        if not text:
            bare.setdefault(hour, item)
            continue
        if _BEDTIME.search(text):
            if wake < hour <= 11 and hour + 12 >= 19:
                hour = min(hour + 12, 23)
            beds.append(_item(text, hour))
            continue
        texts = by_hour.setdefault(hour, [])
        if text not in texts:
            texts.append(text)
    items = [item for hour, item in bare.items() if hour not in by_hour]
    for hour, texts in by_hour.items():
        while len(texts) > 1 and len(", ".join(texts)) > 150:  # an item's text stays short
            texts.pop()
        joined = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]
        items.append(_item(joined, hour))
    items.extend(beds)
    return DailyPlan(items=sorted(items, key=lambda i: int(i.hour)))


def salvage_plan(answer: DailyPlan, wake: int) -> DailyPlan | None:
    """A plan the model kept getting wrong in a checkable way, without the refused items (bare
    clock times, bed in the middle of the day, a meal had again later); the day then ends with
    sleep at the lifestyle's bed hour (``build_day``), and the meals it lacks at their usual
    hours. None when fewer than two items are left."""
    kept = [
        item
        for item in answer.items
        if clean_activity(item.activity)
        and not (_BEDTIME.search(item.activity) and wake < int(item.hour) < 19)
    ]
    firsts = {meal: hours[0] for meal, hours in meal_hours(DailyPlan(items=kept)).items()}
    kept = [item for item in kept if not _a_meal_again(item, firsts)]
    return DailyPlan(items=with_meals(kept, wake)) if len(kept) >= 2 else None


def fullest_plan(plans: list[DailyPlan], wake: int) -> DailyPlan:
    """Of the plans a model wrote for one day (each refused), the one to salvage: the one that
    covers the most waking hours, the latest of equals (it may have mended some of what was
    wrong). Maria's third plan on the embedded
    model began at 14:00, her first covered 10-21; salvaging the last left her "waking up" for
    209 minutes."""

    def hours(plan: DailyPlan) -> int:
        return len({int(i.hour) for i in tidy_plan(plan, wake).items if int(i.hour) >= wake})

    return max(reversed(plans), key=hours)


def _a_meal_again(item: PlanItem, firsts: dict[str, int]) -> bool:
    """Whether the item is a meal already had earlier in the day (Maria's second and third lunch)."""
    meals = [m for m, rx in _MEALS.items() if rx.search(item.activity)]
    return bool(meals) and all(firsts.get(m, int(item.hour)) < int(item.hour) for m in meals)


MEAL_HOURS = {"lunch": 12, "dinner": 18}
"""Where a salvaged plan gets a meal the model kept leaving out; breakfast goes in the hour after
waking."""
MEAL_ACTIVITIES = {"breakfast": "having breakfast", "lunch": "having lunch", "dinner": "having dinner"}


def with_meals(items: list[PlanItem], wake: int) -> list[PlanItem]:
    """A salvaged plan with the meals it still lacks at their usual hours (as ``build_day`` adds
    the night's sleep); the item a meal displaces carries on an hour later when that hour is free.
    Only for a plan the re-asks could not mend: a plan the model got right is taken as it is."""
    missing = missing_meals(DailyPlan(items=items), wake)
    by_hour: dict[int, str] = {}
    for item in items:
        by_hour.setdefault(int(item.hour), item.activity)
    for meal in missing:
        hour = MEAL_HOURS.get(meal, wake + 1)
        if hour > 23:
            continue
        displaced = by_hour.get(hour)
        by_hour[hour] = MEAL_ACTIVITIES[meal]
        if displaced and not _BEDTIME.search(displaced) and hour + 1 <= 23:
            by_hour.setdefault(hour + 1, displaced)
    return [_item(a, h) for h, a in sorted(by_hour.items())]


_CLOCK_TIME = re.compile(
    r"\(?\b(?:at|from|until|till|to|around|by)?\s*\d{1,2}(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.|o'clock)"
    r"|\(?\b(?:at|from|until|till|to|around|by)?\s*\d{1,2}:\d\d\b\)?"
    r"|\b(?:at|around|by)\s+\d{1,2}\s*$",
    re.IGNORECASE,
)
_FILLER = re.compile(r"\b(at|from|until|till|to|around|by|and|the|a|an|then)\b|[^a-z]", re.IGNORECASE)
_BEDTIME = re.compile(
    r"\b(go(?:es|ing)? to (?:bed|sleep)|sleep|sleeping|asleep|bed ?time|in bed)\b", re.IGNORECASE
)


def clean_activity(text: str) -> str:
    """A plan item's text without the clock times small models add, as it reads after "X is"
    ("Lunch at 2:00" -> "having lunch"); empty when nothing but times was written."""
    cleaned = _CLOCK_TIME.sub(" ", text)
    cleaned = " ".join(cleaned.replace("()", " ").split()).strip(" ,.;:-()")
    cleaned = re.sub(r"\s+(at|from|until|till|to|around|by)$", "", cleaned, flags=re.IGNORECASE)
    return activity_phrase(cleaned) if _FILLER.sub("", cleaned) else ""


def plan_problem(answer: DailyPlan, wake: int, first_name: str, written: int = 0) -> str | None:
    """Why a day's plan is wrong in a way the schema cannot say (an item that is only a clock
    time, no going to bed, going to bed in the middle of the day), or None when it is fine.
    ``written``: how many items the model wrote (``answer`` may have joined those of one hour)."""
    for item in answer.items:
        if not clean_activity(item.activity):
            return (
                f"the item '{item.activity}' is only a clock time; write what {first_name} does then "
                "and keep the other items"
            )
    sleeps = [item for item in answer.items if _BEDTIME.search(item.activity)]
    for item in sleeps:
        if wake < int(item.hour) < 19:
            return (
                f"'{item.activity}' at hour {item.hour} is in the middle of the day; {first_name} goes "
                "to bed in the evening (hours are on the 24-hour clock: 22 is 10 pm); keep the other items"
            )
    keep = _keep(max(written, len(answer.items)))
    if not sleeps:
        return f"the plan does not end with going to bed; {keep} and add going to bed at {first_name}'s usual hour"
    missing = missing_meals(answer, wake)
    if missing:
        return f"the plan has no {' or '.join(missing)}; {keep} and add {' and '.join(MEAL_ITEMS[m] for m in missing)}"
    for meal, hours in meal_hours(answer).items():
        if len(hours) > 1:
            return (
                f"the plan has {meal} {len(hours)} times (at {', '.join(map(str, hours))}); {first_name} "
                f"has {meal} once: keep the first and write what {first_name} really does at the others"
            )
    return None


LONG_PLAN = 12
"""Items a plan may have and still be told to keep them all when something is missing: Maria's
first plan had 16 items, as many as its schema admits, no bed, and came back unchanged when told
to keep every item and add one."""


def _keep(written: int) -> str:
    if written <= LONG_PLAN:
        return "keep every item"
    return f"join the small items so that the plan has at most {LONG_PLAN - 2} in all"


def meal_hours(answer: DailyPlan) -> dict[str, list[int]]:
    """The hours at which each meal is planned ("brunch" counts as breakfast only here)."""
    found: dict[str, list[int]] = {}
    for item in answer.items:
        for meal, rx in _MEALS.items():
            if rx.search(item.activity) and not (meal == "lunch" and "brunch" in item.activity.lower()):
                found.setdefault(meal, []).append(int(item.hour))
    return found


_MEALS = {
    "breakfast": re.compile(r"\b(breakfast|brunch)\b", re.IGNORECASE),
    "lunch": re.compile(r"\b(lunch|brunch)\b", re.IGNORECASE),
    "dinner": re.compile(r"\b(dinner|supper)\b", re.IGNORECASE),
}
MEAL_ITEMS = {
    "breakfast": "the item 'having breakfast' an hour after waking",
    "lunch": "the item 'having lunch' at hour 12",
    "dinner": "the item 'having dinner' at hour 18 or 19",
}
"""How a re-ask names a missing meal: the activity in quotes and its hour apart (asked for
"having lunch at about 12", the 1.5B model wrote that whole phrase as the activity)."""


def missing_meals(answer: DailyPlan, wake: int) -> list[str]:
    """The day's meals a plan leaves out (breakfast only for someone up by 10, lunch by 13)."""
    text = " ".join(item.activity for item in answer.items)
    due = {"breakfast": wake <= 10, "lunch": wake <= 13, "dinner": True}
    return [m for m, rx in _MEALS.items() if due[m] and not rx.search(text)]


def _example_steps() -> tuple[str, frozenset[str]]:
    """The worked example of the ``task_decomp`` prompt: its activity and its steps, read from
    the template (so the check follows the prompt's wording)."""
    text = TASK_DECOMP.template_path.read_text(encoding="utf-8")
    line = next((ln for ln in text.splitlines() if ln.startswith("Example:")), "")
    activity = re.search(r'"([^"]+)"', line)
    steps = re.findall(r"(?::|,)\s+([a-z][a-z ']+?)\s+\(\d+\)", ":" + line.partition("steps:")[2])
    return (activity.group(1) if activity else ""), frozenset(s.strip().lower() for s in steps)


EXAMPLE_ACTIVITY, EXAMPLE_STEPS = _example_steps()


def example_copies(steps: list[str], task: str) -> list[str]:
    """The steps copied from the prompt's worked example (Maria's "preparing for physics exam"
    came back as "mixing the dough" and "shaping the loaves"), unless the task is the example's
    own kind of work."""
    if any(w in task.lower() for w in EXAMPLE_ACTIVITY.lower().split()[-1:]):
        return []
    return [s for s in steps if " ".join(s.lower().split()).strip(" .") in EXAMPLE_STEPS]
