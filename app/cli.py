"""Operator commands: `flask --app app seed-demo`, `create-user`, `create-operator`, `proof`, `reconcile`."""

from __future__ import annotations

import sys

import click
from flask import Flask

from app.errors import DomainError


def register_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create (once) a demo org around now and print its logins."""
        from app.services.ops.demo import DEMO_PASSWORD, seed_demo

        result = seed_demo()
        click.echo(f"Demo org: {result['org']} ({'created' if result['created'] else 'already there'})")
        click.echo(f"Logins (password for all: {DEMO_PASSWORD}):")
        for role, email in result["logins"]:
            click.echo(f"  {role:<7} {email}")

    @app.cli.command("create-user")
    @click.option("--org-id", type=int, required=True)
    @click.option("--email", required=True)
    @click.option("--role", required=True, help="owner, staff or sitter")
    @click.option("--name", default="")
    @click.password_option()
    def create_user_command(org_id: int, email: str, role: str, name: str, password: str) -> None:
        """Add a login to an org."""
        from app.services.accounts.users import create_user

        try:
            user = create_user(org_id, email, password, role, name)
        except DomainError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        click.echo(f"Created {user.role} {user.email} (id {user.id})")

    @app.cli.command("vapid-keys")
    def vapid_keys_command() -> None:
        """Print a new VAPID key pair for Web Push (set them in the environment, keep the private one secret)."""
        from app.vapid_keys import generate_vapid_keys

        public, private = generate_vapid_keys()
        click.echo(f"VAPID_PUBLIC_KEY={public}")
        click.echo(f"VAPID_PRIVATE_KEY={private}")
        click.echo("VAPID_SUBJECT=mailto:you@example.com  # a contact for the push services")
        click.echo("Changing the keys later drops every device's subscription: devices must opt in again.",
                   err=True)

    @app.cli.command("reconcile")
    @click.option("--batch-size", default=None, type=click.IntRange(1, 10_000),
                  help="Rows per batch (default: app.services.ops.reconcile.BATCH_SIZE).")
    def reconcile_command(batch_size: int | None) -> None:
        """Re-enqueue every queued text, due run and stored callback whose job the queue lost,
        and settle texts stuck mid-send (never sending twice)."""
        from app.services.ops.reconcile import BATCH_SIZE, reconcile

        report = reconcile(batch_size=batch_size or BATCH_SIZE)
        for name, count in report.counts.items():
            click.echo(f"{name:<18} {count}")
        for name, error in report.errors.items():
            click.echo(f"{name:<18} FAILED: {error}", err=True)
        if not report.ok:
            sys.exit(1)

    @app.cli.command("create-operator")
    @click.argument("email")
    @click.option("--name", default="")
    @click.password_option()
    def create_operator_command(email: str, name: str, password: str) -> None:
        """Add an operator: sees the RQ dashboard (every org's jobs), belongs to no org."""
        from app.services.accounts.passwords import create_operator

        try:
            operator = create_operator(email, password, name)
        except DomainError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        click.echo(f"Created operator {operator.email} (id {operator.id}); log in at /login, then /admin/rq.")

    @app.cli.command("late-visits")
    def late_visits_command() -> None:
        """Raise the owner alert for every confirmed visit not checked in in time (visit.late) and every
        visit not checked out an hour after its end (visit.unfinished), once each."""
        from app.services.visits.alerts import scan_late_visits

        result = scan_late_visits()
        for name, count in result.counts.items():
            click.echo(f"{name}: {count}")

    @app.cli.command("proof")
    @click.option("--url", default=None,
                  help="Base URL of a running instance on this database (default: in-process).")
    @click.option("--wait", "wait_seconds", default=10.0, show_default=True,
                  help="Seconds to wait for the confirmation text when a worker sends it.")
    def proof_command(url: str | None, wait_seconds: float) -> None:
        """Pay a proof booking through a signed Stripe webhook and print what it produced."""
        from app.services.ops.proof import ProofSetupError, run_proof

        try:
            report = run_proof(url=url, wait_seconds=wait_seconds)
        except ProofSetupError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        for line in report.lines:
            click.echo(line)
        if not report.ok:
            sys.exit(1)
