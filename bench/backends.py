"""Speed of the embedded backends: seconds per call and tokens/s by kind of request, cold vs warm.

Run: ``.venv/bin/python bench/backends.py [--profiles default,fast] [--skip-order]``

For each profile and kind of request (rating, hour, list, choice, free text, a conversation
utterance) it makes a *cold* call (KV cache cleared first) and then a *warm* call (same
instructions and persona, a different last input, right after the cold one), and prints them
side by side. For the default profile it then compares the lazy grammar check with
llama-cpp-python's full pass, and the worker's prefix-aware ordering with plain first-come order
on an interleaved queue of two tasks, and (side by side) our constrained calls with
llama-cpp-python's plain completion of the same prompts: cold prompt seconds and generation
tokens/s. Last, embeddings/s of the MiniLM embedder one text per
call against batches. The load average is printed: the machine is shared, and timings under
load are not comparable with idle ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from aga.gateway.backends import embedded
from aga.gateway.backends.embedded import EmbeddedBackend
from aga.gateway.backends.onnx_embedder import MiniLMEmbedder
from aga.gateway.task import CHOICE_FORMAT, answer_format
from aga.gateway.types import LLMRequest, LLMResponse, choice_schema

PERSONA = (
    "Resident: Isabella Rodriguez, 34, runs Hobbs Cafe in the Ville. She is warm, talkative and "
    "organised, gets up early to bake, and loves bringing neighbours together. This month she is "
    "planning a Valentine's Day party at the cafe on February 14, from 5 pm to 7 pm, and she is "
    "inviting every regular she meets. She lives alone in a small flat above the cafe, keeps a "
    "vegetable patch, and reads mystery novels before bed. Her closest friends are Maria Lopez, a "
    "student who studies at the cafe, and Klaus Mueller, who is writing a paper on gentrification."
)
RULES = (
    "You voice one resident of a small simulated town. Stay in character, be brief and concrete, "
    "and reply with a single JSON object that fits the requested shape, with no other text."
)


class Rating(BaseModel):
    rating: Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


class Hour(BaseModel):
    hour: Literal[4, 5, 6, 7, 8, 9, 10, 11]


class Steps(BaseModel):
    steps: list[Annotated[str, Field(max_length=40)]] = Field(min_length=3, max_length=6)


class Doing(BaseModel):
    doing: str = Field(max_length=60)


class Utterance(BaseModel):
    says: str = Field(max_length=160)
    ends_chat: bool


PLACES = (
    "Hobbs Cafe",
    "Oak Hill College",
    "Harvey Oak Supply Store",
    "Johnson Park",
    "The Rose and Crown Pub",
)

# kind -> (instructions, (cold input, warm input), schema, choices, max_tokens)
KINDS: dict[str, tuple[str, tuple[str, str], type[BaseModel] | None, tuple[str, ...] | None, int]] = {
    "rating": (
        "Rate how much this memory matters to her, 1 = trivial, 10 = life-changing.",
        ("Memory: she wiped the counter.", "Memory: her landlord says the cafe must close."),
        Rating,
        None,
        8,
    ),
    "hour": (
        "Give the hour (24-hour clock) she gets up tomorrow.",
        ("Tomorrow is a normal weekday.", "Tomorrow is the day of her party."),
        Hour,
        None,
        8,
    ),
    "list": (
        "Break the activity into 3 to 6 short steps, in order.",
        ("Activity: opening the cafe (7:00-8:00).", "Activity: decorating for the party (15:00-17:00)."),
        Steps,
        None,
        80,
    ),
    "choice": (
        "Choose the place she goes for the activity.",
        ("Activity: buying party supplies.", "Activity: a walk to clear her head."),
        None,
        PLACES,
        16,
    ),
    "free text": (
        "Say in a few words what she is doing now.",
        ("Time: 07:30, at the cafe counter.", "Time: 22:10, in her flat."),
        Doing,
        None,
        24,
    ),
    "utterance": (
        "Write her next line in the conversation and say whether she ends it.",
        ("Klaus: Morning! The usual, please.", "Maria: Isabella, do you need help with the party?"),
        Utterance,
        None,
        60,
    ),
}


def request(kind: str, which: int, tag: str = "") -> LLMRequest:
    """The ``which``-th input (0 cold, 1 warm) of ``kind``; ``tag`` makes the prompt's start new."""
    instructions, inputs, schema, choices, max_tokens = KINDS[kind]
    fmt = CHOICE_FORMAT if choices else answer_format(schema.model_json_schema()) if schema else ""
    system = f"{tag}{RULES}\n\nTask: {instructions}\n\n{fmt}\n\n{PERSONA}"
    user = inputs[which] + (f"\nPlaces: {', '.join(choices)}" if choices else "")
    json_schema = choice_schema(choices) if choices else schema.model_json_schema() if schema else None
    return LLMRequest(kind.replace(" ", "_"), system, user, json_schema, choices, max_tokens, 0.0)


