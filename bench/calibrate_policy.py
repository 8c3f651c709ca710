"""Calibrate the Lifestyle Policy's reuse threshold per embedding model.

Run: .venv/bin/python bench/calibrate_policy.py [--grid 0.01] [--pairs]

A labelled set of activity pairs (written for aga): ``match`` pairs are the same activity in
other words (pronouns, articles, inflection, a place named two ways), whose stored decomposition
can be reused as is; ``no`` pairs are near-misses (one content word differs, or AGA's own
"heading home" / "commuting back home", which it kept apart at 0.96 with ada-002) and different
activities at the same place. For each available embedder the script prints the similarity of
every pair, the distributions, and the threshold that keeps precision at its best (no false
reuse) and then recall; the middle of the best range is taken, for margin on both sides.
The matcher being calibrated is the policy's: texts equal after ``aga.policy.normalise`` (case,
punctuation, articles, possessive determiners) match outright, the rest by cosine; recall is
printed for both that matcher and cosine alone.
The chosen values are copied by hand into src/aga/policy/thresholds.py (see docs/policy.md).
It also prints a clustering radius for Mind Wandering (1 - the median similarity of the match
pairs: memories closer than a typical paraphrase count as one topic), kept in
src/aga/minds/wandering.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

from aga.minds.wandering import eps_for
from aga.policy import normalise
from aga.policy.thresholds import THRESHOLDS, calibrate, threshold_for
from aga.testing.hash_embedder import HashEmbedder

MATCH: list[tuple[str, str]] = [
    ("having breakfast and checking her emails", "having breakfast and checking emails"),
    ("showering and getting dressed", "showering and getting dressed for the day"),
    ("opening Hobbs Cafe for the day", "opening up Hobbs Cafe for the day"),
    ("working on her painting", "working on his painting"),
    ("eating lunch at Hobbs Cafe", "eating lunch at the Hobbs Cafe"),
    ("reading a book in the living room", "reading a book in her living room"),
    ("preparing breakfast for the family", "preparing breakfast for her family"),
    ("working on his research paper at the library", "working on the research paper at the library"),
    ("going for a walk in the park", "going for a walk around the park"),
    ("wake up and complete the morning routine", "waking up and completing the morning routine"),
    ("brushing her teeth and washing her face", "brushing teeth and washing face"),
    ("checking the inventory of the store", "checking the store's inventory"),
    ("serving customers at the counter", "serving the customers at the counter"),
    ("writing poems in his notebook", "writing poems in her notebook"),
    ("attending her chemistry class", "attending chemistry class"),
    ("getting ready for bed", "getting ready for bed."),
    ("cooking dinner in the kitchen", "cooking dinner in her kitchen"),
    ("studying for the upcoming exam", "studying for her upcoming exam"),
    (
        "decorating Hobbs Cafe for the Valentine's Day party",
        "decorating the cafe for the Valentine's Day party",
    ),
    ("playing guitar and composing music", "playing the guitar and composing music"),
]
"""Pairs whose decomposition may be reused for each other."""

NO_MATCH: list[tuple[str, str]] = [
    # near-misses: one content word differs, or a rewording AGA kept apart
    ("heading home", "commuting back home"),
    ("having lunch at the cafe", "having dinner at the cafe"),
    ("opening Hobbs Cafe", "closing Hobbs Cafe"),
    ("working on her painting", "working on her novel"),
    ("studying for her chemistry exam", "studying for her history exam"),
    ("preparing breakfast", "preparing dinner"),
    ("going for a walk in the park", "going for a run in the park"),
    ("teaching a piano lesson", "taking a piano lesson"),
    ("waking up and completing the morning routine", "winding down and completing the evening routine"),
    ("writing a research paper on gentrification", "reading a research paper on gentrification"),
    ("buying groceries at the supermarket", "stocking shelves at the supermarket"),
    ("cleaning the kitchen", "cleaning the bathroom"),
    # different activities at the same place
    ("serving customers at Hobbs Cafe", "cleaning the tables at Hobbs Cafe"),
    ("brewing coffee at the cafe counter", "chatting with regulars at the cafe counter"),
    ("planning the Valentine's Day party at the cafe", "having lunch at the cafe"),
    ("checking out books at the library", "working on her thesis at the library"),
    ("drinking a beer at the pub", "playing darts at the pub"),
    ("doing homework at the college", "attending a lecture at the college"),
    ("taking a nap in bed", "reading a book in bed"),
    ("watering the plants in the garden", "reading a book in the garden"),
    ("practicing guitar in his room", "doing homework in his room"),
    ("grocery shopping at Willows Market", "working a shift at Willows Market"),
]
"""Pairs that must not share a decomposition."""

AGA_ADA_002 = [  # AGA paper, Table 5 (text-embedding-ada-002); reference figures, not recomputed here
    ("having breakfast and checking her emails / ... checking emails", 0.99, True),
    ("heading home / commuting back home", 0.96, False),
    ("three clearly different cafe activities", 0.94, False),
]


def _embedders() -> list[tuple[str, Callable[[Sequence[str]], np.ndarray]]]:
    found: list[tuple[str, Callable[[Sequence[str]], np.ndarray]]] = []
    try:
        from aga.gateway.backends.onnx_embedder import MiniLMEmbedder
    except ImportError as err:
        print(f"note: MiniLM embedder not importable ({err}); skipped")
    else:
        minilm = MiniLMEmbedder()
        try:
            minilm.embed_sync(["probe"])
        except Exception as err:  # noqa: BLE001 - a bench script: report and go on with the others
            print(f"note: MiniLM embedder unavailable ({err}); skipped")
        else:
            found.append((minilm.model, minilm.embed_sync))
    hashed = HashEmbedder()
    found.append((hashed.model, hashed.embed_sync))
    return found


def _similarities(embed: Callable[[Sequence[str]], np.ndarray], pairs: list[tuple[str, str]]) -> list[float]:
    left = embed([a for a, _ in pairs])
    right = embed([b for _, b in pairs])
    return [float(x) for x in np.sum(left * right, axis=1)]


def _spread(values: list[float]) -> str:
    return f"min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}"


def lookup_speed(n_keys: int = 2000, n_lookups: int = 500) -> None:
    """Print lookups per second against a store of ``n_keys`` plans (hash vectors, one agent)."""
    import tempfile
    from pathlib import Path

    from aga.policy import LifestylePolicy, PublicStore

    embedder = HashEmbedder()
    texts = [f"working on project number {i} at the office" for i in range(n_keys)]
    vectors = embedder.embed_sync(texts)
    with tempfile.TemporaryDirectory() as tmp:
        store = PublicStore.in_storage(Path(tmp))
        policy = LifestylePolicy(store, sim="bench", embed_model=embedder.model)
        t0 = time.perf_counter()
        for text, vec in zip(texts, vectors):
            policy.add_plan("Bench Agent", text, 60, [("start", 10), ("work", 40), ("wrap up", 10)], vec, 0)
        t_add = time.perf_counter() - t0
        queries = embedder.embed_sync([f"working on project {i} at the office" for i in range(n_lookups)])
        t0 = time.perf_counter()
        policy.find_plan("Bench Agent", "a first query", 60, queries[0], 1)  # loads the vector index
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(n_lookups):
            policy.find_plan("Bench Agent", texts[i], 45, vectors[i], 1)
        t_exact = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(n_lookups):
            policy.find_plan("Bench Agent", f"working on project {i} at the office", 45, queries[i], 1)
        t_similar = time.perf_counter() - t0
        store.close()
    print(f"\nlookup speed, {n_keys} stored plans (hash vectors, dim {embedder.dim}):")
    print(f"   add_plan            {n_keys / t_add:>9,.0f} /s   (each committed at once)")
    print(f"   first lookup        {t_load * 1000:>9.1f} ms (loads the vector index)")
    print(
        f"   exact find_plan     {n_lookups / t_exact:>9,.0f} /s   ({t_exact / n_lookups * 1000:.2f} ms each)"
    )
    print(
        f"   similar find_plan   {n_lookups / t_similar:>9,.0f} /s   ({t_similar / n_lookups * 1000:.2f} ms each)"
    )
    print(f"   exact / similar     {t_similar / t_exact:>9.2f} x faster")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--grid", type=float, default=0.01, help="threshold step")
    parser.add_argument("--pairs", action="store_true", help="print every pair's similarity")
    parser.add_argument("--no-speed", action="store_true", help="skip the lookup-speed figures")
    args = parser.parse_args()
    pairs = MATCH + NO_MATCH
    labels = [True] * len(MATCH) + [False] * len(NO_MATCH)
    print(f"{len(MATCH)} match pairs, {len(NO_MATCH)} no-match pairs")
    print("reference, AGA paper (ada-002, threshold 0.97):")
    for text, score, match in AGA_ADA_002:
        print(f"    {score:.2f}  {'match' if match else 'no   '}  {text}")
    summary: list[tuple[str, float, float, float, float, float, float, float]] = []
    for model, embed in _embedders():
        t0 = time.perf_counter()
        scores = _similarities(embed, pairs)
        seconds = time.perf_counter() - t0
        pos = [s for s, lab in zip(scores, labels) if lab]
        neg = [s for s, lab in zip(scores, labels) if not lab]
        same = [normalise(a) == normalise(b) for a, b in pairs]
        combined = [1.0 if eq else s for s, eq in zip(scores, same)]
        threshold, precision, recall = calibrate(combined, labels, grid=args.grid)
        cos_recall = sum(s >= threshold for s in pos) / len(pos)
        print(f"\n== {model}  ({2 * len(pairs)} texts embedded in {seconds:.2f} s)")
        print(f"   match pairs:    {_spread(pos)}")
        print(f"   no-match pairs: {_spread(neg)}")
        worst = sorted(zip(scores, labels, pairs), key=lambda x: -x[0])
        print("   closest no-match pairs:")
        for s, _lab, (a, b) in [w for w in worst if not w[1]][:3]:
            print(f"      {s:.3f}  {a!r} / {b!r}")
        print("   match pairs below the chosen threshold (= : equal after normalise, matched anyway):")
        for s, _lab, (a, b) in [w for w in worst if w[1] and w[0] < threshold] or [(None, None, ("-", "-"))]:
            mark = "=" if s is not None and normalise(a) == normalise(b) else " "
            print(f"      {'' if s is None else f'{s:.3f}'} {mark} {a!r} / {b!r}")
        if args.pairs:
            for s, lab, (a, b) in worst:
                print(f"      {s:.3f}  {'match' if lab else 'no   '}  {a!r} / {b!r}")
        in_table = THRESHOLDS.get(model)
        print(
            f"   chosen threshold {threshold:.2f}: precision {precision:.2f}, recall {recall:.2f}"
            f" (cosine alone {cos_recall:.2f})"
            f"  (table: {in_table if in_table is not None else f'not listed, default {threshold_for(model)}'})"
        )
        print(
            f"   Mind Wandering radius suggested: eps = 1 - median(match) = {1 - statistics.median(pos):.3f}"
            f"  (table: {eps_for(model)})"
        )
        summary.append(
            (model, min(pos), statistics.median(pos), max(neg), threshold, precision, cos_recall, recall)
        )
    print("\nsummary")
    print(
        f"   {'model':<26}{'match min':>10}{'match med':>10}{'no max':>8}{'threshold':>10}{'precision':>10}"
        f"{'recall cos':>11}{'recall':>8}"
    )
    print(
        f"   {'text-embedding-ada-002':<26}{'0.99*':>10}{'':>10}{'0.96*':>8}{0.97:>10.2f}{'':>10}{'':>11}{'':>8}"
        "   * AGA paper examples"
    )
    for model, pmin, pmed, nmax, thr, prec, cos_rec, rec in summary:
        print(
            f"   {model:<26}{pmin:>10.3f}{pmed:>10.3f}{nmax:>8.3f}{thr:>10.2f}{prec:>10.2f}{cos_rec:>11.2f}{rec:>8.2f}"
        )
    if not args.no_speed:
        lookup_speed()


if __name__ == "__main__":
    main()
