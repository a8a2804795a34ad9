"""The steps laid out as a lecturer writes them on a whiteboard (issue 13, items 1 to 3).

The trail is a list of certified steps, each rewriting the expression of the one
before.  A lecturer writes consecutive steps on one quantity as one chain,
``dE/dZ_k = ... = ... = ...``, naming each rule beside its line, and stops the
chain for a sentence only where a step needs explaining.  This module groups the
trail's steps into such chains:

- A lemma (a step whose substeps derive a value it substitutes) is laid out
  before the line that uses it: derived as a chain of its own, or, at ``brief``,
  recalled in its case form.  A lemma's value enters the main chain at the index
  split, in its case form, as in seed 000.
- An assumption's substeps (how the assumption is used) come before the line
  that uses their result.
- The detail level decides how many trail steps one line shows: ``full`` one
  each; ``standard`` merges trivial moves (a minus sign taken out of a sum and
  then out of the derivative, a common factor taken out after a cancellation);
  ``brief`` shows only the lines seed 000's slides show.  A merged line's
  equation is the last step's result, so it is as certified as the steps it
  joins.  A line with struck-through terms (the cancellation) is always its own.
- Lines are numbered 1, 2, 3, ... in reading order at every level.

Nothing here differentiates or simplifies: it only decides what goes on which line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from derive.present.measure import rows, width

if TYPE_CHECKING:
    from derive.present.document import StepView

SLIDE_WIDTH = 300.0  # about the width (pt) a slide's display line may take beside the quantity it is about

# How each step is laid out is said by its rule's record (derive.trail.Rule: pivotal, kept_in_brief, elementary,
# lemma), copied onto the step's view; this module keeps no list of rules of its own.


@dataclass(frozen=True)
class Line:
    """One line of a chain: ``&= after``, with the trail steps it shows named beside it."""

    number: int
    after: str
    steps: tuple["StepView", ...]
    again: tuple[bool, ...]  # per step: its rule was already used, earlier in the document
    refs: tuple[int, ...] = ()  # the lines this one uses (a lemma, an assumption's result)


@dataclass(frozen=True)
class Block:
    """A display: a chain of lines on one quantity, or (``recall``) a lemma's statement derived elsewhere."""

    kind: str  # "chain" | "recall"
    role: str  # "main" | "lemma" | "assumption" | "detail" (a substep worked on its own, at full detail)
    lhs: str
    start: str | None  # the expression the chain starts from, shown unnumbered
    lines: tuple[Line, ...]
    lead: "StepView | None" = None  # the step whose explanation comes just before this display

    @property
    def last(self) -> int:
        return self.lines[-1].number


@dataclass(frozen=True)
class Layout:
    blocks: tuple[Block, ...]
    lines_of: dict  # a trail step's number ("12", "8.3") -> the line that shows it

    def line_of(self, number: str) -> int | None:
        return self.lines_of.get(number)

    @property
    def tested(self) -> bool:
        """Whether any step shown, or folded into a line, was only tested at sample points."""
        pending = [step for block in self.blocks for line in block.lines for step in line.steps]
        while pending:
            step = pending.pop()
            if step.tested:
                return True
            pending.extend(step.substeps)
        return False

    @property
    def count(self) -> int:
        return sum(len(block.lines) for block in self.blocks)


def _struck(step: "StepView") -> bool:
    return "\\cancel" in step.after


def _minor(step: "StepView", detail: str, depth: int) -> bool:
    """Whether ``step`` may share a line with its neighbours at ``detail``."""
    if step.pivotal or _struck(step) or detail == "full":
        return False
    if detail == "brief":
        return not step.kept_in_brief
    if step.tidying or (step.rule == "constant-factor" and step.constant == "-1"):
        return True
    return depth > 0 and step.elementary


def _groups(steps: tuple["StepView", ...], detail: str, depth: int) -> list[list["StepView"]]:
    groups: list[list["StepView"]] = []
    for step in steps:
        previous = groups[-1] if groups else None
        joins_lemma = (
            detail != "full" and previous is not None and previous[-1].rule == "lemma" and step.rule == "index-split"
            and bool(step.underbraces)
        )
        joins_factor = (  # a constant taken out of the sum, then out of the derivative: one move
            detail != "full" and previous is not None and len(previous) == 1 and previous[0].rule == "factor-out"
            and step.rule == "constant-factor" and step.constant == previous[0].constant
        )
        minor = _minor(step, detail, depth) and all(_minor(s, detail, depth) for s in previous or ())
        after_lemma = (  # brief: a lemma substituted and the routine steps after it, on one line
            detail == "brief" and previous is not None and bool(previous[0].lemma)
            and not any(s.pivotal for s in previous[1:]) and _minor(step, detail, depth)
        )
        unseen = detail != "full" and previous is not None and step.after == previous[-1].after  # only a hold released
        if previous is not None and (joins_lemma or joins_factor or minor or after_lemma or unseen):
            previous.append(step)
        else:
            groups.append([step])
    return groups


