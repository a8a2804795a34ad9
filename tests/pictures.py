"""Pictures for the README: one page of the flagship's article and one of its slides, as PNG.

    python3 tests/pictures.py [--out output/pictures] [--page N] [--slide N]

Not a test (pytest collects only ``test_*.py``).  It runs ``derive pair softmax cross-entropy`` for the
article and the Beamer slides into a temporary folder, compiles the slides with pdflatex (the article
comes from ``--format pdf``), and converts the chosen pages with ``pdftoppm -r 80 -png``.  Needs
pdflatex (TeX Live with ``cancel.sty`` and beamer) and pdftoppm (poppler-utils).  The same checkout
gives the same pictures: pdftoppm's PNG has no time stamp, and only the PDFs' dates differ.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PAIR = ("softmax", "cross-entropy")
STEM = "-".join(PAIR)


def derive(folder: Path, *arguments: str) -> None:
    environment = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-m", "derive", "pair", *PAIR, *arguments, "-o", str(folder)],
                   check=True, env=environment, cwd=folder, stdout=subprocess.DEVNULL)


def pdflatex(source: Path) -> Path:
    for _ in range(2):  # twice, for the frame and page references
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", source.name],
                       check=True, cwd=source.parent, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return source.with_suffix(".pdf")


def picture(pdf: Path, page: int, destination: Path) -> None:
    stem = destination.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(stem)],
                   check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "output" / "pictures")
    parser.add_argument("--page", type=int, default=2, help="the article's page (default 2)")
    parser.add_argument("--slide", type=int, default=4, help="the slide (default 4)")
    args = parser.parse_args()
    for tool in ("pdflatex", "pdftoppm"):
        if shutil.which(tool) is None:
            print(f"pictures: {tool} is not installed (TeX Live and poppler-utils)", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        derive(folder, "--format", "pdf,beamer")
        picture(folder / f"{STEM}.pdf", args.page, args.out / "article-page.png")
        picture(pdflatex(folder / f"{STEM}.beamer.tex"), args.slide, args.out / "slide.png")
    print(args.out / "article-page.png")
    print(args.out / "slide.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
