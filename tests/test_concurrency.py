import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from surveys.models import Answer, Response

from .conftest import require_postgres
from .factories import invite, make_survey


@pytest.fixture
def postgres_only(transactional_db):
    require_postgres("concurrency is tested on PostgreSQL")


def test_fifty_parallel_submissions_leave_exactly_one_response(postgres_only, live_server):
    survey = make_survey(slug="race")
    _, token = invite(survey=survey, email="race@example.com")
    url = f"{live_server.url}/s/{token}/"

    assert urllib.request.urlopen(url).status == 200

    barrier = threading.Barrier(50)
    statuses: list[int] = []
    lock = threading.Lock()

    def submit(score: int) -> None:
        body = urllib.parse.urlencode(
            {"satisfaction": str(score), "comment": f"tab {score}"}
        ).encode()
        request = urllib.request.Request(url, data=body)
        barrier.wait()
        try:
            # Do not follow the redirect: its status is what a browser would see first.
            status = _NoRedirect().open(request).status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=submit, args=(1 + i % 5,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(statuses) == 50
    assert statuses.count(302) == 1, statuses  # one submission recorded...
    assert set(statuses) <= {302, 409}  # ...every other one sees "already answered", no 500
    assert Response.objects.count() == 1
    assert Answer.objects.filter(question__key="satisfaction").count() == 1
    assert Answer.objects.filter(question__key="comment").count() == 1


class _NoRedirect:
    def __init__(self):
        class Handler(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(Handler)

    def open(self, request):
        try:
            return self.opener.open(request)
        except urllib.error.HTTPError as error:
            if error.code == 302:
                return error
            raise
