"""The arithmetic behind every figure: plain functions on counts, no database.

Percentages are on 0-100. A figure over no answers is None, never 0: "no data" is not "0 %".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Z_95 = 1.959963984540054  # two-sided 95 %
SMALL_SAMPLE = 30  # below this many answers a figure is flagged, not hidden


def percent(part: int, whole: int) -> float | None:
    """part / whole × 100; None when whole is 0."""
    return None if whole <= 0 else 100.0 * part / whole


def csat(satisfied: int, n: int) -> float | None:
    """CSAT % = satisfied answers / all answers × 100 (seed 001: 70 of 100 → 70.0)."""
    return percent(satisfied, n)


def mean_score(counts: Mapping[int, int]) -> float | None:
    """The average score in the scale's own units ({score: answers}); None without answers.

    A reversed scale keeps its numbers (on German grades a lower mean is better): the question's
    `reversed` flag says how to read it, the mean itself is not flipped.
    """
    n = sum(counts.values())
    if n <= 0:
        return None
    return sum(score * count for score, count in counts.items()) / n


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """Wilson score interval for successes / n, as percentages; (None, None) when n is 0."""
    if n <= 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return 100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)


def is_small_sample(n: int, threshold: int = SMALL_SAMPLE) -> bool:
    return n < threshold


@dataclass(frozen=True)
class Proportion:
    """A CSAT-like share with everything the cards and charts show."""

    n: int
    satisfied: int
    csat: float | None
    ci_low: float | None
    ci_high: float | None
    small_sample: bool


def proportion(satisfied: int, n: int) -> Proportion:
    low, high = wilson_interval(satisfied, n)
    return Proportion(n, satisfied, csat(satisfied, n), low, high, is_small_sample(n))


@dataclass(frozen=True)
class Nps:
    n: int
    promoters: int
    passives: int
    detractors: int
    score: float | None  # % promoters − % detractors, −100 to 100


def nps(counts: Mapping[int, int]) -> Nps:
    """Net Promoter Score on 0-10: % promoters (9-10) minus % detractors (0-6)."""
    n = sum(counts.values())
    promoters = sum(c for s, c in counts.items() if s >= 9)
    detractors = sum(c for s, c in counts.items() if s <= 6)
    score = None if n == 0 else 100.0 * (promoters - detractors) / n
    return Nps(n, promoters, n - promoters - detractors, detractors, score)


@dataclass(frozen=True)
class Ces:
    n: int
    mean: float | None  # in the scale's units
    easy: int  # answers in the question's satisfied ("easy") set
    easy_percent: float | None


def ces(counts: Mapping[int, int], easy_scores: Iterable[int]) -> Ces:
    """Customer Effort Score: the mean effort score and the share of "easy" answers."""
    easy_set = set(easy_scores)
    n = sum(counts.values())
    easy = sum(c for s, c in counts.items() if s in easy_set)
    return Ces(n, mean_score(counts), easy, percent(easy, n))


@dataclass(frozen=True)
class Comparison:
    change: float | None  # in percentage points, current − previous
    z: float | None
    p_value: float | None
    significant: bool


def two_proportion_test(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05) -> Comparison:
    """Pooled two-proportion z-test of x1/n1 (current) against x2/n2 (previous), two-sided."""
    if n1 <= 0 or n2 <= 0:
        return Comparison(None, None, None, False)
    p1, p2 = x1 / n1, x2 / n2
    change = 100.0 * (p1 - p2)
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return Comparison(change, None, None, False)
    z = (p1 - p2) / math.sqrt(variance)
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return Comparison(change, z, p_value, p_value < alpha)


def is_satisfied(score: int, satisfied_scores: Iterable[int]) -> bool:
    """Whether one answer counts as satisfied (the question's own set, see surveys.scales)."""
    return score in set(satisfied_scores)
