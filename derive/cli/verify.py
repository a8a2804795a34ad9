"""``derive verify FILE.json``: re-certify a trail written by ``--format json`` (or edited by hand).

Exit 0 with one line per step (its number, its rule, ``proof`` or ``tested``);
exit 1 naming the first step that fails and why; exit 2 when the file cannot be
read.  The JSON is read by the eval-free, bounded loader of ``derive.srepr``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from derive.certify import CertificationError, Certifier
from derive.certify.annotations import annotation_errors
from derive.certify.assumptions import assumption_errors
from derive.serialize import trail_from_json
from derive.trail import Step, Trail

MAX_BYTES = 50_000_000


class UnreadableTrail(ValueError):
    """The file is not a trail derive can read (exit 2)."""


def read_trail(path: str) -> Trail:
    try:
        raw = Path(path).read_bytes() if path != "-" else sys.stdin.buffer.read()
    except OSError as error:
        raise UnreadableTrail(f"cannot read {path}: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise UnreadableTrail(f"{path} is larger than {MAX_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise TypeError("the top level is not an object")
        return trail_from_json(data)
    except RecursionError:
        raise UnreadableTrail(f"{path} is nested too deeply") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
        kind = "missing key" if isinstance(error, KeyError) else type(error).__name__
        raise UnreadableTrail(f"{path} is not a derive trail ({kind}: {error})") from None


def verify(trail: Trail) -> tuple[list[str], str | None]:
    """The lines to print and, if a step fails, why (the first failure)."""
    certifier = Certifier(trail)
    lines: list[str] = []
    problems = assumption_errors(trail)
    if problems:
        return lines, problems[0]
    try:
        try:
            certifier.chain()
        except CertificationError as error:
            return lines, str(error)
        for number, step in enumerate(trail.steps, start=1):
            try:
                checked = certifier.step(step)
            except CertificationError as error:
                return lines, f"step {number} ({step.rule.slug}): {error}"
            except (ValueError, TypeError, ArithmeticError) as error:  # hand-edited maths SymPy cannot evaluate
                return lines, f"step {number} ({step.rule.slug}): cannot be evaluated ({type(error).__name__}: {error})"
            lines.extend(_lines(checked, str(number)))
        problems = annotation_errors(trail)  # the words, once the equations hold (as ``certify`` does)
        if problems:
            return lines, problems[0]
        try:
            certifier.result()
        except CertificationError as error:
            return lines, f"the result: {error}"
    finally:
        certifier.floats.release()
        certifier.evaluator.release()
    return lines, None


def _lines(step: Step, number: str) -> list[str]:
    certificate = step.certificate
    kind = certificate.kind if certificate is not None else "tested"
    reason = f" ({certificate.reason})" if certificate is not None and certificate.reason else ""
    lines = [f"{number} {step.rule.slug} {kind}{reason}"]
    for n, sub in enumerate(step.substeps, start=1):
        lines.extend(_lines(sub, f"{number}.{n}"))
    return lines


def run_verify(args) -> int:
    try:
        trail = read_trail(args.file)
    except UnreadableTrail as error:
        print(f"derive: {error}", file=sys.stderr)
        return 2
    lines, failure = verify(trail)
    if failure is not None:
        where = "at " if failure.startswith(("step ", "the result")) else ": "  # "at step 9 (...)", ": the trail ..."
        print(f"derive: verify failed{' ' if where == 'at ' else ''}{where}{failure}", file=sys.stderr)
        return 1
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0
