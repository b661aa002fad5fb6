"""How a person's strings reach the generated file: as data, never as code. A string becomes a
literal through ast.unparse (docstrings) or repr(); a name used as code (a layer attribute, a
keyword argument) must be a plain ASCII identifier, else it is refused or left out."""
from __future__ import annotations

import ast
import keyword
import re

from ..errors import ExportError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_identifier(name) -> bool:
    """A plain ASCII Python name that is not a keyword (fullmatch: "$" would let a newline through)."""
    return isinstance(name, str) and _IDENTIFIER.fullmatch(name) is not None and not keyword.iskeyword(name)


def ident(name, what: str) -> str:
    """`name` for use as code, or ExportError saying which name cannot be."""
    if not is_identifier(name):
        raise ExportError(f"code: {what} {name!r} is not a plain Python name (letters, digits and '_'), so it "
                          "cannot name anything in the generated file; rename it")
    return name


def docstring(text: str, indent: str = "") -> str:
    """A docstring holding `text` (quotes, backslashes, `\\N{` and all), indented. Lone surrogates
    are written as their escapes (\\ud800): a class cannot have them in its __doc__."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = re.sub(r"\n(?=.)", "\n" + indent, text) if indent else text  # blank lines stay empty
    source = ast.unparse(ast.Module([ast.Expr(ast.Constant(text))], []))
    if ast.literal_eval(source) != text:  # the literal must hold the text and nothing else
        raise RuntimeError(f"docstring literal does not round-trip: {source!r}")
    return indent + source


def string(value) -> str:
    """A str literal for any text (repr escapes quotes, newlines and surrogates)."""
    return repr(str(value))
