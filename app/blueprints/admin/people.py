"""Clients (with pets) and sitters."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, form_status, org, owner_only, owner_or_staff, page_arg, run_form
from app.blueprints.admin.forms import (
    ClientForm,
    ConfirmForm,
    PetForm,
    SitterForm,
    SitterLoginForm,
)
from app.models import Client, Pet, Sitter
from app.scoping import get_in_org_or_404
from app.services import clients as client_service
from app.services import sitters as sitter_service
from app.services.admin_queries import (
    BookingFilters,
    list_bookings,
    list_clients,
    list_sitters,
    numbers_for_sitter,
)
from app.templating import render_page_or_partial


@bp.route("/clients")
@owner_or_staff
def clients():
    search = request.args.get("q", "").strip()
    page = list_clients(org().id, search or None, page_arg())
    return render_page_or_partial("admin/clients.html", "admin/partials/client_rows.html", listing=page, q=search)


@bp.route("/clients/new", methods=["GET", "POST"])
@owner_or_staff
def client_new():
    form = ClientForm()
    outcome = run_form(form, lambda: client_service.create_client(
        org().id, name=form.name.data, phone=form.phone.data, area=form.area.data, address=form.address.data,
        notes=form.notes.data, pets=(form.pets.data or "").split(","), actor=actor()))
    if outcome.ok:
        flash(f"Client {outcome.result.name} added.", "info")
        return redirect(url_for("admin.client_detail", client_id=outcome.result.id))
    return render_template("admin/client_form.html", form=form, client=None), form_status(form)


@bp.route("/clients/<int:client_id>")
@owner_or_staff
def client_detail(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    bookings = list_bookings(org().id, org().timezone, BookingFilters(client_id=client.id), page_arg())
    return render_template("admin/client_detail.html", client=client, bookings=bookings, pet_form=PetForm(),
                           form=ConfirmForm())


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@owner_or_staff
def client_edit(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    form = ClientForm(obj=client) if request.method == "GET" else ClientForm()
    if request.method == "GET":
        form.phone.data = client.phone_e164
    if run_form(form, lambda: client_service.update_client(
            client.id, name=form.name.data, phone=form.phone.data, area=form.area.data,
            address=form.address.data, notes=form.notes.data, actor=actor())).ok:
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
    bookings = list_bookings(org().id, org().timezone, BookingFilters(client_id=client.id), 1)
    return render_template("admin/client_detail.html", client=client, bookings=bookings, pet_form=form,
                           form=ConfirmForm()), 422


@bp.route("/clients/<int:client_id>/pets/<int:pet_id>/remove", methods=["POST"])
@owner_or_staff
def pet_remove(client_id: int, pet_id: int):
    client = get_in_org_or_404(Client, client_id)
    pet = get_in_org_or_404(Pet, pet_id)
    if pet.client_id != client.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        client_service.remove_pet(pet.id, actor=actor())
        flash(f"{pet.name} removed.", "info")
    return redirect(url_for("admin.client_detail", client_id=client.id))


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
    return _sitter_page(sitter, form=form, login_form=SitterLoginForm()), form_status(form)


def _sitter_page(sitter: Sitter, *, form: SitterForm, login_form: SitterLoginForm) -> str:
    bookings = list_bookings(org().id, org().timezone, BookingFilters(sitter_id=sitter.id), page_arg())
    return render_template("admin/sitter_detail.html", sitter=sitter, form=form, login_form=login_form,
                           bookings=bookings, numbers=numbers_for_sitter(sitter.id))


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
    return _sitter_page(sitter, form=form, login_form=login_form), 422

