"""The modules of surveys, followups, access and privacy import each other without a circle:
each rule's home can be read, and changed, before the modules that use it."""

from .import_graph import cycles, import_graph

PACKAGES = ["surveys", "followups", "access", "privacy"]
# followups/alerts.py is being rewritten on another branch (alerts ask the reports for their
# figures); it still queues its mail by importing the tasks that run it. Once it announces an
# alert through followups.signals, as the follow-up services do, remove this.
WAITING = {("followups.alerts", "followups.tasks")}


def test_surveys_followups_access_and_privacy_import_no_circle():
    graph = import_graph(PACKAGES)
    for source, target in WAITING:
        graph[source].discard(target)
    assert cycles(graph) == []


def test_the_graph_holds_every_import_also_those_inside_functions():
    graph = import_graph(PACKAGES)
    # A template is validated by the API's serializer, imported inside the function.
    assert "surveys.api.serializers" in graph["surveys.services"]
    assert {"followups.services", "followups.sweep", "followups.webhooks"} <= graph[
        "followups.tasks"
    ]
    assert "surveys.customers" in graph["privacy.services"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
