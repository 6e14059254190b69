"""Shapes of the report API, for the OpenAPI schema (the figures come from reports.service)."""

from rest_framework import serializers


class QuestionRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    scale = serializers.CharField()
    reversed = serializers.BooleanField()


class DistributionSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class ProportionSerializer(serializers.Serializer):
    csat = serializers.FloatField(allow_null=True, help_text="Satisfied / answers × 100.")
    n = serializers.IntegerField(help_text="Answers.")
    satisfied = serializers.IntegerField()
    ci_low = serializers.FloatField(allow_null=True, help_text="Wilson 95 % interval, low end.")
    ci_high = serializers.FloatField(allow_null=True)


class SeriesPointSerializer(ProportionSerializer):
    period = serializers.DateField(help_text="First day of the day, ISO week or month.")
    mean = serializers.FloatField(allow_null=True)


class BreakdownSerializer(ProportionSerializer):
    value = serializers.CharField()
    mean = serializers.FloatField(allow_null=True)
    small_sample = serializers.BooleanField()


class PreviousSerializer(ProportionSerializer):
    start = serializers.DateField()
    end = serializers.DateField()
    mean = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="CSAT change in points.")
    z = serializers.FloatField(allow_null=True, help_text="The test's z (negative: a drop).")
    p_value = serializers.FloatField(allow_null=True)
    significant = serializers.BooleanField(help_text="Two-proportion z-test at 5 %.")


class NpsSerializer(serializers.Serializer):
    question = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="% promoters − % detractors.")
    n = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()


class CesSerializer(serializers.Serializer):
    question = serializers.CharField()
    scale = serializers.CharField()
    mean = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()
    easy = serializers.IntegerField()
    easy_percent = serializers.FloatField(allow_null=True)


class LoopTimeSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    median_seconds = serializers.IntegerField(allow_null=True)
    mean_seconds = serializers.IntegerField(allow_null=True)
    p90_seconds = serializers.IntegerField(allow_null=True)


class LoopSerializer(serializers.Serializer):
    opened = serializers.IntegerField(help_text="Follow-ups opened in the range.")
    contacted = serializers.IntegerField()
    resolved = serializers.IntegerField()
    time_to_first_contact = LoopTimeSerializer()
    time_to_resolve = LoopTimeSerializer()
    unresolved = serializers.IntegerField(help_text="The survey's follow-ups waiting now.")
    overdue = serializers.IntegerField(help_text="Of those, past their deadline now.")


class FiltersSerializer(serializers.Serializer):
    touchpoint = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    attrs = serializers.DictField(child=serializers.CharField())


class FunnelSerializer(serializers.Serializer):
    """Invitations sent in the range, and how many of them got to each step."""

    sent = serializers.IntegerField()
    delivered = serializers.IntegerField(help_text="Sent and not bounced.")
    bounced = serializers.IntegerField()
    clicked = serializers.IntegerField()
    answered = serializers.IntegerField()
    commented = serializers.IntegerField()


class CsatReportSerializer(ProportionSerializer):
    survey = serializers.CharField()
    source = serializers.ChoiceField(choices=["rollups", "raw"])
    question = QuestionRefSerializer()
    start = serializers.DateField()
    end = serializers.DateField()
    interval = serializers.ChoiceField(choices=["day", "week", "month"])
    filters = FiltersSerializer()
    group_by = serializers.CharField(allow_null=True)
    mean = serializers.FloatField(allow_null=True, help_text="In the scale's own units.")
    distribution = DistributionSerializer(many=True)
    response_rate = serializers.FloatField(allow_null=True)
    sent = serializers.IntegerField()
    answered = serializers.IntegerField()
    funnel = FunnelSerializer()
    coverage = serializers.FloatField(allow_null=True)
    respondents = serializers.IntegerField()
    customers = serializers.IntegerField()
    nps = NpsSerializer(allow_null=True)
    ces = CesSerializer(allow_null=True)
    series = SeriesPointSerializer(many=True)
    breakdown = BreakdownSerializer(many=True)
    previous = PreviousSerializer()
    target = serializers.FloatField(allow_null=True)
    above_target = serializers.BooleanField(allow_null=True)
    small_sample = serializers.BooleanField()
    loop = LoopSerializer(
        allow_null=True,
        help_text="Closing the loop: time to first contact and to resolve; null without follow-ups.",
    )


class SparklinePointSerializer(serializers.Serializer):
    period = serializers.DateField()
    csat = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()


class OverviewSurveySerializer(ProportionSerializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    question = serializers.CharField(help_text="The key of the question the figures are of.")
    target = serializers.FloatField(allow_null=True)
    above_target = serializers.BooleanField(allow_null=True)
    small_sample = serializers.BooleanField()
    interval = serializers.CharField()
    series = SparklinePointSerializer(many=True)


class OverviewSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    surveys = OverviewSurveySerializer(many=True)
