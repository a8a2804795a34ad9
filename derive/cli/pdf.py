"""PDF documents: a derivation's article (``pdf``) or slides (``beamer-pdf``), compiled by LaTeX.

LaTeX runs in a temporary folder, with no shell escape and a fixed date, so the same source gives the same PDF.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PDF_SOURCES = {"pdf": "tex", "beamer-pdf": "beamer"}  # each PDF format, and the text format it is compiled from
LATEX_TIMEOUT_S = 300
PDF_EPOCH = "1700000000"  # a fixed date for the PDF's metadata, so a PDF is the same on every run


class ToolMissing(RuntimeError):
    """A program a format needs (pdflatex) is not installed."""


class PdfError(RuntimeError):
    """LaTeX ran but did not produce a PDF."""


def pdf_command(source: str) -> list[list[str]]:
    """The commands that turn ``source`` into a PDF: latexmk when installed, else pdflatex twice."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise ToolMissing(
            "--format pdf needs pdflatex on PATH (install TeX Live; latexmk is used too when present), and it was not found"
        )
    flags = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
    latexmk = shutil.which("latexmk")
    if latexmk is not None:
        return [[latexmk, "-pdf", "-quiet", f"-pdflatex={pdflatex} %O %S", *flags, source]]
    return [[pdflatex, *flags, source]] * 2


def _typesettable(tex: str) -> None:
    """Refuse, before LaTeX runs, a character pdflatex cannot set (T1 and utf8 input cover Latin-1)."""
    for char in tex:
        if ord(char) > 0xFF or (ord(char) < 0x20 and char not in "\n\t") or 0x7F <= ord(char) < 0xA0:
            raise PdfError(f"cannot typeset character U+{ord(char):04X} in a PDF (only Latin-1 letters and signs); "
                           "use --format tex and a Unicode engine such as xelatex")


def build_pdf(tex: str) -> bytes:
    """Compile a standalone LaTeX document in a temporary folder and return the PDF."""
    _typesettable(tex)
    with tempfile.TemporaryDirectory(prefix="derive-pdf-") as folder:
        work = Path(folder)
        (work / "derivation.tex").write_text(tex, encoding="utf-8")
        env = dict(os.environ, SOURCE_DATE_EPOCH=PDF_EPOCH, FORCE_SOURCE_DATE="1")
        for command in pdf_command("derivation.tex"):
            try:
                done = subprocess.run(
                    command, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=LATEX_TIMEOUT_S
                )
            except subprocess.TimeoutExpired:
                raise PdfError(f"LaTeX did not finish within {LATEX_TIMEOUT_S} s") from None
            if done.returncode != 0:
                raise PdfError(f"LaTeX failed: {_first_error(work / 'derivation.log')}")
        pdf = work / "derivation.pdf"
        if not pdf.is_file():
            raise PdfError("LaTeX wrote no PDF")
        return pdf.read_bytes()


def _first_error(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return next((line[2:].strip() for line in lines if line.startswith("! ")), "see the LaTeX log")
