"""A pet's profile (vet, emergency contact, medication with times, behaviour flags), edited by the office."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, form_status, owner_or_staff, run_form
from app.blueprints.admin.forms import PetProfileForm
from app.models import Client, Pet
from app.services.people.pet_profiles import BEHAVIOUR_FLAGS, save_pet_profile
from app.web.scoping import get_in_org_or_404


@bp.route("/clients/<int:client_id>/pets/<int:pet_id>/profile", methods=["GET", "POST"])
@owner_or_staff
def pet_profile(client_id: int, pet_id: int):
    client = get_in_org_or_404(Client, client_id)
    pet = get_in_org_or_404(Pet, pet_id)
    if pet.client_id != client.id:
        abort(404)
    if request.method == "GET":
        form = PetProfileForm(obj=pet)
        form.behaviour_flags.data = [f.strip() for f in (pet.behaviour_flags or "").split(",") if f.strip()]
    else:
        form = PetProfileForm()
    outcome = run_form(form, lambda: save_pet_profile(
        pet.id, species=form.species.data, breed=form.breed.data, age_years=form.age_years.data,
        vet_name=form.vet_name.data, vet_phone=form.vet_phone.data, emergency_contact=form.emergency_contact.data,
        medication=form.medication.data, behaviour_flags=form.behaviour_flags.data or [], actor=actor()))
    if outcome.ok:
        flash(f"{pet.name}'s profile saved.", "info")
        return redirect(url_for("admin.client_detail", client_id=client.id))
    return render_template("admin/pet_profile.html", form=form, client=client, pet=pet,
                           flags=BEHAVIOUR_FLAGS), form_status(form)
