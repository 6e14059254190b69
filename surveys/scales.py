"""Scale semantics in one place: points, default labels, direction, and what counts as satisfied.

Plain code, no database: the designer, the answer page, the email and the reports all ask here.
"""

from dataclasses import dataclass

RATING, NPS, CES, COMMENT = "rating", "nps", "ces", "comment"
KINDS = (RATING, NPS, CES, COMMENT)
LANGUAGES = ("en", "de", "nl", "pl", "da")


@dataclass(frozen=True)
class Scale:
    code: str
    points: tuple[int, ...]  # in display order
    reversible: bool
    faces: tuple[str, ...] = ()

    @property
    def low(self) -> int:
        return min(self.points)

    @property
    def high(self) -> int:
        return max(self.points)


SCALES: dict[str, Scale] = {
    "1-5": Scale("1-5", (1, 2, 3, 4, 5), reversible=True),
    "1-7": Scale("1-7", (1, 2, 3, 4, 5, 6, 7), reversible=True),
    "1-10": Scale("1-10", tuple(range(1, 11)), reversible=True),
    "0-10": Scale("0-10", tuple(range(0, 11)), reversible=True),
    "yes-no": Scale("yes-no", (1, 0), reversible=False),
    "emoji-3": Scale("emoji-3", (1, 2, 3), reversible=False, faces=("😞", "😐", "😊")),
    "emoji-5": Scale(
        "emoji-5", (1, 2, 3, 4, 5), reversible=False, faces=("😠", "🙁", "😐", "🙂", "😄")
    ),
}
SCALES_BY_KIND: dict[str, tuple[str, ...]] = {
    RATING: tuple(SCALES),
    NPS: ("0-10",),
    CES: ("1-5", "1-7"),
    COMMENT: (),
}
DEFAULT_SCALE = {RATING: "1-5", NPS: "0-10", CES: "1-7", COMMENT: ""}

