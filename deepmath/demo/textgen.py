"""English page text from our own templates: math lessons and forum threads, and everyday non-math topics.

A page is a title plus `Block`s (headings, paragraphs, list items, display formulas); inline formulas are
`formulas.Expr` objects inside a paragraph, so the HTML renderer decides their markup. Each page draws a random
subset of a topic's sentence templates and fills their slots, so two pages of one topic share little text
(their word 5-gram overlap stays far below near-duplicate thresholds) while staying recognisably on topic.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from deepmath.demo.formulas import FORMULAS, Expr

__all__ = ["Block", "math_article", "math_thread", "nonmath_article", "plain_text", "templates"]


@dataclass
class Block:
    kind: str  # h2 | p | li | display
    parts: list = field(default_factory=list)  # str and Expr (inline math); display: [Expr]


def templates() -> dict:
    """The sentence templates and slot lists (`templates.yaml`, read once)."""
    return _templates()


@lru_cache(maxsize=1)
def _templates() -> dict:
    return yaml.safe_load(Path(__file__).with_name("templates.yaml").read_text(encoding="utf-8"))


_SLOT = re.compile(r"\{(\w+)\}")


def _fill(template: str, rng: random.Random, slots: dict) -> str:
    def pick(match: re.Match) -> str:
        name = match.group(1)
        if name == "n":
            return str(rng.randint(2, 19))
        if name == "Concept":
            return slots["concept"][0][:1].upper() + slots["concept"][0][1:]
        return str(rng.choice(slots[name]))

    text = _SLOT.sub(pick, template)
    return text[:1].upper() + text[1:]


class _Deck:
    """Deals a pool's templates in a random order without repeats (reshuffling only when it runs out)."""

    def __init__(self, rng: random.Random, pool: list[str], slots: dict):
        self.rng, self.pool, self.slots, self.cards = rng, list(dict.fromkeys(pool)), slots, []

    def deal(self, k: int) -> list[str]:
        out = []
        for _ in range(k):
            if not self.cards:
                self.cards = self.rng.sample(self.pool, len(self.pool))
            out.append(_fill(self.cards.pop(), self.rng, self.slots))
        return out


def _paragraph(sentences: list[str]) -> Block:
    return Block("p", [" ".join(sentences)])


def _formula(rng: random.Random, topic: str) -> tuple[Expr, str]:
    return rng.choice(FORMULAS[topic])(rng)


def math_article(rng: random.Random, topic: str, plain_words: bool = False) -> tuple[str, list[Block]]:
    """A lesson on one topic: sentences, inline and display formulas, a worked example and exercises.

    `plain_words` makes a math page that relies on words more than formulas (one formula only): the kind an
    early classifier trained on formula-heavy seeds can miss.
    """
    t = templates()
    concept = rng.choice(t["math_topics"][topic])
    slots = {**t["math_slots"], "concept": [concept]}
    deck = _Deck(rng, t["math_sentences"] + t["topic_sentences"][topic], slots)
    suffix = _fill(rng.choice(t["math_titles"]), rng, slots).lower()
    title = f"{concept[:1].upper() + concept[1:]}: {suffix}"
    heads = [_fill(rng.choice(options), rng, slots) for options in t["headings"]]
    blocks = [
        Block("h2", [heads[0]]),
        _paragraph([_fill(rng.choice(t["math_openers"]), rng, slots), *deck.deal(rng.randint(2, 4))]),
    ]
    expr, desc = _formula(rng, topic)
    if plain_words:
        blocks.append(Block("p", [" ".join(deck.deal(3)), " For example, ", expr, f" {desc}."]))
        blocks.append(_paragraph(deck.deal(rng.randint(4, 7))))
        return title, blocks
    blocks.append(Block("p", [" ".join(deck.deal(1)), " Consider ", expr, f", which {desc}."]))
    expr2, desc2 = _formula(rng, topic)
    blocks += [
        Block("h2", [heads[1]]),
        _paragraph(deck.deal(rng.randint(1, 3))),
        Block("display", [expr2]),
        Block("p", [f"The formula above {desc2}. ", " ".join(deck.deal(rng.randint(1, 3)))]),
    ]
    blocks.append(Block("h2", [heads[2]]))
    for _ in range(rng.randint(2, 4)):
        exercise, _desc = _formula(rng, topic)
        before, _, after = rng.choice(t["exercises"]).partition("{F}")
        blocks.append(Block("li", [before, exercise, after]))
    blocks.append(_paragraph(deck.deal(rng.randint(1, 2))))
    return title, blocks


