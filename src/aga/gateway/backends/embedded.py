"""The embedded language model: a small GGUF model run in-process by llama.cpp, no key, no network.

Every call is constrained by a grammar, so the model can only produce an answer of the right shape:
the grammar is built here from the request's JSON schema (with explicit bounds on list lengths,
string lengths and numbers, which llama-cpp-python's own converter leaves open) or, for choice
tasks, admits only ``{"choice": "<one of the options>"}``.

One ``Llama`` instance per model file and process does all the work on one worker thread, so the
event loop keeps running while it computes. Waiting requests are served in the order that best
reuses llama.cpp's KV cache: the one sharing the longest text prefix with the previous prompt
goes first (same task instructions, same persona), with an aging bound so nothing waits forever.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import hashlib
import os
import random
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aga.errors import AgaError, BackendUnavailable, InputError
from aga.gateway.backends import model_files
from aga.gateway.backends.grammar import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_ITEMS,
    grammar_for_choices,
    grammar_for_request,
    grammar_for_schema,
)
from aga.gateway.types import FatalBackendError, LLMRequest, LLMResponse, TransientBackendError
from aga.settings import embedded_threads

__all__ = [
    "DEFAULT_MAX_CHARS",
    "DEFAULT_MAX_ITEMS",
    "EmbeddedBackend",
    "grammar_for_choices",
    "grammar_for_request",
    "grammar_for_schema",
]

MAX_SKIPS = 4
"""How often a waiting request may be passed over for one that reuses more of the KV cache."""

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


def _token_array(lc: Any, data: np.ndarray) -> Any:
    """A ``llama_token_data_array`` over a numpy array of ``_TOKEN_DATA`` (no copy)."""
    pointer = data.ctypes.data_as(ctypes.POINTER(lc.llama_token_data))
    return lc.llama_token_data_array(pointer, len(data), -1, False)


def _pick(logits: np.ndarray, temperature: float, rng: random.Random | None) -> int:
    """Greedy at temperature 0, else a draw from softmax(logits / temperature) with ``rng``."""
    if temperature <= 0 or rng is None:
        return int(np.argmax(logits))
    z = (logits - logits.max()) / temperature
    weights = np.cumsum(np.exp(z))  # refused tokens have logit -inf, so weight 0
    return int(np.searchsorted(weights, rng.random() * weights[-1], side="right"))


TOP_CANDIDATES = (32, 512, 8192, 32768)
"""How many of the model's best tokens are checked against the grammar, in growing rounds, before
the whole vocabulary is (greedy decoding only). A pass over the whole vocabulary under a grammar
with bounded repetitions takes seconds to minutes for Qwen's 151k tokens."""


def _best_admitted(
    lc: Any, sampler: Any, logits: np.ndarray, temperature: float, rng: random.Random | None
) -> int:
    """The token to emit when the grammar refused the model's preferred one.

    Greedy: the admitted token of highest logit (lowest id among equal logits), found among the
    best few candidates when one of them is admitted with a logit above every token left out
    (so the answer is that of a pass over the whole vocabulary); else, and when sampling, the
    whole vocabulary goes through the grammar.
    """
    n_vocab = len(logits)
    if temperature <= 0 or rng is None:
        for k in TOP_CANDIDATES:
            if k >= n_vocab:
                break
            top = np.argpartition(-logits, k)[: k + 1]  # the k + 1 best (the last: the bound)
            top = top[np.lexsort((top, -logits[top]))]
            bound = logits[top[-1]]
            cand = np.zeros(k, dtype=_TOKEN_DATA)
            cand["id"], cand["logit"] = top[:k], logits[top[:k]]
            lc.llama_sampler_apply(sampler, ctypes.byref(_token_array(lc, cand)))
            admitted = np.flatnonzero(np.isfinite(cand["logit"]))
            if admitted.size and logits[int(cand["id"][admitted[0]])] > bound:
                return int(cand["id"][admitted[0]])
    full = np.zeros(n_vocab, dtype=_TOKEN_DATA)
    full["id"], full["logit"] = np.arange(n_vocab), logits
    lc.llama_sampler_apply(sampler, ctypes.byref(_token_array(lc, full)))
    token = _pick(full["logit"], temperature, rng)
    if not np.isfinite(full["logit"][token]):
        raise TransientBackendError(None, "the answer grammar admits no next token")
    return token


