"""Clients (with pets) and sitters."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, org, owner_or_staff, page_arg
from app.blueprints.admin.forms import (
    ClientForm,
    ConfirmForm,
    PetForm,
    SitterForm,
    apply_domain_error,
)
from app.errors import InvalidInput
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
    if form.validate_on_submit():
        try:
            client = client_service.create_client(
                org().id, name=form.name.data, phone=form.phone.data, area=form.area.data,
                address=form.address.data, notes=form.notes.data,
                pets=(form.pets.data or "").split(","), actor=actor())
        except InvalidInput as exc:
            apply_domain_error(form, exc)
        else:
            flash(f"Client {client.name} added.", "info")
            return redirect(url_for("admin.client_detail", client_id=client.id))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/client_form.html", form=form, client=None), status


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
    if form.validate_on_submit():
        try:
            client_service.update_client(client.id, name=form.name.data, phone=form.phone.data,
                                         area=form.area.data, address=form.address.data,
                                         notes=form.notes.data, actor=actor())
        except InvalidInput as exc:
            apply_domain_error(form, exc)
        else:
            flash("Client saved.", "info")
            return redirect(url_for("admin.client_detail", client_id=client.id))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/client_form.html", form=form, client=client), status


@bp.route("/clients/<int:client_id>/pets", methods=["POST"])
@owner_or_staff
def pet_add(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    form = PetForm()
    if form.validate_on_submit():
        client_service.add_pet(client.id, name=form.name.data, species=form.species.data, actor=actor())
        flash(f"{form.name.data.strip()} added.", "info")
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
    if form.validate_on_submit():
        try:
            sitter = sitter_service.create_sitter(org().id, name=form.name.data, phone=form.phone.data,
                                                  email=form.email.data, password=form.password.data,
                                                  actor=actor())
        except InvalidInput as exc:
            apply_domain_error(form, exc)
        else:
            flash(f"Sitter {sitter.name} added.", "info")
            return redirect(url_for("admin.sitter_detail", sitter_id=sitter.id))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/sitter_form.html", form=form, sitter=None), status


@bp.route("/sitters/<int:sitter_id>", methods=["GET", "POST"])
@owner_or_staff
def sitter_detail(sitter_id: int):
    sitter = get_in_org_or_404(Sitter, sitter_id)
    form = SitterForm(obj=sitter) if request.method == "GET" else SitterForm()
    if form.validate_on_submit():
        try:
            sitter_service.update_sitter(sitter.id, name=form.name.data, phone=form.phone.data,
                                         active=form.active.data, actor=actor())
        except InvalidInput as exc:
            apply_domain_error(form, exc)
        else:
            flash("Sitter saved.", "info")
            return redirect(url_for("admin.sitter_detail", sitter_id=sitter.id))
    numbers = numbers_for_sitter(sitter.id)
    bookings = list_bookings(org().id, org().timezone, BookingFilters(sitter_id=sitter.id), page_arg())
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template("admin/sitter_detail.html", sitter=sitter, form=form, numbers=numbers,
                           bookings=bookings), status

