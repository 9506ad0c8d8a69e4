"""`flask users create|token|revoke|list`: accounts and API tokens from the command line.

Commands that make a token print it as the last line of their output, alone, so scripts can take it
with `| tail -n 1`.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from coordinator.auth import services
from coordinator.auth.models import ROLES, ApiToken, User
from coordinator.db import session_scope
from coordinator.errors import ApiError
from coordinator.extensions import get_sessionmaker
from coordinator.settings import get_settings

users_cli = AppGroup("users", help="People and API tokens.")


def _fail(exc: ApiError) -> click.ClickException:
    details = exc.details if isinstance(exc.details, list) else []
    return click.ClickException("\n  - ".join([exc.message, *map(str, details)]))


def describe(user: User) -> str:
    """One line about a user."""
    parts = [user.role]
    if user.squad is not None:
        parts.append(f"squad {user.squad.code} {user.squad.name_zh}")
    if user.role == "dispatcher":
        parts.append(f"district {user.district_code}" if user.district_code else "alliance-wide")
    if not user.active:
        parts.append("INACTIVE")
    return f"{user.username} ({', '.join(parts)})"


def echo_token(row: ApiToken, token: str) -> None:
    """Say what the token is, then print it alone on the last line."""
    click.echo(
        f"API token {row.prefix}… expires {row.expires_at:%Y-%m-%d %H:%M} UTC; shown once, only its hash is "
        "stored. Use it as 'Authorization: Bearer <token>':"
    )
    click.echo(token)


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--squad", "squad_code", default=None, help="Squad code (squad_leader, squad_member).")
@click.option("--district", default=None, help="District code (dispatcher; none = the whole alliance).")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--password", default=None, help="Set this password (it ends up in your shell history).")
@click.option("--prompt-password", is_flag=True, help="Ask for the password instead of generating one.")
@click.option("--no-password", is_flag=True, help="Token-only account (apps, camera gateways).")
@click.option("--days", type=int, default=None, help="Token lifetime in days (default: TOKEN_TTL_DAYS).")
def create_user(
    username: str,
    role: str,
    squad_code: str | None,
    district: str | None,
    display_name: str,
    password: str | None,
    prompt_password: bool,
    no_password: bool,
    days: int | None,
) -> None:
    """Create a user and print a new API token (last line). Without a password option a random
    password is generated and shown once."""
    if sum([password is not None, prompt_password, no_password]) > 1:
        raise click.UsageError("use at most one of --password, --prompt-password, --no-password")
    generated = password is None and not prompt_password and not no_password
    if prompt_password:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    elif generated:
        password = services.generate_password()
    ttl = get_settings().token_ttl_days if days is None else days  # 0 is refused, not the default
    try:
        with session_scope(get_sessionmaker()) as session:
            user = services.create_user(
                session,
                username=username,
                role=role,
                squad_code=squad_code,
                district=district,
                display_name=display_name,
                password=password,
            )
            row, token = services.issue_token(session, user, ttl_days=ttl, label="cli: users create")
            click.echo(f"created user {describe(user)}")
            if generated:
                click.echo(f"password: {password}   (generated; shown once)")
            elif no_password:
                click.echo("no password: this account cannot log in to the web UI, only use tokens")
            echo_token(row, token)
    except ApiError as exc:
        raise _fail(exc) from exc


@users_cli.command("token")
@click.argument("username")
@click.option("--days", type=int, default=None, help="Lifetime in days (default: TOKEN_TTL_DAYS).")
@click.option("--label", default="cli: users token", help="What the token is for.")
def new_token(username: str, days: int | None, label: str) -> None:
    """Issue a new API token for USERNAME (printed as the last line). Older tokens keep working."""
    ttl = get_settings().token_ttl_days if days is None else days  # 0 is refused, not the default
    try:
        with session_scope(get_sessionmaker()) as session:
            user = services.get_user(session, username)
            if not user.active:
                raise click.ClickException(f"{username} is deactivated; no token issued")
            row, token = services.issue_token(session, user, ttl_days=ttl, label=label)
            click.echo(f"new token for {describe(user)}")
            echo_token(row, token)
    except ApiError as exc:
        raise _fail(exc) from exc


@users_cli.command("revoke")
@click.argument("username", required=False)
@click.option("--token", "prefix", default=None, help="Revoke only the token starting with this prefix.")
@click.option("--deactivate", is_flag=True, help="Also deactivate the account (ends its web sessions).")
def revoke(username: str | None, prefix: str | None, deactivate: bool) -> None:
    """Revoke every token of USERNAME, or one token by --token PREFIX (as shown by `users list`)."""
    if username is None and prefix is None:
        raise click.UsageError("name a USERNAME or give --token PREFIX")
    if deactivate and username is None:
        raise click.UsageError("--deactivate needs a USERNAME")
    try:
        with session_scope(get_sessionmaker()) as session:
            count = services.revoke_tokens(session, username=username, prefix=prefix)
            if deactivate and username is not None:
                services.deactivate_user(session, username)
                click.echo(f"deactivated {username}")
    except ApiError as exc:
        raise _fail(exc) from exc
    click.echo(f"revoked {count} token(s)")


@users_cli.command("list")
def list_users() -> None:
    """Users and their live tokens (prefixes only)."""
    with session_scope(get_sessionmaker()) as session:
        for user in services.list_users(session):
            tokens = services.live_tokens(session, user)
            shown = ", ".join(f"{t.prefix}… until {t.expires_at:%Y-%m-%d}" for t in tokens) or "no live token"
            click.echo(f"{describe(user)}\t{shown}")