def _decode(
    llama: Any, prompt: str, grammar: str | None, max_tokens: int, temperature: float, seed: int
) -> tuple[str, int, int]:
    """Generate under ``grammar``, checking the grammar lazily; returns (text, prompt tokens, generated).

    llama.cpp's own sampler runs the grammar over the whole vocabulary (151k tokens for Qwen)
    at every step. Here the model's preferred token is tried first and the full pass runs only
    when the grammar refuses it: the same tokens come out (greedy: the best admitted token;
    sampling: the same distribution), at a fraction of the cost. The KV cache of the longest
    token prefix shared with the previous call is kept.
    """
    import llama_cpp as lc

    tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    room = llama.n_ctx() - len(tokens)
    if room < 1:
        raise ValueError(f"Requested tokens ({len(tokens)}) exceed context window of {llama.n_ctx()}")
    cached = np.asarray(llama.input_ids[: llama.n_tokens])
    n = min(len(cached), len(tokens))
    differ = np.flatnonzero(cached[:n] != np.asarray(tokens[:n], dtype=cached.dtype))
    keep = min(int(differ[0]) if len(differ) else n, len(tokens) - 1)
    llama.n_tokens = keep
    llama.eval(tokens[keep:])
    vocab = lc.llama_model_get_vocab(llama.model)
    n_vocab = llama.n_vocab()
    sampler = lc.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root") if grammar else None
    if grammar and not sampler:
        raise FatalBackendError(None, "llama.cpp could not parse the answer grammar")
    rng = random.Random(seed) if temperature > 0 else None
    one = np.zeros(1, dtype=_TOKEN_DATA)
    out: list[int] = []
    ended = 0
    try:
        for _ in range(min(max(1, max_tokens), room)):
            logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(llama.ctx, -1), shape=(n_vocab,))
            token = _pick(logits, temperature, rng)
            if sampler:
                one["id"], one["logit"] = token, 0.0
                lc.llama_sampler_apply(sampler, ctypes.byref(_token_array(lc, one)))
                if not np.isfinite(one["logit"][0]):  # refused: the best admitted token instead
                    token = _best_admitted(lc, sampler, logits, temperature, rng)
            if lc.llama_vocab_is_eog(vocab, token):
                ended = 1
                break
            if sampler:
                lc.llama_sampler_accept(sampler, token)
            out.append(token)
            llama.eval([token])
    finally:
        if sampler:
            lc.llama_sampler_free(sampler)
    text = llama.detokenize(out).decode("utf-8", errors="replace")
    return text, len(tokens), len(out) + ended


@dataclass
class _Job:
    prompt_key: str
    run: Callable[[], LLMResponse]
    future: Future[LLMResponse] = field(default_factory=Future)
    skipped: int = 0


def _shared_prefix(a: str, b: str) -> int:
    """Length of the common prefix of two strings."""
    return len(os.path.commonprefix([a, b]))


