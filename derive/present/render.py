"""Rendering: a Jinja2 environment built by a factory, and one small function per format.

All prose lives in ``templates/``.  A user's template folder, when given, is
searched first, so any template can be overridden.  Every template (Markdown and
LaTeX alike) uses LaTeX-safe delimiters: ``((* block *))``, ``((( value )))`` and
``((= comment =))``, so ``\\frac{{a}}{b}`` can never be eaten by Jinja.

Templates run in Jinja2's immutable sandbox: a template (a user's included) can
read the values it is given and call the filters, but cannot reach Python's
internals (attributes starting with ``_``, functions' globals), change a value,
or touch a file outside the template folders.  A template that fails, to compile
or while rendering, raises ``TemplateError`` naming its file and line.

Each text format has one top template, ``derivation.<format>.j2``.  Templates see
``format`` (the format asked for) and ``fmt``, its markup family (``md`` or
``tex``), which picks the partials shared by the LaTeX formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateSyntaxError, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from derive import __version__
from derive.present.document import DocumentView
from derive.present.inline_math import inline_fractions
from derive.present.template_filters import FILTERS, tex_text

# format -> the markup family whose partials it shares
FORMAT_FAMILY = {"md": "md", "tex": "tex", "tex-fragment": "tex", "beamer": "tex"}
TEXT_FORMATS = tuple(FORMAT_FAMILY)

# the width (pt, at 10 pt type) a display line may take: a two-column host's column for the fragment
BUDGETS = {"md": 520.0, "tex": 420.0, "tex-fragment": 176.0, "beamer": 330.0}
HEADINGS = ("section", "subsection", "subsubsection", "none")

__all__ = [
    "BUDGETS", "FORMAT_FAMILY", "HEADINGS", "RenderOptions", "TEXT_FORMATS", "TemplateError", "builtin_templates",
    "environment", "index", "render", "tex_text",
]


class TemplateError(Exception):
    """A template could not be compiled or rendered; the message names its file and line."""


def _located(error: Exception) -> TemplateError:
    """``error`` as one line naming the template file and line where it happened."""
    where = None
    if isinstance(error, TemplateSyntaxError):
        where = (error.filename or error.name, error.lineno)
    else:
        trace = error.__traceback__
        while trace is not None:  # the innermost frame that runs a template
            name = trace.tb_frame.f_code.co_filename
            if name.endswith(".j2") or "/templates/" in name:
                where = (name, trace.tb_lineno)
            trace = trace.tb_next
    message = (getattr(error, "message", None) or str(error) or type(error).__name__).splitlines()[0]
    if where is None:
        return TemplateError(f"template error: {message}")
    return TemplateError(f"template {where[0]}, line {where[1]}: {message}")


def builtin_templates() -> Path:
    """Installed wheels carry ``derive/templates``; a checkout keeps them at the top level."""
    packaged = Path(str(resources.files("derive"))) / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class RenderOptions:
    """How a document fits where it goes: the fragment's heading and label prefix, slides' pauses, the checking note."""

    heading: str = "subsection"  # the fragment's heading: section | subsection | subsubsection | none
    label_prefix: str | None = None  # \\label{PREFIX:...}; None: the pair's slug
    pause: bool = True  # slides reveal a chain line by line
    check_note: bool = True  # the closing note on how the steps were checked


@pass_context
def explain(context, step) -> str:
    """The prose that says why ``step``'s rule applies (``rules/<rule-id>.j2``)."""
    template = context.environment.get_template(f"rules/{step.rule}.j2")
    doc = context["doc"]
    symbols = step.symbols or doc.symbols  # a step about another variable than Z_k (past the output layer) says which
    return template.render(
        s=step, n=symbols, doc=doc, fmt=context.get("fmt"), format=context.get("format"),
        label_prefix=context.get("label_prefix"),
    ).strip()


def environment(user_templates: Path | None = None) -> Environment:
    folders = ([str(user_templates)] if user_templates else []) + [str(builtin_templates())]
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.globals["explain"] = explain
    env.globals["version"] = __version__
    return env


def _rendered(env: Environment, name: str, **context) -> str:
    """Render a template in the sandbox; any failure inside a template becomes one located ``TemplateError``."""
    try:
        return env.get_template(name).render(**context)
    except Exception as error:  # noqa: BLE001 - a template may fail in any way; say where
        raise _located(error) from error


def render(env: Environment, fmt: str, doc: DocumentView, options: RenderOptions = RenderOptions()) -> str:
    return _tidy(inline_fractions(_rendered(
        env, f"derivation.{fmt}.j2", doc=doc, n=doc.symbols, fmt=FORMAT_FAMILY[fmt], format=fmt,
        label_prefix=options.label_prefix or doc.slug or "derive", heading=options.heading, pause=options.pause,
        check_note=options.check_note, budget=BUDGETS[fmt],
    )))


def _tidy(text: str) -> str:
    """Templates may leave runs of blank lines; keep at most one, and end with one newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def index(env: Environment, fmt: str, view) -> str:
    return _tidy(inline_fractions(_rendered(env, f"index.{fmt}.j2", index=view, n=view.symbols, fmt=fmt, format=fmt)))


def network(env: Environment, fmt: str, view, options: RenderOptions = RenderOptions()) -> str:
    """A network document (``--wrt W|b|x``): ``network.<format>.j2``."""
    return _tidy(inline_fractions(_rendered(
        env, f"network.{fmt}.j2", doc=view, n=view.symbols, fmt=FORMAT_FAMILY[fmt], format=fmt,
        label_prefix=options.label_prefix or view.slug or "derive", heading=options.heading, pause=options.pause,
        check_note=options.check_note, budget=BUDGETS[fmt],
    )))


def second(env: Environment, fmt: str, view, options: RenderOptions = RenderOptions()) -> str:
    """A second-derivative document (``--second``): ``second.<format>.j2``, with ``doc`` the derivation's view
    (its chains) and ``second`` what only a second derivative has."""
    doc = view.doc
    return _tidy(inline_fractions(_rendered(
        env, f"second.{fmt}.j2", doc=doc, second=view, n=doc.symbols, fmt=FORMAT_FAMILY[fmt], format=fmt,
        label_prefix=options.label_prefix or doc.slug or "derive", heading=options.heading, pause=options.pause,
        check_note=options.check_note, budget=BUDGETS[fmt],
    )))
