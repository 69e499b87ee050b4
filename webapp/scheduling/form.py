"""The schedule form: one row of fields per interview (interviews-0-name, interviews-0-starts_at, …),
the slots those rows describe, and the add / remove buttons that change the rows."""

from __future__ import annotations

from types import SimpleNamespace

from wtforms import BooleanField, FieldList, Form, FormField, StringField

from ..forms import ActionForm, IdListField, LocalDateTimeField, WholeNumberField, stripped
from .checks import check
from .slots import Slot

# A form never books more than this many interviews at once.
MAX_INTERVIEWS = 12


class InterviewForm(Form):
    """One interview's row; `interview` is the hidden link to the ATS's interview."""

    interview = WholeNumberField()
    name = StringField(filters=[stripped])
    starts_at = LocalDateTimeField()
    ends_at = LocalDateTimeField()
    interviewers = IdListField()
    room = WholeNumberField()
    invite_candidate = BooleanField(default=True)


def _row(slot):
    """A slot as the values of its row."""
    return SimpleNamespace(
        interview=slot.interview_id,
        name=slot.name,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        interviewers=list(slot.interviewer_ids),
        room=slot.room_id,
        invite_candidate=slot.invite_candidate,
    )


class InterviewRows(Form):
    """The interviews a schedule form posts, as many as its interview_count says."""

    interview_count = WholeNumberField()
    interviews = FieldList(FormField(InterviewForm), max_entries=MAX_INTERVIEWS)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj, data, extra_filters, **kwargs)
        del self.interviews.entries[self.interview_count.data or 0 :]

    def slots(self):
        """The interviews the rows describe, in order; malformed times stay None (check() says so)."""
        return [
            Slot(
                name=row.form.name.data,
                interview_id=row.form.interview.data,
                starts_at=row.form.starts_at.data,
                ends_at=row.form.ends_at.data,
                interviewer_ids=row.form.interviewers.data,
                room_id=row.form.room.data,
                invite_candidate=row.form.invite_candidate.data,
            )
            for row in self.interviews
        ]


def slots_from_form(formdata):
    """The interviews a schedule form posted (a MultiDict), in order."""
    return InterviewRows(formdata).slots()


class ScheduleForm(ActionForm, InterviewRows):
    """A schedule being made or edited for an account; validating it checks its plan (see check())."""

    action = StringField()  # the button pressed: save, confirm, add, remove-N

    def __init__(self, account, schedule=None, **kwargs):
        super().__init__(**kwargs)
        self.account, self.schedule = account, schedule
        self.plan = None

    @classmethod
    def of_slots(cls, account, slots, schedule=None):
        """The form filled in with these slots, their clashes found and no errors shown."""
        data = {"interview_count": len(slots), "interviews": [_row(slot) for slot in slots]}
        form = cls(account, schedule, formdata=None, data=data)
        form.plan = check(account, form.slots(), schedule)
        form.plan.errors = {}
        return form

    def validate(self, extra_validators=None):
        """The fields' own checks and the plan's: its errors are shown beside their fields."""
        valid = super().validate(extra_validators)
        self.plan = check(self.account, self.slots(), self.schedule)
        self.add_errors(self.plan.errors)
        return valid and self.plan.valid

    def rearranged(self):
        """The form's rows after its add or remove button, or None when the post is not one of those."""
        slots = self.slots()
        action = self.action.data or ""
        if action == "add":
            if len(slots) < MAX_INTERVIEWS:
                last = slots[-1] if slots else None
                start = last.ends_at if last and last.ends_at else None
                slots.append(
                    Slot(
                        name="",
                        starts_at=start,
                        ends_at=start + (last.ends_at - last.starts_at) if start and last.starts_at else None,
                        interviewer_ids=list(last.interviewer_ids) if last else [],
                    )
                )
            return type(self).of_slots(self.account, slots, self.schedule)
        if action.startswith("remove-") and action[7:].isdigit():
            index = int(action[7:])
            if 0 <= index < len(slots) and len(slots) > 1:
                del slots[index]
            return type(self).of_slots(self.account, slots, self.schedule)
        return None
