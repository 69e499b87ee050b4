"""The top navigation: every signed-in person reaches the task list and rooms; admins the admin pages."""

from tests.helpers import sign_in, sign_in_coordinator

ADMIN_LINKS = ['href="/admin/rules"', 'href="/admin/inbox"', 'href="/admin/integrations"']


def test_admins_see_the_admin_pages_in_the_navigation(client, make_account):
    acme = make_account()
    sign_in(client, acme.user.email)
    html = client.get("/tasks").get_data(as_text=True)
    assert 'href="/tasks" aria-current="page"' in html
    assert all(link in html for link in ADMIN_LINKS)


def test_coordinators_who_are_not_admins_see_no_admin_links(client, make_account):
    acme = make_account()
    sign_in_coordinator(client, acme.account)
    html = client.get("/tasks").get_data(as_text=True)
    assert 'href="/setup/rooms"' in html
    assert not any(link in html for link in ADMIN_LINKS)
