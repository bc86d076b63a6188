"""Small pieces of the report's HTML: escaping, numbers, inline charts."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

__all__ = ["chart", "escape", "number"]


def escape(value: Any) -> str:
    """``value`` as text safe in HTML content and attributes."""
    return html.escape(str(value), quote=True)


def number(value: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals (whole numbers without), ``–`` when not finite."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return escape(value)
    if not np.isfinite(x):
        return "–"
    return f"{x:.{digits}f}" if not x.is_integer() or digits == 0 else f"{x:.0f}"


def chart(png: str, chart_id: str, alt: str) -> str:
    """An inline PNG chart with its id and alternative text."""
    return (
        f'<img class="chart" id="{chart_id}" alt="{escape(alt)}" src="data:image/png;base64,{png}">'
    )
