"""Docket's forms (WTForms): the fields that read what the browser posts, the set-up and integration
forms, and the errors a service finds shown beside the fields they name."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, Field, FieldList, FormField, StringField, TimeField
from wtforms.validators import AnyOf, DataRequired, InputRequired, NumberRange, Optional, ValidationError

from .timezones import from_local, to_local

# Interview lengths a coordinator may set, in minutes.
MIN_MINUTES, MAX_MINUTES = 5, 8 * 60


def stripped(value):
    """A posted text without the spaces around it ("" when absent)."""
    return (value or "").strip()


class WholeNumberField(Field):
    """A whole number (an id a select posted, a count, minutes); anything else reads as None."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = int(text) if text.isdigit() else None

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))


class IdListField(Field):
    """The ids a multiple select posted; values that are not whole numbers are left out."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, default=list, **kwargs)

    def process_formdata(self, valuelist):
        self.data = [int(v) for v in valuelist if v.isdigit()]


class LocalDateTimeField(Field):
    """A datetime-local value, entered in the signed-in person's time zone and held as UTC; None
    when empty or malformed. Shown again in their zone."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        try:
            moment = dt.datetime.fromisoformat(text) if text else None
        except ValueError:
            moment = None
        if moment is not None:
            moment = from_local(moment) if moment.tzinfo is None else moment.astimezone(dt.UTC)
        self.data = moment

    def _value(self):
        return to_local(self.data).strftime("%Y-%m-%dT%H:%M") if self.data else ""


def inputs(fields):
    """The inputs of a form (or of a list of its rows), each row's fields included."""
    for field in fields:
        if isinstance(field, FieldList | FormField):
            yield from inputs(field)
        else:
            yield field


class ActionForm(FlaskForm):
    """A form of Docket's pages: the errors a service finds are shown beside their fields, as the
    form's own are; an error no field names is the form's."""

    def add_errors(self, errors):
        """Show {posted field name: message} beside those fields."""
        by_name = {field.name: field for field in inputs(self)}
        for name, message in errors.items():
            if name in by_name:
                by_name[name].errors = [*by_name[name].errors, message]
            else:
                self.form_errors.append(message)

    @property
    def has_errors(self):
        """Whether any field (or the form itself) has an error to show."""
        return bool(self.form_errors) or any(field.errors for field in inputs(self))


class MinutesField(WholeNumberField):
    """An interview length in minutes; the range check gives the only message."""

    def __init__(self, label=None, **kwargs):
        message = f"Enter a length between {MIN_MINUTES} and {MAX_MINUTES} minutes."
        super().__init__(label, [NumberRange(MIN_MINUTES, MAX_MINUTES, message=message)], **kwargs)


class JobForm(ActionForm):
    """A job's set-up: scheduled through Docket or not, its usual interview length and interviewers."""

    scheduling_enabled = BooleanField(default=True)
    duration_minutes = MinutesField(default=60)
    interviewers = IdListField()


class StageForm(ActionForm):
    """A stage's decision: the button pressed says whether Docket schedules it."""

    scheduling = StringField(
        validators=[AnyOf(("enabled", "declined"), message="Choose whether Docket schedules this stage.")]
    )


class InterviewTemplateForm(ActionForm):
    """An interview's template: its length, interviewers and room needs."""

    duration_minutes = MinutesField(default=60)
    interviewers = IdListField()
    needs_room = BooleanField()
    room = WholeNumberField()


class RoomForm(ActionForm):
    """A bookable room: its name and its calendar e-mail address."""

    name = StringField(filters=[stripped], validators=[DataRequired(message="Name the room.")])
    email = StringField(filters=[stripped, str.lower])

    def validate_email(self, field):
        if "@" not in field.data or field.data.startswith("@") or field.data.endswith("@"):
            raise ValidationError("Enter the room's calendar e-mail address.")


class AbsenceForm(ActionForm):
    """An absence as its person reads it, in their own time zone: the first and last day away, and
    optionally when on those days it starts and ends; the backup; whether their open tasks go to
    the backup when it starts."""

    starts_on = DateField(validators=[InputRequired(message="Enter the first day away.")])
    starts_time = TimeField(validators=[Optional()])
    ends_on = DateField(validators=[InputRequired(message="Enter the last day away.")])
    ends_time = TimeField(validators=[Optional()])
    backup = WholeNumberField()
    hand_over = BooleanField(default=True)

    def span(self, zone):
        """(starts_at, ends_at) in UTC: from the first day's start (or time) until the end of the
        last day (or its time), both in `zone`."""
        starts = dt.datetime.combine(self.starts_on.data, self.starts_time.data or dt.time(0), zone)
        if self.ends_time.data is not None:
            ends = dt.datetime.combine(self.ends_on.data, self.ends_time.data, zone)
        else:
            ends = dt.datetime.combine(self.ends_on.data + dt.timedelta(days=1), dt.time(0), zone)
        return starts.astimezone(dt.UTC), ends.astimezone(dt.UTC)

    @classmethod
    def of(cls, absence, zone):
        """The form filled in with a saved absence, as its person reads it in `zone`."""
        starts, ends = absence.starts_at.astimezone(zone), absence.ends_at.astimezone(zone)
        whole_day_end = ends.time() == dt.time(0)
        return cls(
            starts_on=starts.date(),
            starts_time=None if starts.time() == dt.time(0) else starts.time(),
            ends_on=(ends - dt.timedelta(days=1)).date() if whole_day_end else ends.date(),
            ends_time=None if whole_day_end else ends.time(),
            backup=absence.backup_id,
            hand_over=absence.hand_over,
        )


class IntegrationForm(ActionForm):
    """An ATS's secrets; a blank field keeps the one already saved, but connecting needs a webhook secret."""

    webhook_secret = StringField(filters=[stripped])
    api_key = StringField(filters=[stripped])

    def __init__(self, provider, connected, **kwargs):
        super().__init__(**kwargs)
        self.provider, self.connected = provider, connected

    def validate_webhook_secret(self, field):
        if not self.connected and not field.data:
            raise ValidationError("A webhook secret is needed to connect.")


class CalendarForm(ActionForm):
    """A calendar's credentials: Google's service account (a key file or its JSON) or OAuth client,
    or Microsoft 365's app registration."""

    service_account = FileField()
    service_account_json = StringField()
    domain = StringField(filters=[stripped])
    client_id = StringField(filters=[stripped])
    client_secret = StringField(filters=[stripped])
    refresh_token = StringField(filters=[stripped])
    tenant_id = StringField(filters=[stripped])

    @property
    def key_json(self):
        """The service account key: the uploaded file's, else the pasted JSON, else None."""
        upload = self.service_account.data
        if upload and upload.filename:
            return upload.read().decode("utf-8", "replace")
        return self.service_account_json.data or None
