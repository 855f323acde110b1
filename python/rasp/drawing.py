"""Drawings of the computation flow, as `rasp draw` makes them."""

from __future__ import annotations

import html
import os
import re

from .errors import RaspInputError


class Drawing:
    """The layers and heads computing an s-op, with the values on one input.

    Shows itself in Jupyter (``_repr_html_``: the interactive page, with
    details on hover, in a frame; ``_repr_svg_``: the picture); ``svg`` and
    ``html`` hold the documents; :meth:`save` writes either.
    """

    def __init__(self, title: str, svg: str, html: str):
        self.title = title
        self.svg = svg
        self.html = html

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        # The page has its own styles and script; in a frame they cannot
        # restyle the notebook around it.
        width, height = self._size()
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'width="{width + 64}" height="{height + 64}" style="border: 0" '
            f'title="{html.escape(self.title, quote=True)}"></iframe>'
        )

    def _size(self) -> tuple:
        """The picture's width and height in pixels, from the SVG."""
        found = re.search(r'<svg\b[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', self.svg)
        if found is None:
            return (800, 600)
        return (int(float(found.group(1))), int(float(found.group(2))))

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