def timed(backend: EmbeddedBackend, req: LLMRequest) -> tuple[float, LLMResponse]:
    start = time.perf_counter()
    out = backend.complete_sync(req)
    return time.perf_counter() - start, out


def cpu_timed(backend: EmbeddedBackend, req: LLMRequest) -> tuple[float, float, LLMResponse]:
    """Wall seconds, CPU seconds of the whole process (the model's thread included) and the answer."""
    cpu = time.process_time()
    wall, out = timed(backend, req)
    return wall, time.process_time() - cpu, out


def rss_gb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1e6
    return 0.0


def bench_profile(profile: str) -> EmbeddedBackend:
    backend = EmbeddedBackend(profile)
    start = time.perf_counter()
    backend.complete_sync(request("rating", 0, tag="Warm-up. "))  # loads the model
    print(
        f"\n== profile {profile}: {backend.model}  (load + first call {time.perf_counter() - start:.1f} s, "
        f"RSS {rss_gb():.2f} GB, {backend.n_threads} threads, load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"{'kind':<10} {'prompt tok':>10} {'gen tok':>8} | {'cold s':>7} {'warm s':>7} {'warm/cold':>9} | "
        f"{'cold gen tok/s':>14} {'warm gen tok/s':>14} | warm answer"
    )
    for kind in KINDS:
        backend.clear_prefix_cache()
        cold_s, cold = timed(backend, request(kind, 0))
        warm_s, warm = timed(backend, request(kind, 1))
        print(
            f"{kind:<10} {cold.prompt_tokens:>10} {cold.completion_tokens:>3}/{warm.completion_tokens:<4} | "
            f"{cold_s:>7.2f} {warm_s:>7.2f} {warm_s / cold_s:>9.2f} | "
            f"{cold.completion_tokens / cold_s:>14.1f} {warm.completion_tokens / warm_s:>14.1f} | {warm.text[:70]}"
        )
    return backend


def bench_constrained_vs_plain(backend: EmbeddedBackend) -> None:
    """Our constrained calls against llama-cpp-python's plain completion of the same prompt.

    Cold: the KV cache cleared, the whole prompt evaluated and the first token (ours: under the
    grammar) — the prompt's cost. Warm: the same prompt again (its prefix cached), generating as
    many tokens as our answer had, plain without any grammar. Goals: constrained generation at
    least 80 % of plain tokens/s, cold prompts within 10 %.
    """
    worker = backend._worker
    assert worker is not None
    llama = worker.llama
    print(
        f"\n== constrained (ours) vs plain llama-cpp-python completion, same prompts ({backend.model}, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print(
        "wall: seconds as measured; cpu: the process's CPU seconds (the same work, whatever else "
        "the machine runs: read these when the load average is above the core count)"
    )
    print(
        f"{'kind':<10} {'prompt tok':>10} | {'cold ours':>9} {'cold plain':>10} {'ratio':>6} {'cpu ratio':>9} | "
        f"{'gen tok':>7} {'ours tok/s':>10} {'plain tok/s':>11} {'ours/plain':>10} {'cpu ours/plain':>14}"
    )
    sums = {"cold": [0.0, 0.0], "gen": [0.0, 0.0]}
    for kind in KINDS:
        req = request(kind, 1, tag=f"Plain {time.time_ns() % 10**6}. ")
        one = LLMRequest(req.task, req.system, req.user, req.json_schema, req.choices, 1, 0.0)
        backend.clear_prefix_cache()
        cold_ours, cold_ours_cpu, _ = cpu_timed(backend, one)
        warm_s, warm_cpu, ours = cpu_timed(backend, req)  # prefix cached by the cold call
        prompt = worker.formatter(
            messages=[{"role": "system", "content": req.system}, {"role": "user", "content": req.user}]
        ).prompt
        with worker.lock:
            llama.n_tokens = 0
            cpu, start = time.process_time(), time.perf_counter()
            llama.create_completion(prompt, max_tokens=1, temperature=0.0)
            cold_plain, cold_plain_cpu = time.perf_counter() - start, time.process_time() - cpu
            cpu, start = time.process_time(), time.perf_counter()
            plain = llama.create_completion(
                prompt, max_tokens=max(1, ours.completion_tokens), temperature=0.0
            )
            plain_s, plain_cpu = time.perf_counter() - start, time.process_time() - cpu
        n_plain = plain["usage"]["completion_tokens"]
        ours_rate, plain_rate = ours.completion_tokens / warm_s, n_plain / plain_s
        cpu_rate = (ours.completion_tokens / warm_cpu) / (n_plain / plain_cpu)
        sums["cold"][0] += cold_ours_cpu
        sums["cold"][1] += cold_plain_cpu
        sums["gen"][0] += warm_cpu / max(1, ours.completion_tokens)
        sums["gen"][1] += plain_cpu / max(1, n_plain)
        print(
            f"{kind:<10} {ours.prompt_tokens:>10} | {cold_ours:>9.2f} {cold_plain:>10.2f} "
            f"{cold_ours / cold_plain:>6.2f} {cold_ours_cpu / cold_plain_cpu:>9.2f} | "
            f"{ours.completion_tokens:>7} {ours_rate:>10.1f} {plain_rate:>11.1f} {ours_rate / plain_rate:>10.2f} "
            f"{cpu_rate:>14.2f}"
        )
    print(
        f"all kinds (cpu): cold prompts ours/plain {sums['cold'][0] / sums['cold'][1]:.2f} (goal at most 1.10); "
        f"generation speed ours/plain {sums['gen'][1] / sums['gen'][0]:.2f} (goal at least 0.80)"
    )


