"""Demo data: one user per role, surveys from the templates, and a few months of answers."""

import random
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from access.roles import MANAGER, SURVEY_ADMIN
from branding import demo as branding_demo
from followups import demo as followups_demo
from reports import rollups
from surveys import demo as delivery_demo
from surveys import scales, services
from surveys.invitations import InvitationBatch
from surveys.models import Answer, Contact, Invitation, Response, Survey, TouchpointEvent

DEMO_USERS = (
    ("admin", "demo-admin", SURVEY_ADMIN, "admin@example.com"),
    ("manager", "demo-manager", MANAGER, "manager@example.com"),
)
CHANNELS = ["web", "app", "phone", "email"]
REGIONS = ["north", "south", "east", "west"]
PRODUCTS = ["shoes", "shirts", "bags", "watches", "jackets"]
AGENTS = ["anna", "ben", "chloe", "david", "emma", "farid"]
# What customers write, in the language the page was shown in (happy, unhappy).
COMMENTS = {
    "en": {
        True: [
            "Fast delivery, thank you!",
            "Exactly as described.",
            "Very friendly support.",
            "Great quality.",
        ],
        False: [
            "The parcel arrived late.",
            "Nobody answered my second email.",
            "Wrong size was sent.",
            "Took far too long.",
        ],
    },
    "de": {
        True: [
            "Schnelle Lieferung, danke!",
            "Genau wie beschrieben.",
            "Sehr freundlicher Service.",
            "Tolle Qualität.",
        ],
        False: [
            "Das Paket kam zu spät.",
            "Auf meine zweite E-Mail hat niemand geantwortet.",
            "Es wurde die falsche Größe geschickt.",
            "Hat viel zu lange gedauert.",
        ],
    },
    "pl": {
        True: [
            "Szybka dostawa, dziękuję!",
            "Wszystko zgodne z opisem.",
            "Bardzo miła obsługa.",
            "Świetna jakość.",
        ],
        False: [
            "Paczka przyszła z opóźnieniem.",
            "Nikt nie odpowiedział na mojego drugiego maila.",
            "Przysłano zły rozmiar.",
            "Wszystko trwało zdecydowanie za długo.",
        ],
    },
}
# The demo surveys also speak Polish (the templates come in English and German).
POLISH = {
    "purchase": {
        "intro": "Dziękujemy za zamówienie. Odpowiedź zajmie tylko dziesięć sekund.",
        "thank_you": "Dziękujemy! Dzięki Twojej odpowiedzi możemy działać lepiej.",
        "questions": {
            "satisfaction": {"text": "Jak oceniasz swoje zadowolenie z zakupu?"},
            "comment": {"text": "Czy chcesz nam coś jeszcze przekazać?"},
        },
    },
    "support": {
        "intro": "Dziękujemy za niedawny kontakt z naszą obsługą klienta.",
        "thank_you": "Dziękujemy za opinię!",
        "questions": {
            "service": {"text": "Jak oceniasz naszą obsługę klienta?"},
            "resolved": {
                "text": "Czy nasza obsługa klienta rozwiązała Twój problem?",
                "labels": ["W 100%", "W 75%", "W 50%", "W 25%", "Wcale nie rozwiązała"],
            },
            "speed": {
                "text": "Jak szybko załatwiliśmy Twoją sprawę?",
                "labels": [
                    "Szybciej, niż oczekiwano",
                    "Zgodnie z oczekiwaniami",
                    "Jeszcze w porządku",
                    "Zdecydowanie za wolno",
                    "Katastrofa",
                ],
            },
            "comment": {"text": "Czy chcesz nam coś jeszcze przekazać?"},
        },
    },
}


