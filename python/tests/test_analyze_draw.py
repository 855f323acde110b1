"""rasp.analyze (the JSON of `rasp analyze --json`) and rasp.draw."""

from __future__ import annotations

import html as htmllib
import re

import pytest

import rasp


def test_reverse_needs_two_layers_of_one_head(reverse_source):
    analysis = rasp.analyze(reverse_source, "reverse")
    assert analysis["sop"] == "reverse"
    assert analysis["layers"] == 2
    assert analysis["heads_per_layer"] == [1, 1]
    assert analysis["total_heads"] == 2
    # layer 0 is the embedding; the flip head is in layer 2
    details = analysis["layers_detail"]
    assert [layer["layer"] for layer in details] == [0, 1, 2]
    (flip,) = details[2]["heads"]
    assert flip["selector"] == "flip"
    assert [a["name"] for a in flip["aggregates"]] == ["reverse"]


def test_a_bos_makes_selector_width_one_head(histogram_source):
    # The reference counts the library's selector_width as two heads; with a
    # BOS it is one, the paper's count for the histogram.
    assert rasp.analyze(histogram_source, "hist")["heads_per_layer"] == [2]
    with_bos = rasp.analyze(histogram_source, "hist", bos="§")
    assert with_bos["heads_per_layer"] == [1] and with_bos["bos_selector_width"] is True
    assert rasp.analyze(histogram_source, "hist", bos=True)["heads_per_layer"] == [1]


def test_schedules(reverse_source):
    assert rasp.analyze(reverse_source, "reverse", schedule="best")["schedule"] == "best"
    with pytest.raises(rasp.RaspInputError, match="greedy"):
        rasp.analyze(reverse_source, "reverse", schedule="fastest")


def test_drawings_show_in_jupyter_and_save(reverse_source, tmp_path):
    drawing = rasp.draw(reverse_source, "reverse", "abc")
    assert drawing.title == 'reverse("abc")'
    svg, html = drawing.svg, drawing.html
    assert drawing._repr_svg_() == svg
    assert "<svg" in svg and svg.rstrip().endswith("</svg>") and "flip" in svg
    assert "<svg" in html and "<html" in html.lower()
    # in a notebook, the page goes in a frame sized to the picture, so its
    # styles stay inside
    framed = drawing._repr_html_()
    assert framed.startswith("<iframe srcdoc=") and "<style>" not in framed
    width = re.search(r'<svg[^>]*width="(\d+)"', svg).group(1)
    assert f'width="{int(width) + 64}"' in framed
    assert htmllib.unescape(re.search(r'srcdoc="([^"]*)"', framed).group(1)) == html
    drawing.save(tmp_path / "reverse.svg")
    drawing.save(str(tmp_path / "reverse.html"))
    assert (tmp_path / "reverse.svg").read_text(encoding="utf-8") == svg
    assert (tmp_path / "reverse.html").read_text(encoding="utf-8") == html
    with pytest.raises(rasp.RaspInputError, match=".svg or .html"):
        drawing.save(tmp_path / "reverse.pdf")


def test_drawing_a_list_input():
    drawing = rasp.draw("y = indices + 1;", "y", [3, 1, 2])
    assert "<svg" in drawing.svg
