"""The text of a user expression checked and parsed into a Python syntax tree; nothing is run.

Printable ASCII only (look-alike Unicode letters and control characters are refused), no ``#``,
at most ``MAX_LENGTH`` characters, ``MAX_NODES`` tree nodes and ``MAX_DEPTH`` levels.  The tree is
walked against the whitelist by :mod:`derive.parse`.
"""

from __future__ import annotations

import ast
import warnings

from derive.syntax import ParseError

MAX_LENGTH = 2000          # characters of text
MAX_NODES = 500            # syntax-tree nodes (names, numbers, operations, calls, ...)
MAX_DEPTH = 60             # nesting levels of the syntax tree
_NOT_COUNTED = (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


def syntax_tree(text: str) -> tuple[ast.expr, int]:
    """Check the raw text, parse it (nothing is run) and check the tree's size; return (body, indent)."""
    if len(text) > MAX_LENGTH:
        raise ParseError(f"expression too long: {len(text)} characters (at most {MAX_LENGTH})")
    for column, char in enumerate(text, start=1):
        if not " " <= char <= "~":
            raise ParseError(f"character U+{ord(char):04X} is not allowed at column {column} "
                             f"(only printable ASCII)")
        if char == "#":  # Python would read the rest as a comment and drop it silently
            raise ParseError(f"character '#' is not allowed at column {column}")
    stripped = text.strip(" ")
    if not stripped:
        raise ParseError("empty expression")
    lead = len(text) - len(text.lstrip(" "))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning ("is" with a literal, ...) must not reach stderr
            tree = ast.parse(stripped, mode="eval")
    except (RecursionError, MemoryError, OverflowError):
        raise ParseError("expression nested too deeply") from None
    except SyntaxError as error:
        message = one_line(error.msg or "invalid syntax")
        if "nested" in message or "too complex" in message or "too many" in message:
            raise ParseError("expression nested too deeply") from None
        where = f" at column {error.offset + lead}" if error.offset else ""
        detail = "" if message == "invalid syntax" else f": {message}"
        raise ParseError(f"invalid syntax{where}{detail}") from None
    except ValueError as error:
        raise ParseError(f"invalid expression: {one_line(str(error))}") from None
    check_size(tree.body)
    return tree.body, lead


def check_size(body: ast.expr) -> None:
    """Count nodes and measure depth without recursion, so no tree can exhaust the stack."""
    count = 0
    stack = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ParseError(f"expression too large: more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise ParseError(f"expression nested too deeply: more than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, _NOT_COUNTED))


def one_line(message: str) -> str:
    return " ".join(message.split())