class _ModelWorker:
    """One loaded model file: its ``Llama``, a lock, and the one thread that runs its calls."""

    def __init__(self, path: Path, model: str, n_ctx: int, n_threads: int) -> None:
        self.path = path
        self.model = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.lock = threading.Lock()
        self.llama: Any = None
        self.formatter: Any = None  # the GGUF's chat template, when it has one
        self._jobs: list[_Job] = []
        self._cv = threading.Condition()
        self._last_key = ""
        self._thread = threading.Thread(target=self._serve, name=f"aga-llama-{model}", daemon=True)
        self._thread.start()

    def load(self) -> Any:
        """The ``Llama`` instance, loaded on first use (prints a one-line note on stderr)."""
        if self.llama is None:
            # llama.cpp's OpenMP threads spin while waiting by default; when other processes use
            # the cores, a spinning thread starves the one doing the work (a call took 4-10x
            # longer in our measurements). Sleeping waits cost little when the machine is idle.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                from llama_cpp import Llama
            except ImportError as err:
                raise FatalBackendError(
                    None,
                    "llama-cpp-python is not installed",
                    hint="install it with: pip install llama-cpp-python==0.3.36 (or run make setup)",
                ) from err
            size = self.path.stat().st_size / 1e9
            print(
                f"aga: loading the embedded model {self.model} ({size:.2f} GB) ...",
                file=sys.stderr,
                flush=True,
            )
            try:
                self.llama = Llama(
                    model_path=str(self.path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    n_batch=512,
                    seed=0,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as err:
                raise FatalBackendError(
                    None,
                    f"llama.cpp could not load {self.path}: {err}",
                    hint="is it a complete GGUF model file?",
                ) from err
            template = self.llama.metadata.get("tokenizer.chat_template")
            if template:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                vocab = self.llama._model
                eos, bos = self.llama.token_eos(), self.llama.token_bos()
                self.formatter = Jinja2ChatFormatter(
                    template=template,
                    eos_token=vocab.token_get_text(eos) if eos != -1 else "",
                    bos_token=vocab.token_get_text(bos) if bos != -1 else "",
                )
        return self.llama

    def submit(self, prompt_key: str, run: Callable[[], LLMResponse]) -> Future[LLMResponse]:
        """Queue a call; the worker thread picks the best next job (see the module docstring)."""
        job = _Job(prompt_key, run)
        with self._cv:
            self._jobs.append(job)
            self._cv.notify()
        return job.future

    def _next_job(self) -> _Job:
        """Pop the waiting job to run now (call with the condition held and jobs waiting).

        The job sharing the longest prefix with the last prompt wins (ties: the earliest); the
        jobs it overtakes count a skip, and a job skipped ``MAX_SKIPS`` times goes next.
        """
        starved = [j for j in self._jobs if j.skipped >= MAX_SKIPS]
        if starved:
            best = starved[0]
        else:
            best = max(self._jobs, key=lambda j: _shared_prefix(j.prompt_key, self._last_key))
        position = self._jobs.index(best)
        for job in self._jobs[:position]:
            job.skipped += 1
        del self._jobs[position]
        return best

    def _serve(self) -> None:
        while True:
            with self._cv:
                while not self._jobs:
                    self._cv.wait()
                job = self._next_job()
            if not job.future.set_running_or_notify_cancel():
                continue
            self._last_key = job.prompt_key
            try:
                job.future.set_result(job.run())
            except BaseException as err:  # handed to the awaiting caller, never lost
                job.future.set_exception(err)


_WORKERS: dict[tuple[str, int, int], _ModelWorker] = {}
_WORKERS_LOCK = threading.Lock()


def _worker_for(path: Path, model: str, n_ctx: int, n_threads: int) -> _ModelWorker:
    key = (str(path.resolve()), n_ctx, n_threads)
    with _WORKERS_LOCK:
        if key not in _WORKERS:
            _WORKERS[key] = _ModelWorker(path, model, n_ctx, n_threads)
        return _WORKERS[key]


@atexit.register
def _drain_workers() -> None:
    """At exit: drop waiting calls and let a running one finish, so no model is freed mid-call."""
    for worker in list(_WORKERS.values()):
        with worker._cv:
            for job in worker._jobs:
                job.future.cancel()
            worker._jobs.clear()
        if worker.lock.acquire(timeout=60):
            worker.lock.release()


def _check_gguf(path: Path) -> None:
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as err:
        raise InputError(f"cannot read GGUF file {path}: {err.strerror}") from err
    if magic != b"GGUF":
        raise InputError(f"{path} is not a GGUF model file (it does not start with 'GGUF')")


def sampling_seed_for(request: LLMRequest, run_seed: int = 0) -> int:
    """The sampling seed of one request: a hash of its prompt and temperature, salted with the
    run's seed.

    The same prompt in the same run always samples the same answer (reruns and the response
    cache agree); another run seed gives other draws. Run seed 0 is the prompt alone. The
    temperature is part of it because the gateway's later re-asks differ from the first re-ask
    only in warmth when the model gave the same wrong answer twice: with one seed for both, the
    warmer draw mostly repeated the colder one word for word (a wasted call).
    """
    salt = f"{run_seed}\x00" if run_seed else ""
    key = f"{salt}{request.system}\x00{request.user}"
    if request.temperature > 0:
        key += f"\x00{request.temperature:g}"
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:4], "big")


