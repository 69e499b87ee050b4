"""Each person's time zone: chosen on their profile or taken from the browser on a first sign-in, and
used for every time they read (tasks, history, schedules, admin pages) and enter (the schedule
form), while everything is stored in UTC; the form proposes the next working-hours slot in it."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests import events as ev
from tests.helpers import csrf_from, process, sign_in
from tests.test_scheduling import new_url, schedule_form
from webapp.models import Room, ScheduledInterview, Task, User, utcnow
from webapp.timezones import next_working_slot

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "now, proposed",
    [
        # Tuesday 10:10 in New York: an hour ahead is 11:10, the next half hour 11:30.
        (dt.datetime(2026, 12, 8, 10, 10, tzinfo=NEW_YORK), dt.datetime(2026, 12, 8, 11, 30, tzinfo=NEW_YORK)),
        # Before the working day: its start.
        (dt.datetime(2026, 12, 8, 6, 0, tzinfo=NEW_YORK), dt.datetime(2026, 12, 8, 9, 0, tzinfo=NEW_YORK)),
        # On a boundary exactly, an hour ahead is that boundary.
        (dt.datetime(2026, 12, 8, 9, 0, tzinfo=NEW_YORK), dt.datetime(2026, 12, 8, 10, 0, tzinfo=NEW_YORK)),
        # Friday late afternoon: Monday morning.
        (dt.datetime(2026, 12, 11, 16, 5, tzinfo=NEW_YORK), dt.datetime(2026, 12, 14, 9, 0, tzinfo=NEW_YORK)),
        # Saturday: Monday morning.
        (dt.datetime(2026, 12, 12, 11, 0, tzinfo=NEW_YORK), dt.datetime(2026, 12, 14, 9, 0, tzinfo=NEW_YORK)),
    ],
)
def test_the_form_proposes_the_next_half_hour_within_working_hours_at_least_an_hour_ahead(now, proposed):
    slot = next_working_slot(now.astimezone(dt.UTC), NEW_YORK)
    assert slot == proposed and slot.tzinfo == dt.UTC


def test_the_same_moment_is_another_working_slot_in_another_zone():
    now = dt.datetime(2026, 12, 8, 21, 0, tzinfo=dt.UTC)  # Tuesday 16:00 in New York, Wednesday 06:00 in Tokyo
    assert next_working_slot(now, NEW_YORK) == dt.datetime(2026, 12, 9, 9, 0, tzinfo=NEW_YORK)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert next_working_slot(now, tokyo) == dt.datetime(2026, 12, 9, 9, 0, tzinfo=tokyo)


def test_the_profile_page_sets_the_time_zone_and_refuses_one_it_does_not_know(client, make_account):
    acme = make_account("Acme")
    sign_in(client, acme.user.email)
    page = client.get("/account/profile").get_data(as_text=True)
    assert "<option selected>UTC</option>" in page and "<option>America/New_York</option>" in page
    token = csrf_from(page)
    for bad in ("Mars/Olympus", "../../etc/passwd", ""):
        response = client.post("/account/profile", data={"csrf_token": token, "time_zone": bad})
        assert response.status_code == 422 and "Choose a time zone from the list." in response.get_data(as_text=True)
    assert User.get_by_id(acme.user.id).time_zone == ""
    assert client.post("/account/profile", data={"time_zone": "America/New_York"}).status_code == 400  # no CSRF
    response = client.post("/account/profile", data={"csrf_token": token, "time_zone": "America/New_York"})
    assert response.status_code == 303
    assert User.get_by_id(acme.user.id).time_zone == "America/New_York"
    assert "<option selected>America/New_York</option>" in client.get("/account/profile").get_data(as_text=True)


def _sign_in_from(client, email, zone):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"email": email, "password": "correct horse battery", "csrf_token": token, "time_zone": zone}
    assert client.post("/login", data=data).status_code == 303


def test_a_first_sign_in_takes_the_browsers_zone_and_later_ones_keep_the_persons(client, make_account):
    acme = make_account("Acme")
    _sign_in_from(client, acme.user.email, "Not/AZone")
    assert User.get_by_id(acme.user.id).time_zone == ""  # an unknown name is not taken
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/tasks").get_data(as_text=True))})
    _sign_in_from(client, acme.user.email, "America/New_York")
    assert User.get_by_id(acme.user.id).time_zone == "America/New_York"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/tasks").get_data(as_text=True))})
    _sign_in_from(client, acme.user.email, "Europe/Berlin")  # travelling: the chosen zone stays
    assert User.get_by_id(acme.user.id).time_zone == "America/New_York"


@pytest.fixture
def new_yorker(client, make_account):
    acme = make_account("Acme")
    acme.user.time_zone = "America/New_York"
    acme.user.save()
    acme.dana = User.for_email(acme.account, "dana.wu@acme.test", "Dana Wu")
    acme.dana.time_zone = "Europe/London"
    acme.dana.save()
    acme.room = Room.create(account=acme.account, name="Room 4A", email="room-4a@resource.acme.test")
    acme.csrf = sign_in(client, acme.user.email)
    return acme


def test_task_detail_and_history_show_times_in_the_persons_zone(client, new_yorker):
    process(new_yorker, ev.stage_changed())  # at 09:00 UTC on 28 Nov 2026: 04:00 in New York
    task = Task.get(Task.rule_id == "ready_to_schedule")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Happened <time" in html and "Sat 28 Nov 2026, 04:00 EST</time>" in html
    assert 'id="task-due"' in html and "Sun 29 Nov 2026, 04:00 EST" in html  # a day after the move
    assert "UTC" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)


def test_the_schedule_form_proposes_and_takes_times_in_the_persons_zone_and_stores_utc(client, new_yorker):
    process(new_yorker, ev.stage_changed())
    task = Task.get(Task.rule_id == "ready_to_schedule")
    html = client.get(new_url(task)).get_data(as_text=True)
    assert "Times are in your time zone, America/New_York" in html
    proposed = dt.datetime.fromisoformat(re.search(r'name="interviews-0-starts_at"\s+value="([^"]+)"', html)[1])
    assert proposed.weekday() < 5 and dt.time(9) <= proposed.time() < dt.time(17) and proposed.minute in (0, 30)
    assert proposed.replace(tzinfo=NEW_YORK) >= utcnow() + dt.timedelta(hours=1)

    day = (utcnow() + dt.timedelta(days=7)).astimezone(NEW_YORK).date()
    fields = {
        "interviews-0-name": "Onsite",
        "interviews-0-starts_at": f"{day}T10:00",
        "interviews-0-ends_at": f"{day}T11:00",
        "interviews-0-interviewers": [str(new_yorker.dana.id)],
        "interviews-0-room": str(new_yorker.room.id),
    }
    check = client.post("/schedules/check", data=schedule_form(new_yorker.csrf, fields)).get_data(as_text=True)
    assert "10:00 your time · 15:00 for Dana Wu (Europe/London)" in check
    response = client.post(new_url(task), data=schedule_form(new_yorker.csrf, fields))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    booked = ScheduledInterview.get()
    assert booked.starts_at == dt.datetime.combine(day, dt.time(10), NEW_YORK).astimezone(dt.UTC)
    assert booked.starts_at.hour in (15, 14)  # stored in UTC: 10:00 in New York is 15:00 (14:00 in summer)


def test_other_peoples_clocks_are_shown_only_where_known_and_different():
    from types import SimpleNamespace

    from webapp.timezones import elsewhere

    def person(name, zone):
        return SimpleNamespace(display_name=name, time_zone=zone)

    moment = dt.datetime(2026, 12, 8, 23, 0, tzinfo=NEW_YORK)  # Tuesday 23:00 in New York
    people = [person("Dana Wu", "Europe/London"), person("Sam Lee", "America/Toronto"), person("Kim", "")]
    people.append(person("Lee Park", "Not/AZone"))
    assert elsewhere(moment, people, NEW_YORK) == ["04:00 Wed for Dana Wu (Europe/London)"]
