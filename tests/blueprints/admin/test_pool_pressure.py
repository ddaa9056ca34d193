"""The numbers page shows pool pressure per week, the bookings waiting now, and the sizing rule."""

from __future__ import annotations

from app.services.bookings.confirmed import on_booking_confirmed


def test_numbers_page_counts_front_desk_fallbacks_and_waits_this_week(client, login_as, make):
    make.number("front_desk")
    alex = make.client()
    first = make.booking(client=alex, sitter=None)
    second = make.booking(client=alex, sitter=None, start=first.start_at)
    on_booking_confirmed(first.id)  # front desk (no pool)
    on_booking_confirmed(second.id)  # waits
    login_as(make.user("owner"))
    page = client.get("/admin/numbers").get_data(as_text=True)
    assert "Pool pressure" in page and "needs k pool numbers" in page
    assert f"#{second.id}" in page and "wait for a number now" in page
    this_week = page.split('class="pressure-week"')[1]
    assert "<td>1</td><td>1</td>" in this_week.replace("\n", "")


def test_a_quiet_week_shows_zeros_and_no_waiting_list(client, login_as, make):
    login_as(make.user("owner"))
    page = client.get("/admin/numbers").get_data(as_text=True)
    assert "wait for a number now" not in page
    assert page.count('class="pressure-week"') == 8
