"""The modules of surveys, followups, access and privacy import each other without a circle:
each rule's home can be read, and changed, before the modules that use it."""

from .import_graph import cycles, import_graph

PACKAGES = ["surveys", "followups", "access", "privacy", "branding"]


def test_surveys_followups_access_and_privacy_import_no_circle():
    assert cycles(import_graph(PACKAGES)) == []


def test_the_graph_holds_every_import_also_those_inside_functions():
    graph = import_graph(PACKAGES)
    # A template is validated by the API's serializer, imported inside the function.
    assert "surveys.api.serializers" in graph["surveys.services"]
    assert {"followups.services", "followups.sweep", "followups.webhooks"} <= graph[
        "followups.tasks"
    ]
    assert "surveys.customers" in graph["privacy.services"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
