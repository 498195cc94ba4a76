"""Template filters for figures: shares as percentages and statistics with their undefined
case spelled out, never shown as 0 or NaN."""

from __future__ import annotations

from flask import Flask

UNDEFINED = "undefined"


def percent(share: float | None) -> str:
    return UNDEFINED if share is None else f"{share * 100:.0f}%"


def decimal(value: float | None, places: int = 2) -> str:
    if value is None:
        return UNDEFINED
    text = f"{value:.{places}f}"
    return text.replace("-", "\u2212")  # a real minus sign reads better in print


def signed(value: float | None, places: int = 2) -> str:
    if value is None:
        return UNDEFINED
    return ("+" if value > 0 else "") + decimal(value, places)


def register_filters(app: Flask) -> None:
    app.add_template_filter(percent)
    app.add_template_filter(decimal)
    app.add_template_filter(signed)
