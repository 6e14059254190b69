import pytest

from surveys import scales


@pytest.mark.parametrize(
    ("kind", "code", "reversed", "expected"),
    [
        ("rating", "1-5", False, [4, 5]),
        ("rating", "1-7", False, [6, 7]),
        ("rating", "1-10", False, [8, 9, 10]),
        ("rating", "0-10", False, [8, 9, 10]),
        ("rating", "yes-no", False, [1]),
        ("rating", "emoji-3", False, [3]),
        ("rating", "emoji-5", False, [4, 5]),
        ("rating", "1-5", True, [1, 2]),
        ("rating", "1-7", True, [1, 2]),
        ("nps", "0-10", False, [9, 10]),
        ("ces", "1-7", False, [6, 7]),
        ("ces", "1-5", False, [4, 5]),
    ],
)
def test_default_satisfied_sets_follow_the_brief(kind, code, reversed, expected):
    assert scales.default_satisfied(kind, code, reversed) == expected


def test_every_point_of_every_scale_has_a_label_in_every_shipped_language():
    for kind, codes in scales.SCALES_BY_KIND.items():
        for code in codes:
            for lang in scales.LANGUAGES:
                for rev in (False, True):
                    labels = scales.default_labels(kind, code, lang, rev)
                    assert len(labels) == len(scales.SCALES[code].points)
                    assert all(label.strip() for label in labels)


def test_reversed_five_point_scale_puts_the_best_label_on_one():
    # Seed 003: German school grades, 1 = sehr zufrieden, 5 = sehr unzufrieden.
    labels = scales.default_labels("rating", "1-5", "de", reversed=True)
    assert labels[0] == "Sehr zufrieden"
    assert labels[-1] == "Sehr unzufrieden"


def test_normalized_score_runs_from_worst_to_best_in_both_directions():
    assert scales.normalized_score("1-5", False, 5) == 1.0
    assert scales.normalized_score("1-5", False, 1) == 0.0
    assert scales.normalized_score("1-5", True, 1) == 1.0
    assert scales.normalized_score("0-10", False, 5) == 0.5
    assert scales.normalized_score("yes-no", False, 1) == 1.0


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"kind": "rating", "code": "1-6", "reversed": False, "satisfied": [5]}, "scale"),
        ({"kind": "rating", "code": "1-5", "reversed": False, "satisfied": [6]}, "satisfied"),
        ({"kind": "rating", "code": "1-5", "reversed": False, "satisfied": []}, "satisfied"),
        (
            {"kind": "rating", "code": "1-5", "reversed": False, "satisfied": [1, 2, 3, 4, 5]},
            "satisfied",
        ),
        ({"kind": "rating", "code": "yes-no", "reversed": True, "satisfied": [1]}, "reversed"),
        ({"kind": "nps", "code": "1-5", "reversed": False, "satisfied": [5]}, "scale"),
        ({"kind": "ces", "code": "0-10", "reversed": False, "satisfied": [9]}, "scale"),
    ],
)
def test_invalid_definitions_name_the_field(definition, field):
    assert field in scales.validate_definition(labels={}, **definition)


def test_labels_must_cover_every_point():
    errors = scales.validate_definition(
        kind="rating", code="1-5", reversed=False, satisfied=[5], labels={"en": ["a", "b"]}
    )
    assert "labels" in errors
