"""The FAQ's prompts: one versioned place. Every answer records PROMPT's version, so a change
here (or in the file COOLPAPERS_LLM_PROMPT_FILE names) is visible on old answers.

As papers.cool runs it: a system prompt, the paper text as the first user turn, then the fixed
questions asked ONE BY ONE as successive turns of the same conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LANGS = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Prompts:
    version: str
    system: dict[str, str]
    paper: dict[str, str]  # the first user turn; {title}, {source} and {text} are filled in
    questions: dict[str, list[str]]
    followup: dict[str, str]  # the system note put before a reader's own question
    # Models too small for the paper (llm/context.py): each question's turn carries the
    # excerpts chosen for it ({excerpts}, {question}), found with the question's words and
    # the hint of the same position (the paper is English whatever the answer's language).
    excerpts: dict[str, str]
    hints: list[str]


BUILTIN = Prompts(
    version="faq-2026-11-2",
    system={
        "zh": (
            "你是一个学术助手，后面的对话将围绕着以下论文内容进行。请你作出专业的回答，"
            "不要出现第一人称，当涉及到分点回答时，鼓励你以 Markdown 格式输出；"
            "数学公式用 $...$ 或 $$...$$ 书写。"
        ),
        "en": (
            "You are an academic assistant. The conversation that follows is about the paper "
            "text given below. Answer professionally, never in the first person, and use "
            "Markdown for lists; write math as $...$ or $$...$$."
        ),
    },
    paper={
        "zh": "论文标题：{title}\n（以下内容来自{source}）\n\n{text}",
        "en": "Paper title: {title}\n(The text below is the paper's {source}.)\n\n{text}",
    },
    questions={
        "zh": [
            "这篇论文试图解决什么问题？",
            "有哪些相关研究？",
            "论文如何解决这个问题？",
            "论文做了哪些实验？",
            "有什么可以进一步探索的点？",
            "总结一下论文的主要内容",
        ],
        "en": [
            "What problem does this paper try to solve?",
            "What related work is there?",
            "How does the paper solve the problem?",
            "What experiments does the paper run?",
            "What could be explored further?",
            "Summarize the main content of the paper.",
        ],
    },
    followup={
        "zh": "读者还有一个问题，请基于论文内容回答。",
        "en": "A reader has one more question; answer it from the paper.",
    },
    excerpts={
        "zh": "以下是论文中与问题相关的片段：\n\n{excerpts}\n\n问题：{question}",
        "en": "Excerpts of the paper that bear on the question:\n\n{excerpts}\n\n"
        "Question: {question}",
    },
    hints=[
        "problem challenge motivation limitation address goal introduction we propose",
        "related work prior previous existing approaches methods literature background",
        "method approach model architecture algorithm framework design propose training",
        "experiments results evaluation dataset benchmark baseline accuracy table ablation",
        "future work limitations conclusion discussion open directions improve extend",
        "introduction contributions conclusion results propose show summary",
    ],
)

# What the model saw (llm/context.py), as the opening turn names it.
SOURCE_NAMES = {
    "zh": {
        "full": "论文全文",
        "trimmed": "论文全文（略去参考文献和附录）",
        "sections": "论文摘要；每个问题另附论文中与之相关的片段",
        "abstract": "论文摘要（未能获取全文）",
    },
    "en": {
        "full": "full text",
        "trimmed": "full text without references and appendix",
        "sections": "abstract; each question comes with the excerpts of the paper that bear on it",
        "abstract": "abstract only (the full text was not available)",
    },
}


@cache
def load(path: str = "") -> Prompts:
    """The built-in prompts, or those of a JSON file (missing keys fall back to built-ins)."""
    if not path:
        return BUILTIN
    raw = json.loads(Path(path).read_text("utf-8"))
    return Prompts(
        version=str(raw["version"]),  # required: answers must say which prompts made them
        system={**BUILTIN.system, **raw.get("system", {})},
        paper={**BUILTIN.paper, **raw.get("paper", {})},
        questions={**BUILTIN.questions, **raw.get("questions", {})},
        followup={**BUILTIN.followup, **raw.get("followup", {})},
        excerpts={**BUILTIN.excerpts, **raw.get("excerpts", {})},
        hints=list(raw.get("hints", BUILTIN.hints)),
    )
