"""The command line: ``derive``, ``derive pair``, ``derive catalogue``.

``main(argv)`` is testable without a subprocess.  Exit codes: 0 success,
1 certification failure (nothing is written), 2 bad usage or input.  Every
error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from derive.catalog import ACTIVATIONS, LOSSES, UndefinedPair, UnknownName
from derive.certify import CertificationError
from derive.files import write_all
from derive.notation import NotationError
from derive.pipeline import FORMATS, catalogue_documents, derive_certified, file_name
from derive.problem import MAX_CLASSES, Problem, ProblemError
from derive.strategy import StepLimitError

DEFAULT_OUTPUT = Path("output")
MAIN_FORMATS = ("md", "tex")


class UsageError(Exception):
    """Bad command-line usage or input: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise UsageError(message)


def _classes(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise UsageError(f"--H expects a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_CLASSES:
        raise UsageError(f"--H must be between 1 and {MAX_CLASSES}, got {value}")
    return value


def _formats(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [fmt for fmt in chosen if fmt not in FORMATS]
    if unknown or not chosen:
        raise UsageError(f"unknown format {unknown[0] if unknown else text!r}; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(chosen))


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="derive", description="Certified step-by-step gradient derivations.")
    commands = top.add_subparsers(dest="command", parser_class=_Parser)
    pair = commands.add_parser("pair", help="derive dE/dz_k for an activation and a loss")
    pair.add_argument("activation", help=f"one of: {', '.join(sorted(ACTIVATIONS))}")
    pair.add_argument("loss", help=f"one of: {', '.join(sorted(LOSSES))}")
    pair.add_argument("--H", dest="classes", type=_classes, default=None, help="a concrete number of classes")
    pair.add_argument("--format", dest="formats", type=_formats, default=MAIN_FORMATS, help="md, tex, json (comma-separated)")
    pair.add_argument("-o", dest="output", default=None, help="file, folder (several formats) or - for stdout")
    shipped = commands.add_parser("catalogue", help="write every document the project ships")
    shipped.add_argument("-o", dest="output", required=True, help="the folder to write into")
    return top


def _pair(args) -> list[Path] | None:
    problem = Problem(args.activation, args.loss, args.classes)
    derivation = derive_certified(problem)
    texts = {fmt: derivation.document(fmt) for fmt in args.formats}
    if args.output == "-":
        if len(texts) != 1:
            raise UsageError("-o - writes one format to stdout; choose one with --format")
        sys.stdout.write(next(iter(texts.values())))
        return None
    if args.output is not None and len(texts) == 1:
        return write_all({Path(args.output): next(iter(texts.values()))})
    folder = DEFAULT_OUTPUT if args.output is None else Path(args.output)
    return write_all({folder / file_name(problem, fmt): text for fmt, text in texts.items()})


def _catalogue(folder: Path) -> list[Path]:
    return write_all(catalogue_documents(folder))


def _main_job() -> list[Path]:
    problem = Problem()
    derivation = derive_certified(problem)
    return write_all({DEFAULT_OUTPUT / file_name(problem, fmt): derivation.document(fmt) for fmt in MAIN_FORMATS})


def run(argv: list[str]) -> list[Path] | None:
    args = parser().parse_args(argv)
    if args.command is None:
        return _main_job()
    if args.command == "pair":
        return _pair(args)
    return _catalogue(Path(args.output))


def main(argv: list[str] | None = None) -> int:
    try:
        written = run(sys.argv[1:] if argv is None else argv)
    except (UsageError, UnknownName, UndefinedPair, ProblemError, NotationError) as error:
        print(f"derive: {error}", file=sys.stderr)
        return 2
    except CertificationError as error:
        print(f"derive: certification failed, nothing written: {error}", file=sys.stderr)
        return 1
    except StepLimitError as error:
        print(f"derive: the derivation did not finish: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"derive: cannot write: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # an engine bug: still one line, and nothing was written
        if os.environ.get("DERIVE_DEBUG"):
            raise
        print(f"derive: internal error ({type(error).__name__}: {error}); set DERIVE_DEBUG=1 for details", file=sys.stderr)
        return 1
    for path in written or ():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