# Worst to best, per language. Seed 003 gives the German five-point wording.
_SATISFACTION = {
    5: {
        "en": ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"],
        "de": ["Sehr unzufrieden", "Unzufrieden", "Neutral", "Zufrieden", "Sehr zufrieden"],
        "nl": ["Zeer ontevreden", "Ontevreden", "Neutraal", "Tevreden", "Zeer tevreden"],
        "pl": [
            "Bardzo niezadowolony",
            "Niezadowolony",
            "Neutralnie",
            "Zadowolony",
            "Bardzo zadowolony",
        ],
        "da": ["Meget utilfreds", "Utilfreds", "Neutral", "Tilfreds", "Meget tilfreds"],
    },
    7: {
        "en": [
            "Very dissatisfied",
            "Dissatisfied",
            "Somewhat dissatisfied",
            "Neutral",
            "Somewhat satisfied",
            "Satisfied",
            "Very satisfied",
        ],
        "de": [
            "Sehr unzufrieden",
            "Unzufrieden",
            "Eher unzufrieden",
            "Neutral",
            "Eher zufrieden",
            "Zufrieden",
            "Sehr zufrieden",
        ],
        "nl": [
            "Zeer ontevreden",
            "Ontevreden",
            "Enigszins ontevreden",
            "Neutraal",
            "Enigszins tevreden",
            "Tevreden",
            "Zeer tevreden",
        ],
        "pl": [
            "Bardzo niezadowolony",
            "Niezadowolony",
            "Raczej niezadowolony",
            "Neutralnie",
            "Raczej zadowolony",
            "Zadowolony",
            "Bardzo zadowolony",
        ],
        "da": [
            "Meget utilfreds",
            "Utilfreds",
            "Lidt utilfreds",
            "Neutral",
            "Lidt tilfreds",
            "Tilfreds",
            "Meget tilfreds",
        ],
    },
    3: {
        "en": ["Unhappy", "Neutral", "Happy"],
        "de": ["Unzufrieden", "Neutral", "Zufrieden"],
        "nl": ["Ontevreden", "Neutraal", "Tevreden"],
        "pl": ["Niezadowolony", "Neutralnie", "Zadowolony"],
        "da": ["Utilfreds", "Neutral", "Tilfreds"],
    },
}
_EFFORT = {
    5: {
        "en": ["Very difficult", "Difficult", "Neither easy nor difficult", "Easy", "Very easy"],
        "de": [
            "Sehr schwierig",
            "Schwierig",
            "Weder leicht noch schwierig",
            "Leicht",
            "Sehr leicht",
        ],
        "nl": [
            "Zeer moeilijk",
            "Moeilijk",
            "Niet makkelijk, niet moeilijk",
            "Makkelijk",
            "Zeer makkelijk",
        ],
        "pl": ["Bardzo trudno", "Trudno", "Ani łatwo, ani trudno", "Łatwo", "Bardzo łatwo"],
        "da": ["Meget svært", "Svært", "Hverken let eller svært", "Let", "Meget let"],
    },
    7: {
        "en": [
            "Very difficult",
            "Difficult",
            "Somewhat difficult",
            "Neutral",
            "Somewhat easy",
            "Easy",
            "Very easy",
        ],
        "de": [
            "Sehr schwierig",
            "Schwierig",
            "Eher schwierig",
            "Neutral",
            "Eher leicht",
            "Leicht",
            "Sehr leicht",
        ],
        "nl": [
            "Zeer moeilijk",
            "Moeilijk",
            "Enigszins moeilijk",
            "Neutraal",
            "Enigszins makkelijk",
            "Makkelijk",
            "Zeer makkelijk",
        ],
        "pl": [
            "Bardzo trudno",
            "Trudno",
            "Raczej trudno",
            "Neutralnie",
            "Raczej łatwo",
            "Łatwo",
            "Bardzo łatwo",
        ],
        "da": ["Meget svært", "Svært", "Lidt svært", "Neutral", "Lidt let", "Let", "Meget let"],
    },
}
# The two ends of the long numeric scales; the points between are labelled with their number.
_ENDS = {
    RATING: {
        "en": ("Not at all satisfied", "Extremely satisfied"),
        "de": ("Überhaupt nicht zufrieden", "Äußerst zufrieden"),
        "nl": ("Helemaal niet tevreden", "Uiterst tevreden"),
        "pl": ("Zupełnie niezadowolony", "Niezwykle zadowolony"),
        "da": ("Slet ikke tilfreds", "Yderst tilfreds"),
    },
    NPS: {
        "en": ("Not at all likely", "Extremely likely"),
        "de": ("Sehr unwahrscheinlich", "Äußerst wahrscheinlich"),
        "nl": ("Zeer onwaarschijnlijk", "Zeer waarschijnlijk"),
        "pl": ("Zdecydowanie nie", "Zdecydowanie tak"),
        "da": ("Slet ikke sandsynligt", "Meget sandsynligt"),
    },
}
_YES_NO = {
    "en": ["Yes", "No"],
    "de": ["Ja", "Nein"],
    "nl": ["Ja", "Nee"],
    "pl": ["Tak", "Nie"],
    "da": ["Ja", "Nej"],
}


def get_scale(code: str) -> Scale:
    try:
        return SCALES[code]
    except KeyError:
        raise ValueError(f"unknown scale {code!r}; choose one of {', '.join(SCALES)}") from None


def default_labels(kind: str, code: str, language: str, reversed: bool = False) -> list[str]:
    """One label per point, in display order, in `language` (English when it has none)."""
    scale = get_scale(code)
    lang = language if language in LANGUAGES else "en"
    if code == "yes-no":
        return list(_YES_NO[lang])
    n = len(scale.points)
    if n in (5, 7) and kind == CES:
        worst_to_best = list(_EFFORT[n][lang])
    elif n in (3, 5, 7):
        worst_to_best = list(_SATISFACTION[n][lang])
    else:
        low, high = _ENDS[NPS if kind == NPS else RATING][lang]
        worst_to_best = [str(p) for p in scale.points]
        worst_to_best[0] = f"{scale.points[0]} – {low}"
        worst_to_best[-1] = f"{scale.points[-1]} – {high}"
        if reversed:
            # The number stays with its point; only the worded ends swap.
            worst_to_best[0], worst_to_best[-1] = (
                f"{scale.points[0]} – {high}",
                f"{scale.points[-1]} – {low}",
            )
            return worst_to_best
    return worst_to_best[::-1] if reversed else worst_to_best