class Command(BaseCommand):
    help = "Create demo users, surveys and responses (idempotent: does nothing when they exist)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=120)
        parser.add_argument("--per-day", type=int, default=25)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, days: int, per_day: int, seed: int, **options):
        for username, password, role, email in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": email})
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            if role == SURVEY_ADMIN:
                User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        if Survey.objects.filter(slug__in=["purchase", "support"]).exists():
            self.stdout.write("Demo data exists already.")
            return
        admin = User.objects.get(username="admin")
        rng = random.Random(seed)
        with transaction.atomic():
            purchase = services.create_survey_from_template(
                template="csat-purchase",
                name="Order satisfaction",
                slug="purchase",
                created_by=admin,
            )
            support = services.create_survey_from_template(
                template="csat-support", name="Support", slug="support", created_by=admin
            )
            for survey in (purchase, support):
                add_polish(survey)
                services.publish_survey(survey=survey)
            services.create_survey_from_template(
                template="nps", name="Recommendation (draft)", slug="nps", created_by=admin
            )
            count = self._answers(purchase, rng, days, per_day, "product")
            count += self._answers(support, rng, days, per_day // 2, "agent")
            delivery = delivery_demo.seed_delivery(purchase, rng)
        self.stdout.write(f"Demo data created: 3 surveys, {count} responses.")
        self.stdout.write(
            "Delivery of the purchase survey: "
            + ", ".join(f"{n} {what}" for what, n in delivery.items())
            + "."
        )
        followups_demo.seed(self.stdout)
        branding_demo.seed()
        # The answers were written straight to the tables: on PostgreSQL the dashboards read the
        # rollups, built here (elsewhere they read the rows, and this does nothing).
        rollups.rebuild()

    def _answers(
        self, survey: Survey, rng: random.Random, days: int, per_day: int, dimension: str
    ) -> int:
        survey.refresh_from_db()
        questions = list(survey.questions.all())
        now = timezone.now()
        responses = 0
        for day in range(days, 0, -1):
            for _ in range(rng.randint(per_day // 2, per_day)):
                n = Contact.objects.count() + 1
                contact = Contact.objects.create(
                    email=f"customer{n}@example.com",
                    name=f"Customer {n}",
                    locale=rng.choice(survey.languages),
                )
                attributes = {"channel": rng.choice(CHANNELS), "region": rng.choice(REGIONS)}
                attributes[dimension] = rng.choice(PRODUCTS if dimension == "product" else AGENTS)
                sent_at = now - timedelta(days=day, minutes=rng.randint(0, 1400))
                # The purchase or support contact the invitation followed (coverage counts them).
                touchpoint = TouchpointEvent.objects.create(
                    type=survey.touchpoint,
                    external_id=f"demo-{survey.slug}-{n}",
                    occurred_at=sent_at - timedelta(minutes=survey.send_delay_minutes),
                    contact=contact,
                    attributes=attributes,
                    received_at=sent_at - timedelta(minutes=survey.send_delay_minutes),
                )
                # Invited as the touchpoint would have been then, and sent on time.
                batch = InvitationBatch(surveys=[survey], contacts=[contact], now=sent_at)
                invitation = batch.add(
                    survey,
                    contact,
                    touchpoint=touchpoint,
                    locale=contact.locale,
                    attributes=attributes,
                )
                invitation.status = Invitation.Status.SENT
                invitation.sent_at = sent_at
                if rng.random() < 0.45:
                    invitation.clicked_at = sent_at + timedelta(minutes=rng.randint(5, 600))
                    if rng.random() < 0.8:
                        invitation.answered_at = invitation.clicked_at + timedelta(minutes=1)
                batch.save()
                if invitation.answered_at:
                    self._respond(survey, questions, invitation, attributes, rng, day, days)
                    responses += 1
        return responses

    def _respond(self, survey, questions, invitation, attributes, rng, day, days) -> None:
        # Satisfaction improves slowly over time, with a weaker channel, for the demo's trends.
        mood = 0.62 + 0.18 * (1 - day / days) - (0.15 if attributes["channel"] == "phone" else 0)
        response = Response.objects.create(
            survey=survey,
            invitation=invitation,
            contact=invitation.contact,
            submitted_at=invitation.answered_at,
            locale=invitation.locale or survey.default_language,
            touchpoint_type=survey.touchpoint,
            attributes=attributes,
        )
        happy = rng.random() < mood
        rows = []
        for q in questions:
            if q.kind == scales.COMMENT:
                if rng.random() < 0.3:
                    texts = COMMENTS.get(response.locale, COMMENTS["en"])[happy]
                    rows.append(Answer(response=response, question=q, text=rng.choice(texts)))
                continue
            points = sorted(scales.get_scale(q.scale).points)
            good = sorted(q.satisfied)
            bad = [p for p in points if p not in good]
            # The other questions mostly agree with the primary, each a little weaker than the
            # one before, so the dashboard's "every question" table shows which part is weak.
            agrees = q.primary or rng.random() < 0.7
            satisfied = happy if agrees else rng.random() < mood - 0.1 * q.position
            score = rng.choice(good) if satisfied else rng.choice(bad)
            rows.append(
                Answer(
                    response=response,
                    question=q,
                    score=score,
                    score_norm=scales.normalized_score(q.scale, q.reversed, score),
                    satisfied=q.is_satisfied(score),
                )
            )
        Answer.objects.bulk_create(rows)


def add_polish(survey: Survey) -> None:
    """Polish texts for a demo survey made from a template, before it is published."""
    texts = POLISH[survey.slug]
    survey.languages = [*survey.languages, "pl"]
    survey.intro = {**survey.intro, "pl": texts["intro"]}
    survey.thank_you = {**survey.thank_you, "pl": texts["thank_you"]}
    survey.save(update_fields=["languages", "intro", "thank_you"])
    for question in survey.questions.all():
        polish = texts["questions"][question.key]
        question.text = {**question.text, "pl": polish["text"]}
        if "labels" in polish:
            question.labels = {**question.labels, "pl": polish["labels"]}
        question.save(update_fields=["text", "labels"])
