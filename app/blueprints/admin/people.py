"""Clients (with pets) and sitters."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.common import (
    actor,
    confirm_step,
    form_status,
    org,
    owner_only,
    owner_or_staff,
    page_arg,
    run_form,
)
from app.blueprints.admin.forms import (
    CareNoteForm,
    ClientForm,
    ConfirmForm,
    NewClientForm,
    PetForm,
    SitterForm,
    SitterLoginForm,
    TimeOffForm,
    options,
)
from app.clock import utcnow
from app.localtime import local_date
from app.models import CareNote, Client, Pet, Sitter
from app.services.messaging.provider_deletion import deletion_counts
from app.services.people import care_notes
from app.services.people import clients as client_service
from app.services.people import sitters as sitter_service
from app.services.people.consent import consent_ledger, consent_wording
from app.services.people.time_off import time_off_of
from app.services.people.timezones import client_zone_name
from app.services.queries.action_previews import preview_remove_pet
from app.services.queries.admin import (
    BookingFilters,
    list_bookings,
    list_clients,
    list_sitters,
    numbers_for_sitter,
)
from app.web.scoping import get_in_org_or_404
from app.web.templating import render_page_or_partial


@bp.route("/clients")
@owner_or_staff
def clients():
    search = request.args.get("q", "").strip()
    page = list_clients(org().id, search or None, page_arg())
    return render_page_or_partial("admin/clients.html", "admin/partials/client_rows.html", listing=page, q=search)


@bp.route("/clients/new", methods=["GET", "POST"])
@owner_or_staff
def client_new():
    form = NewClientForm()
    outcome = run_form(form, lambda: client_service.create_client(
        org().id, name=form.name.data, phone=form.phone.data, area=form.area.data, address=form.address.data,
        notes=form.notes.data, pets=(form.pets.data or "").split(","), actor=actor(),
        timezone=form.timezone.data, consent_method=form.consent_method.data, consent_user_id=current_user.id))
    if outcome.ok:
        flash(f"Client {outcome.result.name} added.", "info")
        return redirect(url_for("admin.client_detail", client_id=outcome.result.id))
    return render_template("admin/client_form.html", form=form, client=None,
                           consent_wording=consent_wording(org())), form_status(form)


def _client_page(client: Client, pet_form: PetForm | None = None, care_form: CareNoteForm | None = None,
                 status: int = 200):
    bookings = list_bookings(org().id, org().timezone, BookingFilters(client_id=client.id), page_arg())
    return render_template("admin/client_detail.html", client=client, bookings=bookings,
                           pet_form=pet_form or PetForm(formdata=None), form=ConfirmForm(),
                           care_notes=care_notes.notes_for_client(client.id),
                           consent_ledger=consent_ledger(client.id), deletions=deletion_counts(client.id),
                           client_zone=client_zone_name(client, org()),
                           care_form=care_form or _care_note_form(client, formdata=False)), status


@bp.route("/clients/<int:client_id>")
@owner_or_staff
def client_detail(client_id: int):
    return _client_page(get_in_org_or_404(Client, client_id))


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@owner_or_staff
def client_edit(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    form = ClientForm(obj=client) if request.method == "GET" else ClientForm()
    if request.method == "GET":
        form.phone.data = client.phone_e164
    if run_form(form, lambda: client_service.update_client(
            client.id, name=form.name.data, phone=form.phone.data, area=form.area.data,
            address=form.address.data, notes=form.notes.data, actor=actor(), timezone=form.timezone.data)).ok:
        flash("Client saved.", "info")
        return redirect(url_for("admin.client_detail", client_id=client.id))
    return render_template("admin/client_form.html", form=form, client=client), form_status(form)


@bp.route("/clients/<int:client_id>/pets", methods=["POST"])
@owner_or_staff
def pet_add(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    form = PetForm()
    outcome = run_form(form, lambda: client_service.add_pet(client.id, name=form.name.data,
                                                            species=form.species.data, actor=actor()))
    if outcome.ok:
        flash(f"{outcome.result.name} added.", "info")
        return redirect(url_for("admin.client_detail", client_id=client.id))
    return _client_page(client, pet_form=form, status=422)


def _client_and_its_own(model, client_id: int, row_id: int):
    """The org's client and one of its own rows (a pet, a care note): 404 for anyone else's."""
    client = get_in_org_or_404(Client, client_id)
    row = get_in_org_or_404(model, row_id)
    if row.client_id != client.id:
        abort(404)
    return client, row


@bp.route("/clients/<int:client_id>/pets/<int:pet_id>/remove", methods=["POST"])
@owner_or_staff
def pet_remove(client_id: int, pet_id: int):
    client, pet = _client_and_its_own(Pet, client_id, pet_id)
    back = url_for("admin.client_detail", client_id=client.id)

    def remove():
        client_service.remove_pet(pet.id, actor=actor())
        flash(f"{pet.name} removed.", "info")
        return redirect(back)

    return confirm_step(lambda: preview_remove_pet(pet.id), back, remove)


@bp.route("/sitters")
@owner_or_staff
def sitters():
    page = list_sitters(org().id, page_arg())
    return render_template("admin/sitters.html", listing=page)


@bp.route("/sitters/new", methods=["GET", "POST"])
@owner_or_staff
def sitter_new():
    form = SitterForm()
    outcome = run_form(form, lambda: sitter_service.create_sitter(
        org().id, name=form.name.data, phone=form.phone.data, email=form.email.data,
        password=form.password.data, actor=actor()))
    if outcome.ok:
        flash(f"Sitter {outcome.result.name} added.", "info")
        return redirect(url_for("admin.sitter_detail", sitter_id=outcome.result.id))
    return render_template("admin/sitter_form.html", form=form, sitter=None), form_status(form)


@bp.route("/sitters/<int:sitter_id>", methods=["GET", "POST"])
@owner_or_staff
def sitter_detail(sitter_id: int):
    sitter = get_in_org_or_404(Sitter, sitter_id)
    form = SitterForm(obj=sitter) if request.method == "GET" else SitterForm()
    if request.method == "GET":  # the column is phone_e164, the field phone: load it, or a save blanks it
        form.phone.data = sitter.phone_e164
    if run_form(form, lambda: sitter_service.update_sitter(sitter.id, name=form.name.data, phone=form.phone.data,
                                                           active=form.active.data, actor=actor())).ok:
        flash("Sitter saved.", "info")
        return redirect(url_for("admin.sitter_detail", sitter_id=sitter.id))
    return sitter_page(sitter, form=form, login_form=SitterLoginForm()), form_status(form)


def sitter_page(sitter: Sitter, *, form: SitterForm, login_form: SitterLoginForm,
                time_off_form: TimeOffForm | None = None) -> str:
    bookings = list_bookings(org().id, org().timezone, BookingFilters(sitter_id=sitter.id), page_arg())
    today = local_date(utcnow(), org().timezone)
    return render_template("admin/sitter_detail.html", sitter=sitter, form=form, login_form=login_form,
                           bookings=bookings, numbers=numbers_for_sitter(sitter.id),
                           time_off=time_off_of(sitter.id, since=today),
                           time_off_form=time_off_form or TimeOffForm(formdata=None), confirm_form=ConfirmForm())


@bp.route("/sitters/<int:sitter_id>/login", methods=["POST"])
@owner_only
def sitter_add_login(sitter_id: int):
    """Give a sitter added without a login one (owners only: it is a new way into the org)."""
    sitter = get_in_org_or_404(Sitter, sitter_id)
    login_form = SitterLoginForm()
    outcome = run_form(login_form, lambda: sitter_service.add_sitter_login(
        sitter.id, email=login_form.email.data, password=login_form.password.data, actor=actor()))
    if outcome.ok:
        flash(f"{sitter.name} can now log in as {outcome.result.email}.", "info")
        return redirect(url_for("admin.sitter_detail", sitter_id=sitter.id))
    form = SitterForm(obj=sitter)
    form.phone.data = sitter.phone_e164
    return sitter_page(sitter, form=form, login_form=login_form), 422



def _care_note_form(client: Client, formdata=True) -> CareNoteForm:
    form = CareNoteForm() if formdata else CareNoteForm(formdata=None)
    form.pet_id.choices = options([(0, "the whole household")] + [(p.id, p.name) for p in client.pets])
    return form


@bp.route("/clients/<int:client_id>/care-notes", methods=["POST"])
@owner_or_staff
def care_note_save(client_id: int):
    """Add a care note, or replace one's text (note_id)."""
    client = get_in_org_or_404(Client, client_id)
    form = _care_note_form(client)
    note_id = None
    if form.note_id.data:
        raw = form.note_id.data
        # a posted id outside the database's integer range is a 404, not a driver error
        note_id = get_in_org_or_404(CareNote, int(raw) if raw.isdigit() and int(raw) < 2**31 else 0).id
    outcome = run_form(form, lambda: care_notes.save_care_note(
        client.id, kind=form.kind.data, body=form.body.data, pet_id=form.pet_id.data or None, note_id=note_id,
        user_id=current_user.id))
    if outcome.ok:
        flash("Care note saved: the assigned sitter sees it around each visit.", "info")
        return redirect(url_for("admin.client_detail", client_id=client.id, _anchor="care-notes"))
    return _client_page(client, care_form=form, status=422)


@bp.route("/clients/<int:client_id>/care-notes/<int:note_id>/remove", methods=["POST"])
@owner_or_staff
def care_note_remove(client_id: int, note_id: int):
    client, note = _client_and_its_own(CareNote, client_id, note_id)
    if ConfirmForm().validate_on_submit():
        care_notes.remove_care_note(note.id, current_user.id)
        flash("Care note removed.", "info")
    return redirect(url_for("admin.client_detail", client_id=client.id, _anchor="care-notes"))