class _Builder:
    def __init__(self, detail: str):
        self.detail = detail
        self.blocks: list[Block] = []
        self.lines_of: dict[str, int] = {}
        self.used: set[str] = set()
        self.next_number = 1

    def line(self, group: list["StepView"], after: str, refs: tuple[int, ...]) -> Line:
        again = []
        for step in group:
            again.append(step.rule in self.used)
            self.used.add(step.rule)
        line = Line(self.next_number, after, tuple(group), tuple(again), refs)
        self.next_number += 1
        for step in group:
            self._map(step, line.number)
        return line

    def _map(self, step: "StepView", number: int) -> None:
        self.lines_of.setdefault(step.number, number)
        if self.detail != "full":  # substeps not shown on lines of their own are found on their step's line
            for sub in step.substeps:
                self._map(sub, number)

    def has_side(self, step: "StepView") -> bool:
        if step.lemma == "recalled":
            return True
        return bool(step.substeps) and (bool(step.lemma) or step.rule == "assumption" or self.detail == "full")

    def side(self, step: "StepView", depth: int) -> int | None:
        """Lay out what ``step`` needs before its own line (a lemma, how an assumption is used); its last line."""
        if step.lemma == "recalled":  # stated as the step uses it, at its index
            line = self.line([step], step.focus_after, ())
            self.blocks.append(Block("recall", "lemma", step.focus_before, None, (line,), step))
            return line.number
        if not step.substeps:
            return None
        if step.lemma and self.detail == "brief":
            last = step.substeps[-1]
            line = self.line([step], last.after, ())
            self.used.update(sub.rule for sub in step.substeps)
            self.blocks.append(Block("recall", "lemma", last.lhs, None, (line,), step))
            return line.number
        if step.lemma or step.rule == "assumption" or self.detail == "full":
            role = "lemma" if step.lemma else {"assumption": "assumption"}.get(step.rule, "detail")
            first = step.substeps[0]
            start = None if first.before == first.lhs else first.before
            return self.chain(step.substeps, first.lhs, start, role, depth + 1, step)
        return None

    def chain(self, steps, lhs: str, start: str | None, role: str, depth: int, lead=None) -> int:
        lines: list[Line] = []
        pending_start = start
        for group in _groups(steps, self.detail, depth):
            pivot = next((s for s in reversed(group) if s.pivotal), None) if depth == 0 else None
            side_blocks = len(self.blocks)
            if pivot is not None or any(self.has_side(s) for s in group):
                if lines:
                    self.blocks.append(Block("chain", role, lhs, pending_start, tuple(lines), lead))
                    lines, pending_start, lead = [], None, None
                refs = tuple(number for number in (self.side(s, depth) for s in group) if number is not None)
                explained = {block.lead.number for block in self.blocks[side_blocks:] if block.lead is not None}
                if pivot is not None and pivot.number not in explained:
                    lead = pivot
            else:
                refs = ()
            lines.append(self.line(group, group[-1].after, refs))
        if lines:
            self.blocks.append(Block("chain", role, lhs, pending_start, tuple(lines), lead))
        return self.next_number - 1


def layout(steps: tuple["StepView", ...], lhs: str, start: str | None, detail: str) -> Layout:
    """The trail's steps (every one, as the full trail numbers them) laid out at ``detail``; ``start``: the
    expression the main chain starts from (None: its first line follows ``lhs`` at once)."""
    builder = _Builder(detail)
    builder.chain(steps, lhs, start, "main", 0)
    return Layout(tuple(builder.blocks), dict(builder.lines_of))


@dataclass(frozen=True)
class FramePart:
    """Part of a block shown on one slide: some of its lines; ``first``: the block starts here."""

    block: Block
    lines: tuple[Line, ...]
    first: bool


def _height(tex: str) -> float:
    """A display line's height on a slide in points (estimated): sums with limits, fractions, braces stand taller."""
    height = 17.0
    height += 14.0 if "\\sum_" in tex else 0.0
    height += 9.0 if "\\frac" in tex else 0.0
    height += 10.0 if "\\underbrace" in tex else 0.0
    height += 12.0 if "\\begin{cases}" in tex else 0.0
    height += 12.0 if "}{\\left(\\sum" in tex else 0.0  # a sum in a denominator
    height += 16.0 * (len(rows(tex, SLIDE_WIDTH)) - 1)  # broken over rows
    height += 13.0 if width(tex) > SLIDE_WIDTH - 130 else 0.0  # no room left beside it: its rule goes on a row below
    return height


def _part_height(part: "FramePart") -> float:
    lead = 44.0 if part.first and part.block.lead is not None else 0.0
    start = _height(part.block.start) if part.first and part.block.start else 0.0
    return 14.0 + lead + start + sum(_height(line.after) for line in part.lines)


@dataclass(frozen=True)
class Slide:
    parts: tuple[FramePart, ...]
    scaled: bool  # taller than a slide (a lemma kept whole): shrunk to fit, shown at once


def frames(blocks: tuple[Block, ...], whole_lemma: bool = True, capacity: float = 190.0) -> list[Slide]:
    """Blocks packed onto slides (see ``_packed``); ``whole_lemma``: a lemma stays on one slide (not at full detail,
    where its every substep would be too small to read)."""
    return [
        Slide(tuple(parts), sum(_part_height(part) for part in parts) > capacity)
        for parts in _packed(blocks, capacity, whole_lemma)
    ]


def _packed(blocks: tuple[Block, ...], capacity: float, whole_lemma: bool) -> list[list[FramePart]]:
    """A lemma whole on one slide (``whole_lemma``); other blocks split between slides only when they do not
    fit; blocks share a slide whenever they fit in what is left of it."""
    slides: list[list[FramePart]] = []
    room = 0.0
    for block in blocks:
        whole = _part_height(FramePart(block, block.lines, True))
        if slides and whole <= room:
            slides[-1].append(FramePart(block, block.lines, True))
            room -= whole
            continue
        if (block.role == "lemma" and whole_lemma) or whole <= capacity:
            slides.append([FramePart(block, block.lines, True)])
            room = capacity - whole
            continue
        part: list[Line] = []
        for line in block.lines:
            candidate = FramePart(block, tuple(part + [line]), not part or part[0] is block.lines[0])
            if part and _part_height(candidate) > capacity:
                slides.append([FramePart(block, tuple(part), part[0] is block.lines[0])])
                part = []
            part.append(line)
        last = FramePart(block, tuple(part), part[0] is block.lines[0])
        slides.append([last])
        room = capacity - _part_height(last)
    return slides
