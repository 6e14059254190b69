import factory
from django.contrib.auth.models import Group, User

from access.roles import MANAGER, SURVEY_ADMIN
from surveys import invitations, services, tokens
from surveys.api.serializers import SurveySerializer
from surveys.customers import CustomerIn
from surveys.models import Contact, Invitation


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            # get_or_create: a transactional test before this one flushed the migration's roles.
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        self.save()


def admin_user(**kwargs) -> User:
    return UserFactory(role=SURVEY_ADMIN, **kwargs)


def manager_user(**kwargs) -> User:
    return UserFactory(role=MANAGER, **kwargs)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")


def rating_question(key="satisfaction", scale="1-5", **extra) -> dict:
    return {"key": key, "kind": "rating", "scale": scale, "text": "How satisfied are you?", **extra}


def make_survey(*, slug="shop", questions=None, publish=True, languages=("en",), **fields):
    """A survey made through the same validation as the API."""
    data = {
        "name": fields.pop("name", "Shop survey"),
        "slug": slug,
        "touchpoint": fields.pop("touchpoint", "purchase"),
        "languages": list(languages),
        # The default questions have a text in every language of the survey (the same words):
        # a language with a missing text is not offered to customers (surveys.languages).
        "questions": questions
        if questions is not None
        else [
            rating_question(
                primary=True,
                required=True,
                text=dict.fromkeys(languages, "How satisfied are you?"),
            ),
            {
                "key": "comment",
                "kind": "comment",
                "text": dict.fromkeys(languages, "Anything else?"),
                "max_length": 200,
            },
        ],
        **fields,
    }
    serializer = SurveySerializer(data=data)
    serializer.is_valid(raise_exception=True)
    survey = services.create_survey(data=serializer.validated_data)
    if publish:
        services.publish_survey(survey=survey)
        survey.refresh_from_db()
    return survey


def invite(*, survey, email: str, name: str = "", locale: str = "", **kwargs):
    """A customer's invitation by email, made as the API makes it; (invitation, token)."""
    customer = CustomerIn(email=email, name=name, locale=locale)
    return invitations.invite(survey=survey, customer=customer, locale=locale, **kwargs)


def make_invitation(
    survey, contact, *, now=None, touchpoint=None, locale="", attributes=None, **fields
):
    """An invitation of `contact` made by the one constructor as of `now` (default: now), then put
    in the state `fields` describe (sent, answered...) before it is saved; (invitation, token)."""
    batch = invitations.InvitationBatch(surveys=[survey], contacts=[contact], now=now)
    made = batch.add(survey, contact, touchpoint=touchpoint, locale=locale, attributes=attributes)
    assert isinstance(made, Invitation), made
    for key, value in fields.items():
        setattr(made, key, value)
    batch.save()
    return made, tokens.token_for(made)
