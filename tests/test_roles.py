import pytest
from django.contrib.auth.models import Group

from surveys.models import Survey

from .factories import make_survey

pytestmark = pytest.mark.django_db

DESIGN_PAGES = ["/design/", "/design/shop/", "/design/shop/invitations/", "/mailbox/"]


def test_roles_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Survey admin", "Manager"}


@pytest.mark.parametrize("url", DESIGN_PAGES)
def test_manager_gets_403_on_design_pages(manager_client, url):
    make_survey(slug="shop")
    assert manager_client.get(url).status_code == 403


@pytest.mark.parametrize("url", DESIGN_PAGES)
def test_admin_opens_design_pages(admin_client, url):
    make_survey(slug="shop")
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("url", DESIGN_PAGES + ["/dashboard/"])
def test_anonymous_is_sent_to_the_login(client, url):
    make_survey(slug="shop")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_manager_cannot_post_design_actions(manager_client):
    make_survey(slug="shop")
    assert manager_client.post("/design/new/", {"template": "nps"}).status_code == 403
    assert manager_client.post("/design/shop/test/").status_code == 403
    assert (
        manager_client.post(
            "/design/shop/preview/", "{}", content_type="application/json"
        ).status_code
        == 403
    )
    assert Survey.objects.count() == 1


def test_manager_reads_the_dashboard(manager_client):
    assert manager_client.get("/dashboard/").status_code == 200


def test_user_without_a_role_gets_403(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="pw")
    client.force_login(user)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/design/").status_code == 403


def test_home_sends_each_role_to_its_start_page(admin_client, manager_client):
    assert admin_client.get("/")["Location"] == "/design/"
    assert manager_client.get("/")["Location"] == "/dashboard/"
