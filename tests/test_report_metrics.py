"""The arithmetic of every figure, against the seeds' examples and hand-computed cases."""

import math
from datetime import date

import pytest

from reports import metrics, periods
from surveys import scales


def test_seed_001_seventy_of_a_hundred_satisfied_is_seventy_percent():
    assert metrics.csat(70, 100) == 70.0


def test_seed_004_150_positive_of_250_respondents_is_sixty_percent():
    assert metrics.csat(150, 250) == 60.0


def test_no_answers_is_no_figure_not_zero():
    assert metrics.csat(0, 0) is None
    assert metrics.mean_score({}) is None
    assert metrics.wilson_interval(0, 0) == (None, None)


def test_reversed_five_point_scale_counts_one_and_two_as_satisfied():
    satisfied = scales.default_satisfied("rating", "1-5", reversed=True)
    answers = [1] * 30 + [2] * 20 + [3] * 10 + [4] * 25 + [5] * 15
    n_satisfied = sum(metrics.is_satisfied(a, satisfied) for a in answers)
    assert n_satisfied == 50
    assert metrics.csat(n_satisfied, len(answers)) == 50.0
    # the mean stays in school-grade units: lower is better on this scale
    counts = {s: answers.count(s) for s in set(answers)}
    assert metrics.mean_score(counts) == pytest.approx(
        (30 * 1 + 20 * 2 + 10 * 3 + 25 * 4 + 15 * 5) / 100
    )


def test_eight_to_ten_count_as_satisfied_on_a_ten_point_scale():
    satisfied = scales.default_satisfied("rating", "1-10")
    answers = list(range(1, 11)) * 10  # 10 of each point
    n_satisfied = sum(metrics.is_satisfied(a, satisfied) for a in answers)
    assert metrics.csat(n_satisfied, len(answers)) == 30.0


def test_wilson_interval_matches_a_hand_computation():
    # p = 0.7, n = 100, z = 1.96: centre (0.7 + 0.019208) / 1.038416, half-width as below
    z = metrics.Z_95
    n, p = 100, 0.7
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    low, high = metrics.wilson_interval(70, 100)
    assert low == pytest.approx(100 * (centre - half))
    assert high == pytest.approx(100 * (centre + half))
    assert (round(low, 1), round(high, 1)) == (60.4, 78.1)


def test_wilson_interval_of_a_single_answer_is_wide_but_inside_0_100():
    low, high = metrics.wilson_interval(1, 1)
    assert (round(low, 1), high) == (20.7, 100.0)
    low, high = metrics.wilson_interval(0, 1)
    assert (low, round(high, 1)) == (0.0, 79.3)


def test_small_samples_are_flagged():
    assert metrics.proportion(1, 1).small_sample
    assert not metrics.proportion(20, 30).small_sample
    assert metrics.proportion(0, 0).csat is None


def test_nps_is_promoters_minus_detractors():
    # 5 promoters (9, 10), 3 passives (7, 8), 2 detractors (0-6) of 10: 50 % − 20 % = 30
    result = metrics.nps({10: 3, 9: 2, 8: 2, 7: 1, 6: 1, 0: 1})
    assert (result.promoters, result.passives, result.detractors, result.n) == (5, 3, 2, 10)
    assert result.score == pytest.approx(30.0)


def test_nps_of_no_answer_and_of_one_answer():
    assert metrics.nps({}).score is None
    assert metrics.nps({10: 1}).score == 100.0
    assert metrics.nps({3: 1}).score == -100.0
    assert metrics.nps({8: 1}).score == 0.0


def test_ces_is_the_mean_effort_and_the_share_of_easy_answers():
    # 1-7 scale, 6-7 easy: scores 7, 7, 6, 4, 1 → mean 5.0, 3 of 5 easy
    result = metrics.ces({7: 2, 6: 1, 4: 1, 1: 1}, [6, 7])
    assert result.mean == 5.0
    assert (result.easy, result.easy_percent) == (3, 60.0)
    assert metrics.ces({}, [6, 7]).mean is None
    assert metrics.ces({5: 1}, [6, 7]).easy_percent == 0.0