def math_thread(rng: random.Random, topic: str, question: str | None = None) -> tuple[str, list[Block]]:
    """A forum thread: a question (optionally quoting `question` word for word) and two or three replies."""
    t = templates()
    concept = rng.choice(t["math_topics"][topic])
    slots = {**t["math_slots"], "concept": [concept]}
    deck = _Deck(rng, t["math_sentences"] + t["topic_sentences"][topic], slots)
    expr, _desc = _formula(rng, topic)
    asker = rng.choice(t["math_slots"]["user"])
    if question is not None:
        title = f"Help with a word problem ({rng.choice(['homework', 'practice test', 'worksheet', 'quiz'])})"
        intro = rng.choice(
            [
                "I am stuck on this one from my worksheet:",
                "Can someone check my reasoning here?",
                "Our teacher gave us this problem:",
                "Found this in a practice test:",
            ]
        )
        blocks = [
            Block("h2", [f"{asker} asked"]),
            Block("p", [f"{intro} {question}"]),
            Block(
                "p",
                [
                    rng.choice(
                        [
                            "I keep getting a different number each time.",
                            "My answer does not match the key.",
                            "Is there a quick way to set it up?",
                            "Where do I start?",
                        ]
                    )
                ],
            ),
        ]
    else:
        title = f"Question about {concept}"
        blocks = [Block("h2", [f"{asker} asked"]), Block("p", [" ".join(deck.deal(2)), " Why is ", expr, " true?"])]
    for _ in range(rng.randint(2, 3)):
        user = rng.choice(t["math_slots"]["user"])
        reply_expr, reply_desc = _formula(rng, topic)
        blocks += [
            Block("h2", [f"Reply from {user}"]),
            Block("p", [" ".join(deck.deal(rng.randint(1, 3))), " Note that ", reply_expr, f" {reply_desc}."]),
        ]
    return title, blocks


def nonmath_article(rng: random.Random, topic: str) -> tuple[str, list[Block]]:
    """A blog post on an everyday topic: paragraphs and a short list, no formulas."""
    t = templates()
    spec = t["nonmath_topics"][topic]
    slots = {"thing": [rng.choice(spec["thing"])], "ingredient": spec["ingredient"]}
    title = _fill(rng.choice(spec["titles"]), rng, slots)
    deck = _Deck(rng, spec["sentences"], slots)
    blocks = [_paragraph(deck.deal(rng.randint(3, 5)))]
    blocks += [Block("li", [_fill(rng.choice(spec["list"]), rng, slots)]) for _ in range(rng.randint(2, 5))]
    blocks.append(_paragraph(deck.deal(rng.randint(3, 6))))
    blocks.append(_paragraph([*deck.deal(rng.randint(2, 4)), rng.choice(t["generic"])]))
    return title, blocks


def plain_text(title: str, blocks: list[Block]) -> str:
    """The text an extractor should recover: math as `$...$` inline and `$$...$$` on its own line."""
    lines = [title, ""]
    for block in blocks:
        if block.kind == "display":
            lines += [f"$${block.parts[0].latex()}$$", ""]
            continue
        text = "".join(f"${part.latex()}$" if isinstance(part, Expr) else part for part in block.parts)
        lines += [f"- {text}" if block.kind == "li" else text, "" if block.kind != "li" else None]
    return "\n".join(line for line in lines if line is not None).strip() + "\n"
