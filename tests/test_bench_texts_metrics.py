"""The pure metrics of the TL;DR and translation benches (bench/_texts.py), on tiny inputs:
no model, no store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import _texts as m


def test_repeats_a_sentence_or_a_run_of_eight_words() -> None:
    assert not m.repeats("We propose FearNet. It learns classes without forgetting them.")
    assert m.repeats("We propose a new model. We propose a new model.")
    run = "a model that learns new classes without any replay"
    assert m.repeats(f"{run} and so {run}")
    # short sentences said twice are not a loop
    assert not m.repeats("Yes. Yes.")


@pytest.mark.parametrize(
    ("tldr", "copies"),
    [
        ("RotatE: Knowledge Graph Embedding by Relational Rotation", True),
        ("rotate knowledge graph embedding by relational rotation.", True),
        ("The paper: RotatE: Knowledge Graph Embedding by Relational Rotation", True),
        ("We embed knowledge graphs as rotations in complex space.", False),
        (
            "We propose RotatE: Knowledge Graph Embedding by Relational Rotation, a model that "
            "infers symmetry, inversion and composition of relations from the data alone.",
            False,  # the title is less than half of it
        ),
        ("", False),
    ],
)
def test_copies_title(tldr: str, copies: bool) -> None:
    title = "RotatE: Knowledge Graph Embedding by Relational Rotation"
    assert m.copies_title(tldr, title) is copies


def test_first_sentence_skips_blank_ones() -> None:
    assert m.first_sentence(["  ", "We  do X.\n", "Then Y."]) == "We do X."


def test_math_spans_survive_verbatim_each_once() -> None:
    src = r"A mass of $10^{11}M_\odot$ at $z=2$ and again $z=2$."
    assert m.math_spans(src) == [r"$10^{11}M_\odot$", "$z=2$", "$z=2$"]
    assert m.spans_kept(src, r"质量 $10^{11}M_\odot$，红移 $z=2$。") == (2, 3)
    assert m.spans_kept(src, "没有数学。") == (0, 3)
    assert m.spans_kept("no math", "任何") == (0, 0)


def test_numbers_outside_math_with_multiplicity() -> None:
    src = "We observed 15 stars in 2 fields ($N=300$), 15 of them young."
    # 15, 2, 15 in the prose; 300 is math (counted with the spans)
    assert m.numbers_kept(src, "我们在 2 个区域观测了 15 颗恒星 ($N=300$)。") == (2, 3)
    assert m.numbers_kept(src, "15 15 2") == (3, 3)


def test_ids_and_tex_commands() -> None:
    src = r"Following arXiv:2501.01234 and astro-ph/0601001, we use \textit{Gaia} and $\alpha$."
    assert m.ids_kept(src, "依据 2501.01234") == (1, 2)
    assert m.commands_kept(src, r"\textit{Gaia} 与 $\alpha$") == (2, 2)
    assert m.commands_kept(src, "Gaia") == (0, 2)


def test_cjk_share_of_the_prose() -> None:
    assert m.cjk_share("我们研究恒星") == 1.0
    assert m.cjk_share("We study stars") == 0.0
    # math and TeX commands are not prose
    assert m.cjk_share(r"恒星 $\alpha_{\rm eff}$ \textbf{x}") == pytest.approx(2 / 3)
    assert m.cjk_share("$x$ 123") == 0.0


def test_placeholders_kept_and_invented() -> None:
    assert m.placeholders("a [M1] b [ M2 ] c [M1] d [M7]", 3) == (2, 1)
    assert m.placeholders("nothing", 2) == (0, 0)


def test_survival_counts_multiplicity() -> None:
    assert m.survival(["a", "a", "b"], ["a", "b", "b"]) == (2, 3)
    assert m.survival([], ["a"]) == (0, 0)