def default_satisfied(kind: str, code: str, reversed: bool = False) -> list[int]:
    """PRODUCT.md: top-2 box on 5 and 7 points, 8-10 on ten points, yes, the top face(s);
    NPS promoters (9-10); mirrored when the scale is reversed (1-2 on a reversed 1-5)."""
    scale = get_scale(code)
    if kind == NPS:
        return [9, 10]
    if code == "yes-no":
        return [1]
    if code == "emoji-3":
        return [3]
    top = 3 if scale.high == 10 else 2
    ordered = sorted(scale.points)
    return ordered[:top] if reversed else ordered[-top:]


def validate_definition(
    *, kind: str, code: str, reversed: bool, satisfied: list[int], labels: dict[str, list[str]]
) -> dict[str, str]:
    """Problems with a question definition, keyed by field name; empty when valid."""
    errors: dict[str, str] = {}
    if kind not in KINDS:
        return {"kind": f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}"}
    if kind == COMMENT:
        return errors
    if code not in SCALES:
        return {"scale": f"unknown scale {code!r}; choose one of {', '.join(SCALES)}"}
    if code not in SCALES_BY_KIND[kind]:
        return {"scale": f"a {kind} question uses {' or '.join(SCALES_BY_KIND[kind])}, not {code}"}
    scale = SCALES[code]
    if reversed and (not scale.reversible or kind == NPS):
        errors["reversed"] = f"the {code} scale cannot be reversed"
    if not satisfied:
        errors["satisfied"] = "name at least one value that counts as satisfied"
    else:
        outside = [v for v in satisfied if v not in scale.points]
        if outside:
            errors["satisfied"] = (
                f"{', '.join(map(str, outside))} is not on the {code} scale "
                f"({scale.low}-{scale.high})"
            )
        elif len(set(satisfied)) == len(scale.points):
            errors["satisfied"] = "not every value can count as satisfied"
    for lang, texts in labels.items():
        if not isinstance(texts, list) or len(texts) != len(scale.points):
            errors["labels"] = f"{lang}: give one label for each of the {len(scale.points)} points"
        elif any(not isinstance(t, str) or not t.strip() for t in texts):
            errors["labels"] = f"{lang}: every point needs a text label"
    return errors


def normalized_score(code: str, reversed: bool, score: int) -> float:
    """0.0 (worst) to 1.0 (best) whatever the scale and its direction."""
    scale = get_scale(code)
    position = (score - scale.low) / (scale.high - scale.low)
    return round(1.0 - position if reversed else position, 6)


# The band of an answer, for the comments page and the distribution: happy is satisfied,
# unhappy below the middle of the scale, neutral the rest. On 1-5 (4-5 satisfied): 1-2, 3, 4-5.
UNHAPPY, NEUTRAL, HAPPY = "unhappy", "neutral", "happy"
BANDS = (UNHAPPY, NEUTRAL, HAPPY)


def band(code: str, reversed: bool, satisfied: list[int], score: int | None) -> str:
    """The band of one score of a question with this scale, direction and satisfied set ("" for
    no score)."""
    if score is None:
        return ""
    if score in satisfied:
        return HAPPY
    return UNHAPPY if normalized_score(code, reversed, score) < 0.5 else NEUTRAL


def bands(code: str, reversed: bool, satisfied: list[int]) -> dict[int, str]:
    """Every point of the scale with its band."""
    return {point: band(code, reversed, satisfied, point) for point in get_scale(code).points}