def test_two_proportion_test_separates_signal_from_noise():
    # 60 % of 1000 vs 50 % of 1000: z = 0.1 / sqrt(0.55 * 0.45 * 0.002) = 4.49
    result = metrics.two_proportion_test(600, 1000, 500, 1000)
    assert result.change == pytest.approx(10.0)
    assert result.z == pytest.approx(0.1 / math.sqrt(0.55 * 0.45 * 0.002))
    assert result.significant
    # 6 of 10 vs 5 of 10 is the same change, and noise
    small = metrics.two_proportion_test(6, 10, 5, 10)
    assert small.change == pytest.approx(10.0)
    assert not small.significant


def test_two_proportion_test_without_data_is_not_significant():
    assert metrics.two_proportion_test(0, 0, 5, 10).change is None
    assert not metrics.two_proportion_test(5, 5, 10, 10).significant  # both 100 %


def test_periods_are_days_iso_weeks_and_months():
    # 2026-03-04 is a Wednesday; its ISO week starts on Monday 2026-03-02
    assert periods.period_start(date(2026, 3, 4), "week") == date(2026, 3, 2)
    assert periods.period_start(date(2026, 3, 4), "month") == date(2026, 3, 1)
    assert periods.periods(date(2026, 1, 30), date(2026, 3, 2), "month") == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    assert periods.periods(date(2026, 3, 1), date(2026, 3, 9), "week") == [
        date(2026, 2, 23),
        date(2026, 3, 2),
        date(2026, 3, 9),
    ]
    assert len(periods.periods(date(2026, 1, 1), date(2026, 12, 31), "day")) == 365
    assert periods.count_periods(date(2026, 3, 1), date(2026, 3, 9), "week") == 3
    # the range before has the same number of days and ends the day before
    assert periods.previous_range(date(2026, 4, 1), date(2026, 4, 30)) == (
        date(2026, 3, 2),
        date(2026, 3, 31),
    )


def test_local_day_follows_the_site_time_zone(settings):
    from datetime import UTC, datetime

    settings.TIME_ZONE = "Europe/Berlin"
    # 23:30 UTC on 31 March is already 1 April in Berlin (summer time, UTC+2)
    assert periods.local_day(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == date(2026, 4, 1)
    lo, hi = periods.day_bounds(date(2026, 4, 1), date(2026, 4, 1))
    assert lo.astimezone(UTC) == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert (hi - lo).total_seconds() == 86400


def test_a_range_splits_into_whole_closed_months_and_the_days_around_them():
    from reports.periods import split_months

    closed = date(2026, 12, 1)
    assert split_months(
        date(2026, 1, 15), date(2026, 4, 2), months=True, closed_before=closed, skip=set()
    ) == (
        [date(2026, 2, 1), date(2026, 3, 1)],
        [(date(2026, 1, 15), date(2026, 1, 31)), (date(2026, 4, 1), date(2026, 4, 2))],
    )
    # a dirty month in the middle is read as days; an open month is never whole
    assert split_months(
        date(2026, 9, 1),
        date(2026, 12, 31),
        months=True,
        closed_before=closed,
        skip={date(2026, 10, 1)},
    ) == (
        [date(2026, 9, 1), date(2026, 11, 1)],
        [(date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 12, 1), date(2026, 12, 31))],
    )
    assert split_months(
        date(2026, 1, 1), date(2026, 1, 31), months=False, closed_before=closed, skip=set()
    ) == ([], [(date(2026, 1, 1), date(2026, 1, 31))])
    assert split_months(
        date(2026, 1, 2), date(2026, 1, 30), months=True, closed_before=closed, skip=set()
    ) == ([], [(date(2026, 1, 2), date(2026, 1, 30))])
