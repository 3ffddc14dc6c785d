"""Per-model settings in one place: context window, sampling, answer length.

A hosted model (Kimi, DeepSeek, GPT) reads a whole paper and needs nothing but the defaults of
`config.Settings`. A small local model does not: its window (SmolLM2: 8k tokens) holds a few
pages, and without a repeat penalty SmolLM2 loops on one sentence. `serve --local-llm` looks the
GGUF up here and turns the profile into COOLPAPERS_LLM_* settings (anything set explicitly
wins), so that every process (web workers, FAQ workers) reads one configuration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx

from coolpapers.config import Settings

# Characters per token, when the endpoint cannot count tokens for us. Measured with SmolLM2's
# tokenizer on the 25 shared arXiv PDFs: 2.5 to 4.3 per paper (3.3 overall), and as few as 1.1
# in a 2,000-character stretch of a table. Hence exact counts from the server where it offers
# them (llama.cpp: COOLPAPERS_LLM_TOKENIZE_URL, set by serve --local-llm); the estimate is for
# hosted long-context models, where the budget is generous and a miss costs little.
CHARS_PER_TOKEN = 3.0
# Room per turn for the question and the chat template's markers, in tokens.
TURN_OVERHEAD = 48
SYSTEM_TOKENS = 200  # the system prompt and the opening turn's frame


@dataclass(frozen=True, slots=True)
class ModelProfile:
    label: str  # shown on the button: [FAQ · label]
    context_tokens: int  # the window the server is started with (llama.cpp n_ctx)
    max_answer_tokens: int
    temperature: float
    repeat_penalty: float | None  # llama.cpp's; None: not sent (hosted APIs reject it)
    # excerpts per question when the paper does not fit (llm/context.py): on a CPU every
    # token of them is read again for each question, so a small model gets few
    excerpt_tokens: int = 3072
    # Each question asked after the earlier questions and answers (papers.cool's one
    # conversation). Off for a model too small to use them: it copies them instead.
    history: bool = True
    # More of llama.cpp's sampling (top_p, min_p, top_k, frequency/presence penalty), sent
    # with every request of this model (never to a hosted one: it has no profile of these).
    sampling: tuple[tuple[str, float], ...] = ()
    # Tokens llama.cpp's penalties look back over (its server's last_n_tokens_size; 64 by
    # default, less than one answer: a loop longer than that goes unpenalised).
    penalty_window: int = 64
    # Said to the model after the system prompt, per language: how to answer (a tiny model
    # rambles to its length limit unless told to be brief).
    style: tuple[tuple[str, str], ...] = ()

    def style_for(self, lang: str) -> str:
        return dict(self.style).get(lang, "")


# For a tiny model: short answers, each to its own question.
BRIEF = (
    ("en", "Answer each question in three to five short sentences, about that question only."),
    ("zh", "每个问题用三到五个短句回答，只回答该问题本身。"),
)


# The demo model, its settings measured with bench/faq_quality.py (README, Measured): with
# llama.cpp's repeat penalty looking back its default 64 tokens, half its answers looped; over
# 256 tokens (more than one short answer) none did, and told to be brief its answers were half
# as long and none ran to the length limit. Shown its earlier answers it copied them into the
# next ones: each question is asked on its own.
SMOLLM2_135M = ModelProfile(
    "SmolLM2-135M (tiny demo model)",
    8192,
    256,
    0.2,
    1.1,
    1536,
    history=False,
    penalty_window=256,
    style=BRIEF,
)

# Matched against the GGUF file name (or the model id, its stem), first match wins.
PROFILES: list[tuple[re.Pattern[str], ModelProfile]] = [
    (re.compile(r"smollm2-135m", re.I), SMOLLM2_135M),
    (
        re.compile(r"smollm2-360m", re.I),
        ModelProfile("SmolLM2-360M (small)", 8192, 512, 0.2, 1.15, 2048),
    ),
    (re.compile(r"smollm2-1\.7b", re.I), ModelProfile("SmolLM2-1.7B", 8192, 768, 0.3, 1.1)),
    (re.compile(r"qwen2\.5-(?:7|14|32)b", re.I), ModelProfile("Qwen2.5", 32768, 1024, 0.3, 1.05)),
    (re.compile(r"llama-3\.[123]-8b", re.I), ModelProfile("Llama 3 8B", 32768, 1024, 0.3, 1.05)),
]
# Any other GGUF: a context most 7-8B models and a laptop's memory can take.
GENERIC = ModelProfile("", 8192, 768, 0.3, 1.1)


def profile_for(model_file: str) -> ModelProfile:
    name = model_file.rsplit("/", 1)[-1]
    for pattern, profile in PROFILES:
        if pattern.search(name):
            return profile
    stem = re.sub(r"\.gguf$", "", name, flags=re.I)
    return replace(GENERIC, label=stem)


def as_settings(profile: ModelProfile) -> dict[str, str]:
    """The profile as COOLPAPERS_* environment variables (set where not set already)."""
    env = {
        "COOLPAPERS_LLM_LABEL": profile.label,
        "COOLPAPERS_LLM_CONTEXT_TOKENS": str(profile.context_tokens),
        "COOLPAPERS_LLM_MAX_ANSWER_TOKENS": str(profile.max_answer_tokens),
        "COOLPAPERS_LLM_TEMPERATURE": str(profile.temperature),
        "COOLPAPERS_LLM_EXCERPT_TOKENS": str(profile.excerpt_tokens),
        # one model behind one lock: conversations side by side would only interleave, and
        # each would lose the server's cache of its conversation so far
        "COOLPAPERS_LLM_CONCURRENCY": "1",
    }
    if profile.repeat_penalty is not None:
        env["COOLPAPERS_LLM_REPEAT_PENALTY"] = str(profile.repeat_penalty)
    return env


def sampling(settings: Settings) -> dict[str, object]:
    """Keyword arguments of every chat call (the FAQ's turns and follow-ups): the settings'
    temperature, length and repeat penalty, and the model's own profile's further sampling
    (a model known by its id; none for a hosted model)."""
    kw: dict[str, object] = {
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_answer_tokens,
    }
    extra: dict[str, object] = {}
    if settings.llm_repeat_penalty:
        extra["repeat_penalty"] = settings.llm_repeat_penalty
        # (only a llama.cpp server takes a repeat penalty: its profile's sampling goes too)
        extra.update(profile_for(settings.llm_model).sampling)
    if extra:
        kw["extra_body"] = extra
    return kw


@dataclass(frozen=True, slots=True)
class Window:
    """What fits before the model, in tokens, with the counter that measures it."""

    count: Callable[[str], int]
    paper: int  # paper text beside every question and answer of the FAQ
    turn: int  # one call's prompt (history, excerpts, question), its answer aside
    excerpts: int  # at most this much of the paper per question, when it does not fit


def window(settings: Settings, questions: int, count: Callable[[str], int] | None = None) -> Window:
    """The budget of a conversation of `questions` turns.

    With a known window (COOLPAPERS_LLM_CONTEXT_TOKENS, set for local models): the window less
    the system prompt and every question and answer. Otherwise the configured number of
    characters (hosted long-context models), estimated in tokens."""
    count = count or estimate
    ctx = settings.llm_context_tokens
    if not ctx:
        paper = int(settings.llm_context_chars / CHARS_PER_TOKEN)
        return Window(count, paper, paper + SYSTEM_TOKENS, settings.llm_excerpt_tokens)
    answers = questions * (settings.llm_max_answer_tokens + TURN_OVERHEAD)
    return Window(
        count,
        max(0, ctx - SYSTEM_TOKENS - answers),
        max(0, ctx - settings.llm_max_answer_tokens - TURN_OVERHEAD),
        settings.llm_excerpt_tokens,
    )


def estimate(text: str) -> int:
    """An estimate of how many tokens `text` takes (see CHARS_PER_TOKEN)."""
    return int(len(text) / CHARS_PER_TOKEN) + 1


def counter(settings: Settings) -> Callable[[str], int]:
    """Exact token counts from a llama.cpp server (llama-cpp-python's /extras/tokenize/count)
    when one is configured, else the estimate. A failed count falls back to a cautious
    estimate: a conversation should not fail because a count did."""
    url = settings.llm_tokenize_url
    if not url:
        return estimate
    client = httpx.Client(timeout=30, trust_env=False)

    def count(text: str) -> int:
        try:
            r = client.post(url, json={"input": text})
            r.raise_for_status()
            return int(r.json()["count"])
        except (httpx.HTTPError, KeyError, ValueError):
            return int(len(text) / 1.5) + 1

    return count
