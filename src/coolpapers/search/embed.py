"""Paper embeddings from a small model whose weights ship inside its PyPI wheel.

WordLlama (static token embeddings, 256 dimensions, `wordllama` on PyPI): ~1,000 abstracts/s
measured here on 2 shared cores, versus ~35/s for all-MiniLM-L6-v2 int8 on ONNX (its R@1 on a
title→abstract test is higher, 0.91 vs 0.83, see ../shared/README.md). A whole 70k-paper
archive embeds in about a minute instead of half an hour, and every harvest is indexed in
seconds; hybrid fusion with BM25 (R@1 0.96 on the same test) makes up most of the quality gap.
The model never touches the network: loaded from the package directory, downloads disabled.

It is the weak part of [REL] (issue 14, bench/related.py): title -> abstract R@1 0.84 over 1,000
real abstracts, and on a 6,200-paper slice of the real data all-MiniLM-L6-v2 (int8 ONNX, from
PyPI) put 20.9 % of a paper's 10 nearest papers in one of its smaller categories against
WordLlama's 15.8 %, but embedded 4 papers/s against 263 on the same busy cores: too slow to
index tens of thousands of papers, so not the default.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

MODEL = "wordllama-l2-supercat-256"
DIM = 256


class Embedder:
    name = MODEL
    dim = DIM

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # wordllama calls logging.basicConfig(level=INFO) when imported: the host's logging
        # (CLI, tests, benches) stays as it was
        root = logging.getLogger()
        level, handlers = root.level, list(root.handlers)
        import wordllama
        from wordllama import WordLlama

        root.setLevel(level)
        root.handlers[:] = handlers

        self._model = WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, disable_download=True
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        v = np.asarray(self._model.embed(texts, norm=True), dtype=np.float32)
        return v


_lock = threading.Lock()
_default: Embedder | None = None


def default_embedder() -> Embedder:
    """One model per process (it is read-only and thread-safe to call)."""
    global _default
    with _lock:
        if _default is None:
            _default = Embedder()
        return _default


def paper_text(title: str, abstract: str) -> str:
    return f"{title}. {abstract}"
