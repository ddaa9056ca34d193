"""Admin forms. Services check the rules; forms parse input and carry errors to fields."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.errors import InvalidInput
from app.models import AUTOMATION_KINDS, BOOKING_STATUSES
from app.models.messaging import NUMBER_KINDS
from app.models.orgs import POLICY_MODES
from app.services.people.consent import STAFF_METHODS
from app.web.input_guard import id_range

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
NO_SITTER = 0
MAX_PRICE = Decimal("100000.00")  # in cents it stays inside the database's integer column
TOO_DEAR = f"The price can be at most {MAX_PRICE:,}."
REPEAT_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def apply_domain_error(form: FlaskForm, exc: InvalidInput) -> None:
    """Show a service's InvalidInput next to the field it names (or above the form)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)] if isinstance(field.errors, list) else [str(exc)]
    else:
        form.form_errors.append(str(exc))


def org_time_to_utc(value: datetime | None, tz: str) -> datetime | None:
    """A wall-clock time typed in the org's zone → aware UTC."""
    return value.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) if value is not None else None


def utc_to_org_time(value: datetime | None, tz: str) -> datetime | None:
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if value is not None else None


def cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


class PriceField(DecimalField):
    """A money amount: a finite number ("NaN", "Infinity" and "sNaN" parse as Decimals)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Enter the price as a number, e.g. 35.00.")


class GetForm(FlaskForm):
    """Filters in the query string: no CSRF token (they change nothing)."""

    class Meta:
        csrf = False


class ClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Enter the client's name."), Length(max=120)])
    phone = StringField("Mobile phone", validators=[DataRequired(message="Enter a phone number."),
                                                    Length(max=40)])
    area = StringField("Area (shown to sitters)", validators=[Optional(), Length(max=200)])
    address = StringField("Address (owners only)", validators=[Optional(), Length(max=300)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])
    pets = StringField("Pets (names, comma-separated)", validators=[Optional(), Length(max=400)])
    timezone = StringField("Time zone (empty: from the area code)", validators=[Optional(), Length(max=64)])


class NewClientForm(ClientForm):
    """Adding a client records how they agreed to texts (the consent ledger's first row)."""

    consent_method = SelectField("How did they agree to texts?",
                                 choices=options([("", "— choose —"), *STAFF_METHODS.items()]),
                                 validators=[DataRequired(message="Say how the client agreed to texts.")])


class PetForm(FlaskForm):
    name = StringField("Pet name", validators=[DataRequired(message="Enter the pet's name."), Length(max=80)])
    species = StringField("Species", default="dog", validators=[Optional(), Length(max=40)])


class SitterForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Enter the sitter's name."), Length(max=120)])
    phone = StringField("Mobile phone", validators=[Optional(), Length(max=40)])
    email = EmailField("Login email (leave empty for no login)", validators=[Optional(), Length(max=254)])
    password = PasswordField("Password for the login", validators=[Optional(), Length(max=200)])
    active = BooleanField("Active", default=True)


class SitterLoginForm(FlaskForm):
    email = EmailField("Login email", validators=[DataRequired(message="Enter an email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter a password."), Length(max=200)])


class NumberForm(FlaskForm):
    e164 = StringField("Number", validators=[DataRequired(message="Enter the number."), Length(max=40)])
    kind = SelectField("Kind", choices=options((k, k.replace("_", " ")) for k in NUMBER_KINDS), default="pool")
    sitter_id = SelectField("Sitter (for a sitter's dedicated number)", coerce=int, default=NO_SITTER)
    label = StringField("Label", validators=[Optional(), Length(max=80)])


class BookingForm(FlaskForm):
    client_id = SelectField("Client", coerce=int, validators=[InputRequired(message="Choose a client.")])
    sitter_id = SelectField("Sitter", coerce=int, default=NO_SITTER)
    service = StringField("Service", default="Drop-in visit", validators=[Optional(), Length(max=80)])
    start_at = DateTimeLocalField("Start", format=DATETIME_LOCAL,
                                  validators=[InputRequired(message="Enter the start.")])
    end_at = DateTimeLocalField("End", format=DATETIME_LOCAL, validators=[InputRequired(message="Enter the end.")])
    price = PriceField("Price", places=2, default=Decimal("0.00"),
                         validators=[InputRequired(message="Enter a price (0 for free)."),
                                     NumberRange(min=0, message="The price cannot be negative."),
                                     NumberRange(max=MAX_PRICE, message=TOO_DEAR)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])
    # A repeat rule (new bookings only): app.services.bookings.series checks it.
    repeat_days = SelectMultipleField("Repeat on", choices=options((d, d.capitalize()) for d in REPEAT_WEEKDAYS),
                                      validators=[Optional()])
    repeat_every = IntegerField("Every … weeks", default=1, validators=[
        Optional(), NumberRange(min=1, max=12, message="Repeat every 1 to 12 weeks.")])
    repeat_until = DateField("Until (inclusive)", validators=[Optional()])
    repeat_count = IntegerField("Or for … visits", validators=[
        Optional(), NumberRange(min=1, max=120, message="A series has 1 to 120 visits.")])


class BookingDetailsForm(FlaskForm):
    service = StringField("Service", validators=[Optional(), Length(max=80)])
    price = PriceField("Price", places=2, validators=[InputRequired(message="Enter a price (0 for free)."),
                                                        NumberRange(min=0, message="The price cannot be negative."),
                                                        NumberRange(max=MAX_PRICE, message=TOO_DEAR)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class CancelForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(message="Say why it is cancelled."),
                                               Length(max=200)])


class ChangeSitterForm(FlaskForm):
    sitter_id = SelectField("New sitter", coerce=int, validators=[InputRequired()])


class RescheduleForm(FlaskForm):
    start_at = DateTimeLocalField("New start", format=DATETIME_LOCAL,
                                  validators=[InputRequired(message="Enter the start.")])
    end_at = DateTimeLocalField("New end", format=DATETIME_LOCAL,
                                validators=[InputRequired(message="Enter the end.")])


class SeriesEditForm(FlaskForm):
    """A series' times of day and price, from one occurrence on (app.services.bookings.series).
    Prefixed ("series-price"): it shares the booking page with the details form's own price."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "series")
        super().__init__(*args, **kwargs)

    start_time = TimeField("Start time", validators=[InputRequired(message="Enter the start time.")])
    end_time = TimeField("End time", validators=[InputRequired(message="Enter the end time.")])
    price = PriceField("Price", places=2, validators=[InputRequired(message="Enter a price (0 for free)."),
                                                        NumberRange(min=0, message="The price cannot be negative."),
                                                        NumberRange(max=MAX_PRICE, message=TOO_DEAR)])


class TimeOffForm(FlaskForm):
    first_day = DateField("First day away", validators=[InputRequired(message="Enter the first day away.")])
    last_day = DateField("Last day away", validators=[Optional()])
    note = StringField("Note", validators=[Optional(), Length(max=200)])


class BookingFilterForm(GetForm):
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    status = SelectField("Status", choices=options([("", "any")] + [(s, s) for s in BOOKING_STATUSES]), default="")
    sitter_id = SelectField("Sitter", coerce=int, default=NO_SITTER)
    client_id = SelectField("Client", coerce=int, default=NO_SITTER)


class AuditFilterForm(GetForm):
    kind = StringField("Kind", validators=[Optional(), Length(max=64)])
    booking_id = IntegerField("Booking #", validators=[Optional(), id_range("No booking has that number.")])
    sitter_id = SelectField("Sitter", coerce=int, default=NO_SITTER)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    user_id = SelectField("Person", coerce=int, default=0)


class ReplyForm(FlaskForm):
    from_number_id = SelectField("Send from", coerce=int)
    # Empty is fine when photos are attached: the reply service decides (and keeps the text).
    body = TextAreaField("Reply", validators=[Optional(), Length(max=1600)])


class TemplateForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    body = TextAreaField("Template", validators=[DataRequired(message="A template cannot be empty."),
                                                 Length(max=1600)])
    booking_id = SelectField("Preview with booking", coerce=int, default=NO_SITTER, validate_choice=False)

    def validate_kind(self, field):
        if field.data not in AUTOMATION_KINDS:
            raise ValueError("Unknown automation kind.")


class SettingsForm(FlaskForm):
    name = StringField("Business name", validators=[DataRequired(message="Enter the business name."),
                                                    Length(max=120)])
    timezone = StringField("Time zone", validators=[DataRequired(message="Enter a time zone."), Length(max=64)])
    grace_minutes = IntegerField("Grace after a visit (minutes)",
                                 validators=[InputRequired(message="Enter minutes."),
                                             NumberRange(0, 1440, message="Use 0 to 1440 minutes.")])
    quiet_start_hour = IntegerField("Quiet hours start (hour, 0-23)",
                                    validators=[InputRequired(), NumberRange(0, 23, message="Use an hour 0-23.")])
    quiet_end_hour = IntegerField("Quiet hours end (hour, 0-23)",
                                  validators=[InputRequired(), NumberRange(0, 23, message="Use an hour 0-23.")])
    policy_mode = SelectField("Sitter messages with phone numbers, emails or payment handles",
                              choices=options((m, {"block": "block them", "flag": "send but flag"}[m])
                                               for m in POLICY_MODES))
    visit_followup_enabled = BooleanField("Send a follow-up text after each visit")
    care_notes_lead_minutes = IntegerField("Show care notes to the sitter this many minutes before a visit",
                                           default=60,
                                           validators=[Optional(),
                                                       NumberRange(0, 1440, message="Use 0 to 1440 minutes.")])
    office_phone_e164 = StringField("Office phone for calls", validators=[Optional(), Length(max=32)])
    out_of_window_reply_enabled = BooleanField(
        "Tell a client who texts outside every visit window that the office has the message (once a day)")
    number_cooloff_days = IntegerField("Keep a pool number away from a client this many days after another "
                                       "sitter's visit on it", default=7,
                                       validators=[Optional(), NumberRange(0, 90, message="Use 0 to 90 days.")])
    front_desk_only = BooleanField("Front-desk-only mode: every conversation uses the front-desk number")
    calendar_week_start = SelectField("The week calendar starts",
                                      choices=options((("today", "today (the next seven days)"),
                                                       ("monday", "on Monday"))),
                                      validate_choice=False)  # left out: unchanged (the service checks it)
    support_contact = StringField("Support contact in HELP replies (empty: the front-desk number)",
                                  validators=[Optional(), Length(max=120)])
    consent_wording = TextAreaField("Consent wording shown when a client agrees to texts",
                                    validators=[Optional(), Length(max=1000)])
    messaging_service_sid = StringField("Twilio Messaging Service SID (MG…, for 10DLC)",
                                        validators=[Optional(), Length(max=34)])
    retention_days = IntegerField("Keep message texts and photos of finished bookings for (days)", default=730,
                                  validators=[Optional(), NumberRange(30, 36500, message="Use 30 to 36500 days.")])
    visit_late_minutes = IntegerField("A visit is late when not checked in this many minutes after its start",
                                      default=15,
                                      validators=[Optional(), NumberRange(1, 240, message="Use 1 to 240 minutes.")])
    visit_arrival_texts = BooleanField("Text the client when the sitter checks in (\"… has arrived\")")
    quick_replies = TextAreaField("Quick replies for sitters (one a line)",
                                  validators=[Optional(), Length(max=2000)])


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(message="Enter an email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter a password."),
                                                     Length(max=200)])
    role = SelectField("Role", choices=options([("staff", "staff"), ("owner", "owner")]), default="staff")


class CareNoteForm(FlaskForm):
    kind = SelectField("Kind", choices=options([("entry", "Entry and keys"), ("feeding", "Feeding"),
                                                ("medication", "Medication")]))
    pet_id = SelectField("For", coerce=int, default=0)
    body = TextAreaField("Instruction", validators=[DataRequired(message="Write the instruction."),
                                                    Length(max=2000, message="Keep a note under 2000 characters.")])
    note_id = HiddenField()


class ConfirmForm(FlaskForm):
    """Buttons that only need the CSRF token."""


class OfficeTextForm(FlaskForm):
    """An owner or staff member texting the client of a thread, from the thread's number."""

    body = TextAreaField("Message", validators=[DataRequired(message="Write a message first."),
                                                Length(max=1600, message="Keep texts under 1600 characters.")])
    back = HiddenField()


class SimulateTextForm(FlaskForm):
    client_id = SelectField("From", coerce=int, default=0)
    other_phone = StringField("Or another phone (someone who is not a client)", validators=[Optional(), Length(max=40)])
    to_number_id = SelectField("To our number", coerce=int)
    body = TextAreaField("Their text", validators=[DataRequired(message="Write the client's text."), Length(max=1600)])


class PetProfileForm(FlaskForm):
    """A pet's profile; app.services.people.pet_profiles checks the rules."""

    species = StringField("Species", validators=[Optional(), Length(max=40)])
    breed = StringField("Breed", validators=[Optional(), Length(max=80)])
    age_years = IntegerField("Age (years)", validators=[Optional(), NumberRange(0, 40, message="Use 0 to 40 years.")])
    vet_name = StringField("Vet", validators=[Optional(), Length(max=120)])
    vet_phone = StringField("Vet's phone", validators=[Optional(), Length(max=40)])
    emergency_contact = StringField("Emergency contact (name and phone)", validators=[Optional(), Length(max=200)])
    medication = TextAreaField("Medication, one per line with its times", validators=[Optional(), Length(max=1000)])
    behaviour_flags = SelectMultipleField("Behaviour", validators=[Optional()], validate_choice=False)
