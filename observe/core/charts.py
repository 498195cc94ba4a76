"""Drawing charts on the server as SVG with matplotlib, so a page and its PDF show the same
picture; the features draw their own charts with these (reports/charts.py,
calibration/charts.py). Each has a title and a text alternative; patterns, markers and printed
values carry the meaning as well as colour.

The pages' Content-Security-Policy allows no inline styles, so matplotlib's ``style``
attributes are rewritten as SVG presentation attributes (the same properties, allowed) and its
stylesheet element is dropped; ids are prefixed so several charts can share a page.
"""

from __future__ import annotations

import html
import io
import re
import textwrap
import threading
import unicodedata
from functools import cache
from typing import Any

from markupsafe import Markup

from observe.core import formatting


@cache
def pyplot() -> Any:
    """matplotlib, set up once, on the first chart: not at start-up, where every worker and
    every ``observe`` command would pay for it."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: selectable, searchable, read aloud
            "svg.hashsalt": "observe",  # the same chart gives the same ids, run after run
            # Labels are the district's words (school names, attributes from the roster):
            # "$\\frac$" is a name, not TeX for mathtext to parse (and fail on).
            "text.parse_math": False,
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def percent_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    # The reader's way ("40%", "40 %" in Spanish); the ticks are whole percentages.
    axis.set_major_formatter(FuncFormatter(lambda value, _position: formatting.percent(value)))


# Dark enough to read on white, told apart by pattern and marker too.
LEVEL_COLOURS = ["#a4161a", "#e09f3e", "#6c9a8b", "#1d4e89", "#5b3a8e", "#444444"]
HATCHES = ["xx", "//", "..", "", "\\\\", "++"]
MARKERS = ["o", "s", "^", "D", "v", "P"]
# Behind a printed value, so a target line running through it never strikes it out.
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "pad": 1}


def svg_markup(figure: Any, name: str, title: str, description: str) -> Markup:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot().close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)  # matplotlib repeats each label in one
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    # Inside tags only: a label's text (a school named 'style="x"') is left as it is.
    svg = re.sub(r"<[^<>]+>", lambda tag: _tag(tag.group(), name), svg)
    return _labelled(svg, name, title, description)


def _labelled(svg: str, name: str, title: str, description: str) -> Markup:
    """The chart named for assistive technology: its title and text alternative."""
    accessible = f'<svg role="img" aria-labelledby="{name}-title {name}-desc" class="chart" '
    svg = svg.replace("<svg ", accessible, 1)
    head = (
        f'<title id="{name}-title">{html.escape(title)}</title>'
        f'<desc id="{name}-desc">{html.escape(description)}</desc>'
    )
    svg = re.sub(r"(<svg[^>]*>)", r"\1" + head.replace("\\", "\\\\"), svg, count=1)
    return Markup(svg)  # built here from our own figures; text in it is escaped


def svg_drawn(name: str, title: str, description: str, size: tuple[float, float],
              body: list[str]) -> Markup:  # fmt: skip
    """A chart drawn here element by element rather than by matplotlib (``body``: SVG
    elements with presentation attributes only and their text escaped, in points on a canvas
    of ``size``), titled and described as the others are."""
    width, height = (f"{value:.1f}" for value in size)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}pt" height="{height}pt" '
        f'viewBox="0 0 {width} {height}" version="1.1"><g font-family="{FONT}">'
        + "".join(body)
        + "</g></svg>"
    )
    return _labelled(svg, name, title, description)


def text(x: float, y: float, words: str, size: float, **attributes: str) -> str:
    """One line of text at baseline ``y`` (``anchor``: start, middle or end), escaped."""
    extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attributes.items())
    shown = html.escape(words, quote=False)  # text content: quotes stay as written
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}"{extra}>{shown}</text>'


# The charts' font, as matplotlib draws it (its own copy) and pages and WeasyPrint show it.
FONT = "DejaVu Sans"
_ADVANCES: dict[str, float] = {}
_ADVANCES_LOCK = threading.Lock()


@cache
def _font() -> Any:
    from matplotlib import font_manager, ft2font

    font = ft2font.FT2Font(font_manager.findfont(font_manager.FontProperties(family=FONT)))
    font.set_size(1000, 72)  # a point is a pixel; at 1000 points the advances are exact enough
    return font


def text_width(words: str, size: float) -> float:
    """How wide ``words`` are drawn at ``size`` points, in points: the sum of the glyphs'
    advances (kerning aside, a fraction of a point on a label). A character the font lacks
    (an emoji, a Korean or Chinese name) is drawn from another font: counted as an em if it
    is a wide one, else six tenths of one."""
    missing = set(words) - _ADVANCES.keys()
    if missing:
        from matplotlib.ft2font import LoadFlags

        with _ADVANCES_LOCK:
            font = _font()
            for character in missing:
                if font.get_char_index(ord(character)) == 0:
                    wide = unicodedata.east_asian_width(character) in ("W", "F")
                    _ADVANCES[character] = 1.0 if wide else 0.6
                    continue
                glyph = font.load_char(ord(character), flags=LoadFlags.NO_HINTING)
                _ADVANCES[character] = glyph.linearHoriAdvance / 65536 / 1000
    return size * sum(_ADVANCES[character] for character in words)


def fit(words: str, size: float, width: float) -> list[str]:
    """``words`` on as many lines as keep each within ``width`` points at ``size``; a word
    wider than a line is split over lines (never cut short)."""
    lines: list[str] = []
    for word in words.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        while len(word) > 1 and text_width(word, size) > width:
            head = 1  # at least a character a line, however narrow the line
            while head < len(word) and text_width(word[: head + 1], size) <= width:
                head += 1
            lines.append(word[:head])
            word = word[head:]
        lines.append(word)
    return lines or [words]


def _tag(tag: str, name: str) -> str:
    """One SVG tag with its styles as attributes and its ids prefixed by ``name``."""
    tag = re.sub(r'style="([^"]*)"', _attributes, tag)
    tag = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', tag)
    tag = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", tag)
    return re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{name}-\1"', tag)


def _attributes(match: re.Match[str]) -> str:
    pairs = [part.split(":", 1) for part in match.group(1).split(";") if ":" in part]
    return " ".join(f'{key.strip()}="{html.escape(value.strip())}"' for key, value in pairs)


def wrap(text: str, width: int) -> str:
    """A label on as many lines of at most ``width`` characters as it needs, whole: a chart
    never cuts the district's words short (a word longer than a line is split, not dropped)."""
    return textwrap.fill(" ".join(text.split()), width) or text


def percent(share: float | None) -> str:
    """A share as the reader writes it ("42%", "42 %" in Spanish); "—" for none."""
    return "—" if share is None else formatting.percent(share)
