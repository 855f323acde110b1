"""Drawings of the computation flow, as `rasp draw` makes them."""

from __future__ import annotations

import os

from .errors import RaspInputError


class Drawing:
    """The layers and heads computing an s-op, with the values on one input.

    Shows itself in Jupyter (``_repr_html_``, ``_repr_svg_``); ``svg`` and
    ``html`` hold the documents; :meth:`save` writes either.
    """

    def __init__(self, title: str, svg: str, html: str):
        self.title = title
        self.svg = svg
        self.html = html

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<rasp.Drawing {self.title!r}>"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the drawing to ``path``: SVG for ``.svg``, a standalone
        page for ``.html`` or ``.htm``."""
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix == ".svg":
            text = self.svg
        elif suffix in (".html", ".htm"):
            text = self.html
        else:
            raise RaspInputError(
                f"cannot tell the format of {os.fspath(path)!r}: name it .svg or .html"
            )
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
