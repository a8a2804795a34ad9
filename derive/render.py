"""Rendering: a Jinja2 environment built by a factory, and one small function per format.

All prose lives in ``templates/``.  A user's template folder, when given, is
searched first, so any template can be overridden.  Every template (Markdown and
LaTeX alike) uses LaTeX-safe delimiters: ``((* block *))``, ``((( value )))`` and
``((= comment =))``, so ``\\frac{{a}}{b}`` can never be eaten by Jinja.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, pass_context

from derive import __version__
from derive.document import DocumentView

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}",
}


def tex_text(value: str) -> str:
    """Escape plain text (a name, a title) for LaTeX prose."""
    return "".join(_TEX_SPECIALS.get(char, char) for char in str(value))


def builtin_templates() -> Path:
    """Installed wheels carry ``derive/templates``; a checkout keeps them at the top level."""
    packaged = Path(str(resources.files("derive"))) / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "templates"


@pass_context
def explain(context, step) -> str:
    """The prose that says why ``step``'s rule applies (``rules/<rule-id>.j2``)."""
    template = context.environment.get_template(f"rules/{step.rule}.j2")
    return template.render(s=step, n=context["doc"].notation, doc=context["doc"]).strip()


def environment(user_templates: Path | None = None) -> Environment:
    folders = ([str(user_templates)] if user_templates else []) + [str(builtin_templates())]
    env = Environment(
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
    env.filters["tex_text"] = tex_text
    env.globals["explain"] = explain
    env.globals["version"] = __version__
    return env


def render(env: Environment, fmt: str, doc: DocumentView) -> str:
    text = env.get_template(f"derivation.{fmt}.j2").render(doc=doc, n=doc.notation, fmt=fmt)
    return _tidy(text)


def _tidy(text: str) -> str:
    """Templates may leave runs of blank lines; keep at most one, and end with one newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def index(env: Environment, fmt: str, view) -> str:
    return _tidy(env.get_template(f"index.{fmt}.j2").render(index=view, n=view.notation, fmt=fmt))


def markdown(env: Environment, doc: DocumentView) -> str:
    return render(env, "md", doc)


def latex(env: Environment, doc: DocumentView) -> str:
    return render(env, "tex", doc)
