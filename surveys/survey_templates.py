"""Surveys to start from, in the API's own format (see surveys.api.serializers)."""

from django.utils.translation import gettext_lazy as _

from . import scales

_COMMENT = {
    "key": "comment",
    "kind": scales.COMMENT,
    "text": {
        "en": "Anything you would like to tell us?",
        "de": "Möchten Sie uns noch etwas mitteilen?",
        "nl": "Wilt u ons nog iets vertellen?",
        "pl": "Czy chcesz nam coś jeszcze przekazać?",
        "da": "Er der noget, du gerne vil fortælle os?",
    },
    "max_length": 1000,
}

TEMPLATES: dict[str, dict] = {
    "csat-purchase": {
        "title": _("CSAT after purchase"),
        "description": _("One 1-5 satisfaction question and an optional comment, after an order."),
        "survey": {
            "touchpoint": "purchase",
            "languages": ["en", "de"],
            "send_delay_minutes": 120,
            "csat_target": 80,
            "intro": {
                "en": "Thank you for your order. It takes ten seconds.",
                "de": "Vielen Dank für Ihre Bestellung. Es dauert nur zehn Sekunden.",
            },
            "thank_you": {
                "en": "Thank you! Your answer helps us get better.",
                "de": "Vielen Dank! Ihre Antwort hilft uns, besser zu werden.",
            },
            "questions": [
                {
                    "key": "satisfaction",
                    "kind": scales.RATING,
                    "scale": "1-5",
                    "primary": True,
                    "required": True,
                    "text": {
                        "en": "How satisfied are you with your purchase?",
                        "de": "Wie zufrieden sind Sie mit Ihrem Einkauf?",
                    },
                },
                _COMMENT,
            ],
        },
    },
    "csat-support": {
        "title": _("CSAT after support contact"),
        "description": _("Three questions on a school-grade scale (1 = best), and a comment."),
        "survey": {
            "touchpoint": "support_contact",
            "languages": ["de", "en"],
            "csat_target": 85,
            "intro": {
                "de": "Sie hatten kürzlich Kontakt mit unserem Kundenservice.",
                "en": "You recently contacted our customer service.",
            },
            "thank_you": {
                "de": "Vielen Dank für Ihr Feedback!",
                "en": "Thank you for your feedback!",
            },
            "questions": [
                {
                    "key": "service",
                    "kind": scales.RATING,
                    "scale": "1-5",
                    "reversed": True,
                    "primary": True,
                    "required": True,
                    "text": {
                        "de": "Wie zufrieden waren Sie mit unserem Kundenservice?",
                        "en": "How satisfied were you with our customer service?",
                    },
                },
                {
                    "key": "resolved",
                    "kind": scales.RATING,
                    "scale": "1-5",
                    "reversed": True,
                    "text": {
                        "de": "Konnte unser Kundenservice Ihr Problem lösen?",
                        "en": "Could our customer service solve your problem?",
                    },
                    "labels": {
                        "de": ["Zu 100%", "Zu 75%", "Zu 50%", "Zu 25%", "Gar nicht gelöst"],
                        "en": [
                            "100% solved",
                            "75% solved",
                            "50% solved",
                            "25% solved",
                            "Not solved at all",
                        ],
                    },
                },
                {
                    "key": "speed",
                    "kind": scales.RATING,
                    "scale": "1-5",
                    "reversed": True,
                    "text": {
                        "de": "Wie schnell konnten wir Ihr Anliegen abschließend bearbeiten?",
                        "en": "How quickly did we resolve your request?",
                    },
                    "labels": {
                        "de": [
                            "Schneller als erwartet",
                            "Gemäß meiner Erwartung",
                            "Gerade noch so ok",
                            "Viel zu langsam",
                            "Katastrophe",
                        ],
                        "en": [
                            "Faster than expected",
                            "As I expected",
                            "Just about OK",
                            "Much too slow",
                            "A disaster",
                        ],
                    },
                },
                _COMMENT,
            ],
        },
    },
    "nps": {
        "title": _("Net Promoter Score"),
        "description": _("How likely to recommend us, 0-10, and the reason."),
        "survey": {
            "touchpoint": "purchase",
            "languages": ["en"],
            "send_delay_minutes": 60 * 24 * 7,
            "questions": [
                {
                    "key": "nps",
                    "kind": scales.NPS,
                    "scale": "0-10",
                    "primary": True,
                    "required": True,
                    "text": {"en": "How likely are you to recommend us to a friend or colleague?"},
                },
                {
                    **_COMMENT,
                    "text": {"en": "What is the main reason for your score?"},
                },
            ],
        },
    },
    "ces": {
        "title": _("Customer Effort Score"),
        "description": _("How easy it was to get an issue handled, 1-7."),
        "survey": {
            "touchpoint": "support_contact",
            "languages": ["en"],
            "questions": [
                {
                    "key": "effort",
                    "kind": scales.CES,
                    "scale": "1-7",
                    "primary": True,
                    "required": True,
                    "text": {"en": "How easy was it to get your issue handled?"},
                },
                {**_COMMENT, "text": {"en": "What could we have made easier?"}},
            ],
        },
    },
}
