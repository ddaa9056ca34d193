"""The audit log filters by the person who acted, and the filter offers the org's people only."""

from __future__ import annotations


def rows(client, url: str) -> str:
    return client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_audit_log_filters_by_person(client, login_as, make):
    owner = make.user("owner", name="Olivia Owner")
    staff = make.user("staff", name="Stan Staff")
    make.user("owner", org=make.org(), name="Elsewhere Person")
    login_as(owner)
    make.event("booking.created", actor=f"user:{owner.id}", payload={"n": "mine"})
    make.event("booking.cancelled", actor=f"user:{staff.id}", payload={"n": "theirs"})
    make.event("number.added", actor="system", payload={"n": "system"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Stan Staff (staff)" in page and "Elsewhere Person" not in page
    by_staff = rows(client, f"/admin/audit?user_id={staff.id}")
    assert "<dd>theirs</dd>" in by_staff and "<dd>mine</dd>" not in by_staff and "<dd>system</dd>" not in by_staff
    everyone = rows(client, "/admin/audit?user_id=0")
    assert "<dd>theirs</dd>" in everyone and "<dd>mine</dd>" in everyone
