"""Expressions printed in the user-expression syntax (``exp(z[i])/sum(exp(z[j]), j)``).

This is what ``derive list`` shows, so that a catalogue formula can be copied,
edited and passed back with ``--activation`` or ``--loss``.  Reading that syntax
is :mod:`derive.parse`'s job; its error lives here so that the command line can
name it without loading the parser.
"""

from __future__ import annotations

from sympy import Basic
from sympy.printing.str import StrPrinter

from derive.symbols import CLASSES


class ParseError(ValueError):
    """User text that is not an expression of the requested kind.  The message is one line."""


class _UserSyntaxPrinter(StrPrinter):
    def _print_Sum(self, expr):
        (index, lower, upper), = expr.limits
        if lower == 1 and upper == CLASSES:
            return f"sum({self._print(expr.function)}, {self._print(index)})"
        return super()._print_Sum(expr)

    def _print_Indexed(self, expr):
        return f"{self._print(expr.base.label)}[{', '.join(self._print(i) for i in expr.indices)}]"


def user_syntax(expr: Basic) -> str:
    return _UserSyntaxPrinter().doprint(expr)
