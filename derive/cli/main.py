"""The command line: ``derive``, ``derive pair``, ``derive catalogue``, ``derive check``, ``derive list``.

``main(argv)`` is testable without a subprocess (``derive.__main__`` wraps it in
the process: signals, closed streams).  Exit codes: 0 success, 1 certification
failure (nothing is written), 2 bad usage or input, 3 no verdict (``check``).
Every error is one line on stderr, never a traceback.  A reader that closes the
pipe early ends the run quietly with exit 0.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import os
import re
import sys
from pathlib import Path

from sympy import Sum

from derive import catalog
from derive.cli import check_arguments
from derive.deadline import DEFAULT_SECONDS, TimeLimit, time_limit
from derive.catalog import ACTIVATIONS, LOSSES, UndefinedPair, UnknownName, valid_pairs
from derive.syntax import ParseError, user_syntax
from derive.certify import CertificationError
from derive.present.document import DETAILS
from derive.present.notation import PRESETS, SECOND_ROLES, NotationError
from derive.cli.pdf import PdfError, ToolMissing, pdf_command
from derive.cli.pipeline import (
    EXTENSIONS, FORMATS, catalogue_documents, derive_certified, file_name, notation_for, write_documents,
)
from derive.cli.network import add_arguments as network_arguments, network_roles
from derive.cli.second import add_arguments as second_arguments
from derive.cli.usage import UsageError, whole_number
from derive.present import render
from derive.present.render import TemplateError
from derive.engine.rules.registry import RULES
from derive.problem import MAX_CLASSES, REDUCTIONS, TARGET_KINDS, ClaimError, NoVerdict, Problem, ProblemError
from derive.symbols import CLASSES, SUM_INDEX
from derive.engine.strategy import StepLimitError

DEFAULT_OUTPUT = Path("output")
MAIN_FORMATS = ("md", "tex")


class OutputError(Exception):
    """The result could not be written to standard output (closed, or a full device): exit code 2."""

    def __init__(self, error: OSError):
        super().__init__(f"cannot write to standard output: {error.strerror or error}")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise UsageError(message)


def _formats(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [fmt for fmt in chosen if fmt not in FORMATS]
    if unknown or not chosen:
        raise UsageError(f"unknown format {unknown[0] if unknown else text!r}; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(chosen))


def _label_prefix(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}", text):
        raise UsageError(f"--label-prefix expects letters, digits, '.', '_' or '-' (at most 60), got {text!r}")
    return text


def _symbol(text: str) -> tuple[str, str]:
    role, equals, name = text.partition("=")
    if not equals or not role.strip() or not name.strip():
        raise UsageError(f"--symbol expects ROLE=NAME, e.g. output=a, got {text!r}")
    return role.strip(), name.strip()


def _folder(text: str) -> Path:
    folder = Path(text)
    try:
        is_folder = folder.is_dir()
    except OSError as error:  # a name too long, a loop of links: still a bad argument, not a failed write
        raise UsageError(f"--templates: {error.strerror}") from None
    if not is_folder:
        raise UsageError(f"--templates {text!r} is not a folder")
    return folder


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--timeout expects a number of seconds, got {text!r}") from None
    if not 0 <= value <= 86400:
        raise UsageError(f"--timeout must be between 0 and 86400 seconds, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="derive", description="Certified step-by-step gradient derivations.")
    commands = top.add_subparsers(dest="command", parser_class=_Parser)
    pair = commands.add_parser("pair", help="derive dE/dz_k for an activation and a loss")
    pair.add_argument("names", nargs="*", metavar="ACTIVATION LOSS", help=f"activation: {', '.join(ACTIVATIONS)}; loss: {', '.join(LOSSES)}")
    pair.add_argument("--activation", dest="activation_expr", default=None, help="a user-defined activation, e.g. '1/(1+exp(-z))'")
    pair.add_argument("--loss", dest="loss_expr", default=None, help="a user-defined loss, e.g. '-sum(y[i]*log(o[i]), i)'")
    pair.add_argument("--name", default=None, help="a name for the document (title and file name)")
    pair.add_argument("--targets", choices=TARGET_KINDS, default=None, help="what the targets satisfy (default: the loss's own)")
    pair.add_argument("--reduction", choices=REDUCTIONS, default="sum", help="how the loss combines N examples")
    pair.add_argument("--H", dest="classes", type=whole_number("--H", MAX_CLASSES), default=None, help="a concrete number of classes")
    pair.add_argument("--format", dest="formats", type=_formats, default=MAIN_FORMATS, help=f"{', '.join(FORMATS)} (comma-separated)")
    pair.add_argument("--detail", choices=DETAILS, default="standard", help="brief, standard (default) or full")
    pair.add_argument("--notation", choices=tuple(PRESETS), default=None, help="symbol names as in a seed (default: seed000)")
    pair.add_argument("--symbol", dest="symbols", type=_symbol, action="append", default=[], metavar="ROLE=NAME",
                      help="rename one symbol, e.g. output=a or target=t (repeatable)")
    pair.add_argument("--templates", type=_folder, default=None, help="a folder of templates searched before the built-in ones")
    pair.add_argument("--heading", choices=render.HEADINGS, default="subsection",
                      help="the fragment's heading: section, subsection (default), subsubsection or none")
    pair.add_argument("--label-prefix", dest="label_prefix", type=_label_prefix, default=None,
                      help="\\label{PREFIX:...} in the LaTeX documents (default: the pair's file name)")
    pair.add_argument("--no-pause", dest="pause", action="store_false", help="slides show each frame at once")
    pair.add_argument("--no-check-note", dest="check_note", action="store_false",
                      help="leave out the closing note on how the steps were checked")
    pair.add_argument("-o", dest="output", default=None, help="file, folder (several formats) or - for stdout")
    network_arguments(pair)
    second_arguments(pair)
    listing = commands.add_parser("list", help="print the catalogue of activations and losses")
    listing.add_argument("--rules", action="store_true", help="print the rules instead: slug, name and formula, one per line")
    shipped = commands.add_parser("catalogue", help="write every document the project ships")
    shipped.add_argument("-o", dest="output", required=True, help="the folder to write into")
    check_arguments.add_parser(commands)
    checked = commands.add_parser("verify", help="re-certify a trail written by --format json")
    checked.add_argument("file", metavar="FILE.json", help="the trail (- for stdin)")
    for command in (top, pair, shipped, commands.choices["check"], checked):
        command.add_argument(
            "--timeout", type=_seconds, default=argparse.SUPPRESS if command is not top else DEFAULT_SECONDS,
            help=f"give up after this many seconds (default {DEFAULT_SECONDS:g}; 0 for no limit)",
        )
    return top


def problem_of(args) -> Problem:
    """The pair from positional names and/or --activation/--loss expressions."""
    from derive.parse import parse_expression  # local: only user-given expressions need the parser

    names = list(args.names)
    if args.activation_expr in ACTIVATIONS:  # --activation softmax: a catalogue name is taken as that name
        names.insert(0, args.activation_expr)
        args.activation_expr = None
    if args.loss_expr in LOSSES:
        names.append(args.loss_expr)
        args.loss_expr = None
    expected = (args.activation_expr is None) + (args.loss_expr is None)
    if len(names) != expected:
        wanted = " and ".join(w for w, given in (("ACTIVATION", args.activation_expr), ("LOSS", args.loss_expr)) if given is None)
        raise UsageError(f"{args.command} needs {wanted or 'no names'} (got {len(names)} name{'s' if len(names) != 1 else ''})")
    activation = names.pop(0) if args.activation_expr is None else "custom"
    loss = names.pop(0) if args.loss_expr is None else "custom"
    activation_expr = None if args.activation_expr is None else parse_expression(args.activation_expr, role="activation")
    loss_expr = None if args.loss_expr is None else parse_expression(args.loss_expr, role="loss")
    if activation_expr is None:
        catalog.activation(activation)
    if loss_expr is None:
        catalog.loss(loss)
    return Problem(activation, loss, args.classes, args.targets, getattr(args, "reduction", "sum"), activation_expr, loss_expr,
                   getattr(args, "name", None))


def _list() -> str:
    lines = ["activations (O_i in terms of the inputs z):"]
    for entry in ACTIVATIONS.values():
        lines.append(f"  {entry.name:<10} O_i = {user_syntax(entry.formula(SUM_INDEX, CLASSES))}")
    lines.append("losses (E in terms of the outputs o and targets y; targets: default first):")
    for entry in LOSSES.values():
        loss = Sum(entry.per_class(SUM_INDEX), (SUM_INDEX, 1, CLASSES))
        lines.append(f"  {entry.name:<21} E = {user_syntax(loss)}   targets: {', '.join(entry.targets)}")
    lines.append("pairs the catalogue can derive (a loss must be defined on every output its activation can give):")
    lines += [f"  {activation} {loss}" for activation, loss in valid_pairs()]
    return "\n".join(lines) + "\n"


def _rules() -> str:
    """The registry, one rule a line: slug, name and the formula it applies."""
    slug_width = max(len(rule.slug) for rule in RULES)
    title_width = max(len(rule.title) for rule in RULES)
    return "".join(f"{rule.slug:<{slug_width}}  {rule.title:<{title_width}}  {rule.formula}\n" for rule in RULES)


@dataclass(frozen=True)
class ToStdout:
    """A document to print instead of write (``-o -``, ``list``, a ``check`` report), and the exit code
    that goes with it (``check``'s verdict: 0 proved, 1 refuted, 3 not refuted but not proved)."""

    content: str | bytes
    code: int = 0


Plan = dict | ToStdout | int | None  # files to write, one document to print, an exit code, or nothing


def _pair(args) -> Plan:
    if args.output == "-" and (len(args.formats) != 1):
        raise UsageError("-o - writes one format to stdout; choose one with --format")
    problem = problem_of(args)
    network = args.wrt != "z"
    if (args.inputs, args.hidden, args.units) != (None, None, None) and not network:
        raise UsageError("--inputs, --hidden and --units need --wrt W, b, x (or h, V, c): the output layer's own "
                         "derivation has no network below it")
    if args.second and (network or args.hidden is not None):
        raise UsageError("--second needs --wrt z (the default) and no --hidden: it differentiates dE/dz_k by z_l")
    roles = network_roles(network, args.hidden) + (SECOND_ROLES if args.second else ())
    notation = notation_for(args.notation, args.reduction, roles, **dict(args.symbols))
    if "pdf" in args.formats:
        pdf_command("derivation.tex")  # fail early, before deriving, when pdflatex is missing
    options = render.RenderOptions(args.heading, args.label_prefix, args.pause, args.check_note)
    if args.second:
        from derive.cli.second import derive_second_certified  # only --second needs it

        derivation = derive_second_certified(problem, notation, args.detail, args.templates, options)
        slug = derivation.slug
    elif network:
        from derive.cli.network import derive_network_certified, hidden_argument  # only --wrt W|b|x needs it

        hidden = hidden_argument(args)
        derivation = derive_network_certified(problem, args.wrt, args.inputs, notation, args.detail,
                                              args.templates, hidden, options)
        slug = derivation.slug
    else:
        derivation = derive_certified(problem, notation, args.detail, args.templates, options)
        slug = problem.slug
    slides_too = {"beamer", "pdf"} <= set(args.formats)  # --format beamer,pdf compiles the slides
    formats = args.formats + (("beamer-pdf",) if slides_too else ())
    texts = {fmt: derivation.document(fmt) for fmt in formats}
    if args.output == "-":
        return ToStdout(next(iter(texts.values())))
    if args.output is not None and len(texts) == 1 and not Path(args.output).is_dir():
        return {Path(args.output): next(iter(texts.values()))}
    folder = DEFAULT_OUTPUT if args.output is None else Path(args.output)
    return {folder / f"{slug}.{EXTENSIONS[fmt]}": text for fmt, text in texts.items()}


def _main_job() -> Plan:
    problem = Problem()
    derivation = derive_certified(problem)
    return {DEFAULT_OUTPUT / file_name(problem, fmt): derivation.document(fmt) for fmt in MAIN_FORMATS}


def _plan(args) -> Plan:
    if args.command is None:
        return _main_job()
    if args.command == "pair":
        return _pair(args)
    if args.command == "check":
        from derive.cli import check as cli_check  # local: only check needs the claim checker

        return cli_check.run_check(args, problem_of(args))
    if args.command == "verify":
        from derive.cli import verify  # local: only verify reads trails back

        return verify.run_verify(args)
    if args.command == "list":
        return ToStdout(_rules() if args.rules else _list())
    return catalogue_documents(Path(args.output))


def _deliver(plan: Plan) -> list[Path] | int | None:
    if isinstance(plan, ToStdout):
        try:
            if isinstance(plan.content, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(plan.content)
            else:
                sys.stdout.write(plan.content)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(error) from None
        return plan.code
    if isinstance(plan, dict):
        return write_documents(plan)
    return plan


def run(argv: list[str]) -> list[Path] | int | None:
    """Compute everything within the time limit, then write it (a timeout never interrupts a write)."""
    args = parser().parse_args(argv)
    with time_limit(getattr(args, "timeout", DEFAULT_SECONDS)):
        plan = _plan(args)
    return _deliver(plan)


# what each expected failure means for the exit code, and how its one line starts
ERROR_EXITS = (
    ((UsageError, ParseError, ClaimError, UnknownName, UndefinedPair, ProblemError, NotationError, ToolMissing, OutputError,
      TemplateError), 2, ""),
    ((TimeLimit,), 2, ""),
    ((PdfError,), 2, "no PDF written: "),
    ((NoVerdict,), 3, "no verdict, "),
    ((CertificationError,), 1, "certification failed, nothing written: "),
    ((StepLimitError,), 1, "the derivation did not finish: "),
    ((OSError,), 2, "cannot write: "),
)
EXPECTED_ERRORS = tuple(kind for kinds, _, _ in ERROR_EXITS for kind in kinds)


def main(argv: list[str] | None = None) -> int:
    try:
        written = run(sys.argv[1:] if argv is None else argv)
        code = written if isinstance(written, int) else 0  # a report's own exit code (derive check, verify)
        _report(written)
    except BrokenPipeError:  # the reader closed the pipe early: it has what it wanted
        _discard_stdout()
        return 0
    except EXPECTED_ERRORS as error:
        code, prefix = next((code, prefix) for kinds, code, prefix in ERROR_EXITS if isinstance(error, kinds))
        print(f"derive: {prefix}{_describe(error)}", file=sys.stderr)
        return code
    except Exception as error:  # an engine bug: still one line, and nothing was written
        if os.environ.get("DERIVE_DEBUG"):
            raise
        print(f"derive: internal error ({type(error).__name__}: {error}); set DERIVE_DEBUG=1 for details", file=sys.stderr)
        return 1
    return code


def _describe(error: BaseException) -> str:
    """An error as the first line of its message (a file error as ``PATH: reason``)."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _report(written: list[Path] | int | None) -> None:
    """Print the paths written, and make sure whatever went to stdout got there.

    When files were written they are the result and their paths only information,
    so a closed or full stdout does not make the run fail; when stdout carries
    the result (``list``, ``-o -``, ``check``), failing to write it is an error.
    """
    try:
        for path in written if isinstance(written, list) else ():
            print(path)
        sys.stdout.flush()
    except BrokenPipeError:
        if not isinstance(written, list):
            raise
        _discard_stdout()
    except OSError as error:
        _discard_stdout()
        if not isinstance(written, list):
            raise OutputError(error) from None


def _discard_stdout() -> None:
    """Drop what stdout still holds, so that exiting does not try to write it again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):  # not a real file (a test's capture): nothing to drop
        pass