def bench_grammar_check(backend: EmbeddedBackend) -> None:
    """The lazy grammar check against llama-cpp-python's full pass over the vocabulary, same prompts."""
    full = EmbeddedBackend(backend.profile, lazy_grammar=False)
    print(f"\n== grammar check ({backend.model}, warm prefix): lazy vs full pass over the vocabulary")
    print(f"{'kind':<10} {'gen tok':>7} | {'lazy s':>7} {'full s':>7} {'lazy/full':>9} | same answer")
    for kind in ("rating", "list", "utterance"):
        times, texts, tokens = [], [], 0
        for each in (backend, full):
            each.clear_prefix_cache()
            each.complete_sync(request(kind, 0))  # the shared prefix is now in the KV cache
            seconds, out = timed(each, request(kind, 1))
            times.append(seconds)
            texts.append(out.text)
            tokens = out.completion_tokens
        print(
            f"{kind:<10} {tokens:>7} | {times[0]:>7.2f} {times[1]:>7.2f} {times[0] / times[1]:>9.2f} | "
            f"{texts[0] == texts[1]}"
        )


async def run_queue(backend: EmbeddedBackend, reqs: list[LLMRequest]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(backend.complete(r) for r in reqs))
    return time.perf_counter() - start


def bench_order(backend: EmbeddedBackend, round_no: int) -> None:
    """Interleaved calls of two tasks: first-come order against the prefix-aware order."""

    def queue(tag: str) -> list[LLMRequest]:
        out = []
        for i in range(3):
            for kind in ("rating", "free text"):
                base = request(kind, i % 2, tag=f"Order {tag}-{kind}. ")
                out.append(
                    LLMRequest(
                        base.task,
                        base.system,
                        f"{base.user} (case {i})",
                        base.json_schema,
                        base.choices,
                        base.max_tokens,
                        0.0,
                    )
                )
        return out

    saved = embedded.MAX_SKIPS
    try:
        embedded.MAX_SKIPS = 0  # every job is "starved": plain arrival order
        fifo = asyncio.run(run_queue(backend, queue(f"{round_no}a")))
        embedded.MAX_SKIPS = saved
        aware = asyncio.run(run_queue(backend, queue(f"{round_no}b")))
    finally:
        embedded.MAX_SKIPS = saved
    print(
        f"\n== order of 6 interleaved calls (2 tasks x 3, {backend.model}): first-come {fifo:.2f} s, "
        f"prefix-aware {aware:.2f} s, ratio {aware / fifo:.2f}"
    )


def bench_embeddings() -> None:
    embedder = MiniLMEmbedder()
    texts = [
        f"{who} is {what} at {where}"
        for who in ("Isabella", "Klaus", "Maria", "Tom")
        for what in ("reading", "cooking dinner", "talking about the party", "walking")
        for where in ("the cafe", "the park", "home", "the college")
    ]
    embedder.embed_sync(texts[:2])  # load
    start = time.perf_counter()
    for text in texts:
        embedder.embed_sync([text])
    single = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    embedder.embed_sync(texts)
    batch = len(texts) / (time.perf_counter() - start)
    print(
        f"\n== embeddings ({embedder.model}, {len(texts)} texts, batch {embedder.batch_size}): "
        f"single {single:.0f}/s, batched {batch:.0f}/s, ratio {batch / single:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="default,fast")
    parser.add_argument("--skip-order", action="store_true", help="skip the ordering comparison")
    parser.add_argument(
        "--constrained-only",
        action="store_true",
        help="only the constrained-vs-plain table of the default profile (a few minutes)",
    )
    args = parser.parse_args()
    if args.constrained_only:
        backend = EmbeddedBackend("default")
        backend.complete_sync(request("rating", 0, tag="Warm-up. "))  # loads the model
        print(f"{backend.model}, {backend.n_threads} threads, load average {os.getloadavg()[0]:.1f}")
        bench_constrained_vs_plain(backend)
        return
    round_no = time.time_ns() % 1_000_000  # fresh tags: nothing reused from an earlier run
    for profile in args.profiles.split(","):
        backend = bench_profile(profile.strip())
        if profile.strip() == "default":
            bench_constrained_vs_plain(backend)
            bench_grammar_check(backend)
            if not args.skip_order:
                bench_order(backend, round_no)
    bench_embeddings()


if __name__ == "__main__":
    main()
