"""The accent colour: its form (#rrggbb) and whether white text on it is readable (WCAG AA)."""

from __future__ import annotations

import math
import re

from django.utils.formats import number_format

HEX = re.compile(r"#[0-9a-fA-F]{6}")
MIN_CONTRAST = 4.5  # WCAG 2.x AA for normal text: white button labels on the accent


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    """WCAG relative luminance of `#rrggbb`."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_with_white(color: str) -> float:
    return 1.05 / (luminance(color) + 0.05)


def white_text_readable(color: str) -> bool:
    """Whether an accent colour is accepted: white button text on it reaches MIN_CONTRAST."""
    return contrast_with_white(color) >= MIN_CONTRAST


def shown_ratio(ratio: float) -> str:
    """The ratio as the reader writes numbers (4.47, 4,47), rounded down: 4.499 is not 4.50."""
    return number_format(math.floor(ratio * 100) / 100, 2)


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def mix(color: str, other: str, weight: float) -> str:
    """`weight` of `color` and the rest of `other`, as #rrggbb."""
    a, b = _rgb(color), _rgb(other)
    return "#" + "".join(
        f"{round(x * weight + y * (1 - weight)):02x}" for x, y in zip(a, b, strict=True)
    )


def contrast(color: str, background: str) -> float:
    light, dark = sorted((luminance(color), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_on(color: str, backgrounds: tuple[str, ...]) -> str:
    """`color`, darkened just enough to reach MIN_CONTRAST as text on each of `backgrounds`."""
    shade = color
    for step in range(21):
        shade = mix(color, "#000000", 1 - step / 20)
        if all(contrast(shade, bg) >= MIN_CONTRAST for bg in backgrounds):
            break
    return shade


def theme_css(accent: str) -> str:
    """The customer's pages' colour variables (static/css/public.css) for an accent colour."""
    soft, selected = mix(accent, "#ffffff", 0.08), mix(accent, "#ffffff", 0.14)
    variables = {
        "--brand": accent,
        "--brand-ink": "#fff",
        "--brand-hover": mix(accent, "#000000", 0.8),
        "--brand-soft": soft,
        "--brand-soft-2": selected,
        "--brand-line": mix(accent, "#ffffff", 0.5),
        # Text in the accent sits on the page, on white and on the tints above.
        "--brand-text": readable_on(accent, ("#ffffff", "#f4f5f9", soft, selected)),
    }
    return ":root{" + ";".join(f"{k}:{v}" for k, v in variables.items()) + "}\n"