class EmbeddedBackend:
    """A local GGUF model behind the backend seam, constrained by grammars.

    Args:
        profile: ``"default"`` (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) or ``"fast"`` (the 0.5B).
        gguf_path: any GGUF chat model file instead of a profile.
        n_threads: CPU threads (default: ``AGA_EMBEDDED_THREADS``, else all this process may use).
        n_ctx: context window in tokens.
        lazy_grammar: check the grammar on the model's preferred token first and run it over
            the whole vocabulary only when that token is refused (same answers, faster). Needs
            a chat template in the GGUF; without one, llama-cpp-python's own path is used.
        sampling_seed: mixed into each prompt's sampling seed (0: the prompt alone decides it),
            so runs with different seeds sample differently while each stays reproducible.

    Raises:
        InputError: unknown profile, or a ``gguf_path`` that is missing or not GGUF.
    """

    name = "embedded"

    def __init__(
        self,
        profile: str = "default",
        *,
        gguf_path: str | None = None,
        n_threads: int | None = None,
        n_ctx: int = 4096,
        lazy_grammar: bool = True,
        sampling_seed: int = 0,
    ) -> None:
        self.profile = profile
        self.sampling_seed = sampling_seed
        self.lazy_grammar = lazy_grammar
        self.n_ctx = n_ctx
        self.n_threads = n_threads or embedded_threads() or len(os.sched_getaffinity(0)) or 1
        self._gguf: Path | None = None
        if gguf_path is not None:
            self._gguf = Path(gguf_path).expanduser()
            if not self._gguf.is_file():
                raise InputError(f"GGUF model file not found: {self._gguf}")
            _check_gguf(self._gguf)
            self.model = self._gguf.stem.lower()
            self._spec = None
        else:
            self._spec = model_files.spec_for(profile)
            self.model = self._spec.name
        self._worker: _ModelWorker | None = None
        self._setup_lock = threading.Lock()

    def _model_worker(self) -> _ModelWorker:
        with self._setup_lock:
            return self._model_worker_locked()

    def _model_worker_locked(self) -> _ModelWorker:
        if self._worker is None:
            if self._gguf is not None:
                path = self._gguf
            else:
                assert self._spec is not None
                try:
                    path = model_files.assemble(self._spec, note=model_files.stderr_note)
                except BackendUnavailable as err:
                    raise FatalBackendError(None, err.server_message, hint=err.hint) from err
                except AgaError as err:
                    raise FatalBackendError(None, str(err)) from err
            self._worker = _worker_for(path, self.model, self.n_ctx, self.n_threads)
        return self._worker

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer one request on the model's worker thread without blocking the event loop.

        Raises:
            FatalBackendError: model missing or unloadable, prompt longer than the context.
            TransientBackendError: llama.cpp failed to decode (its state is reset).
        """
        worker = self._worker or await asyncio.to_thread(self._model_worker)  # first call may join files
        assert worker is not None
        future = worker.submit(request.system + "\x00" + request.user, lambda: self._run(worker, request))
        return await asyncio.wrap_future(future)

    def complete_sync(self, request: LLMRequest) -> LLMResponse:
        """Blocking form of :meth:`complete` (for scripts and benchmarks)."""
        worker = self._model_worker()
        return worker.submit(
            request.system + "\x00" + request.user, lambda: self._run(worker, request)
        ).result()

    def clear_prefix_cache(self) -> None:
        """Forget the reusable KV cache, so the next call evaluates its whole prompt (benchmarks)."""
        worker = self._model_worker()
        with worker.lock:
            if worker.llama is not None:
                worker.llama.n_tokens = 0

    def _run(self, worker: _ModelWorker, request: LLMRequest) -> LLMResponse:
        grammar_text = grammar_for_request(request)
        messages = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.user})
        seed = sampling_seed_for(request, self.sampling_seed)
        with worker.lock:
            llama = worker.load()
            try:
                if self.lazy_grammar and worker.formatter is not None:
                    prompt = worker.formatter(messages=messages).prompt
                    text, n_prompt, n_out = _decode(
                        llama, prompt, grammar_text, request.max_tokens, request.temperature, seed
                    )
                    return LLMResponse(text, n_prompt, n_out, self.model)
                from llama_cpp import LlamaGrammar

                grammar = LlamaGrammar.from_string(grammar_text, verbose=False) if grammar_text else None
                out = llama.create_chat_completion(
                    messages=messages,
                    grammar=grammar,
                    max_tokens=max(1, request.max_tokens),
                    temperature=request.temperature,
                    seed=seed,
                )
            except ValueError as err:
                if "context window" in str(err) or "exceed" in str(err):
                    raise FatalBackendError(
                        None,
                        f"prompt of task '{request.task}' does not fit the context window: {err}",
                        hint="shorten the prompt or build the backend with a larger n_ctx",
                    ) from err
                raise FatalBackendError(
                    None, f"llama.cpp rejected the request of task '{request.task}': {err}"
                ) from err
            except RuntimeError as err:
                llama.reset()
                raise TransientBackendError(
                    None, f"llama.cpp failed on task '{request.task}': {err}"
                ) from err
        usage = out.get("usage") or {}
        text = out["choices"][0]["message"].get("content") or ""
        return LLMResponse(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            model=self.model,
        )
