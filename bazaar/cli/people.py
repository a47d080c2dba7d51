"""`bazaar user …` and `bazaar shop …`: thin wrappers around the api.* people functions.

Commands that act for a person take the session token from --token or BAZAAR_TOKEN.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click
from psycopg.types.json import Jsonb

from bazaar import api
from bazaar.cli import (
    ID,
    Settings,
    call,
    cli,
    done,
    json_option,
    one,
    pass_settings,
    print_page,
    token_option,
)
from bazaar.db import connect
from bazaar.errors import EXIT_BAD_ARGUMENT, EXIT_NOT_ALLOWED, BazaarError
from bazaar.output import print_object, print_output

# -- users -----------------------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Accounts: register, sign in, profiles, and admin powers."""


@user.command("register")
@click.option("--name", required=True, help="Display name (1-80 characters).")
@click.option("--email", help="Email address (an email or a phone is required).")
@click.option("--phone", help="Phone number, international format (+79161234567).")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    type=click.Choice(["telegram", "email", "sms"]),
    help="Notification channel; repeat for several (default: every channel the contacts allow).",
)
@click.option(
    "--fingerprint",
    help="The client's device or network fingerprint (8-128 characters), counted by the registration limit.",
)
@click.password_option(help="Password (8 characters to 72 bytes); prompted when omitted.")
@json_option
@pass_settings
def user_register(
    settings: Settings,
    name: str,
    email: str | None,
    phone: str | None,
    channels: tuple[str, ...],
    fingerprint: str | None,
    password: str,
) -> None:
    """Create an account; prints its id."""
    row = one(settings, "register", name, password, email, phone, list(channels) or None, fingerprint)
    done(settings, f"registered user {row['register']}", user_id=row["register"])


@user.command("login")
@click.argument("identifier")
@click.option("--code", help="Sign in with a Telegram code instead of a password (IDENTIFIER is the phone).")
@click.option("--password", help="Password; prompted when neither it nor --code is given.")
@json_option
@pass_settings
def user_login(settings: Settings, identifier: str, code: str | None, password: str | None) -> None:
    """Sign in with email or phone; prints the session token."""
    if code is None and password is None:
        password = click.prompt("Password", hide_input=True, err=True)
    row = one(settings, "sign_in", identifier, password, code)
    if row["outcome"] != "signed_in":  # the failure is recorded; the row says which it was
        wrong = "wrong login or password" if row["outcome"] == "wrong_password" else "wrong code"
        raise BazaarError(wrong, exit_code=EXIT_NOT_ALLOWED, sqlstate="28P01")
    if settings.json:
        print_object(row, True)
    else:
        click.echo(row["token"])
        click.echo(
            f"signed in as user {row['user_id']} until {row['expires_at']:%Y-%m-%d %H:%M %Z}", err=True
        )
        click.echo(f"export BAZAAR_TOKEN={row['token']}", err=True)


@user.command("request-code")
@click.argument("phone")
@json_option
@pass_settings
def user_request_code(settings: Settings, phone: str) -> None:
    """Ask for a sign-in code: it goes to the Telegram chat of the account with this phone, if there
    is one (the answer does not say whether there is)."""
    expires_at = one(settings, "request_sign_in_code", phone)["request_sign_in_code"]
    done(
        settings,
        f"if this number belongs to an account with Telegram linked, a code is on its way there, "
        f"valid until {expires_at:%H:%M:%S}",
        expires_at=expires_at,
    )


@user.command("change-password")
@click.option("--current-password", help="The current password; prompted when omitted.")
@click.option(
    "--new-password", help="The new password (8 characters to 72 bytes); prompted twice when omitted."
)
@token_option
@json_option
@pass_settings
def user_change_password(
    settings: Settings, current_password: str | None, new_password: str | None, token: str
) -> None:
    """Change your password; your other sessions end."""
    if current_password is None:
        current_password = click.prompt("Current password", hide_input=True, err=True)
    if new_password is None:
        new_password = click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    ended = one(settings, "change_password", token, current_password, new_password)["sessions_ended"]
    done(settings, f"password changed; {ended} other session(s) ended", sessions_ended=ended)


@user.command("forgot-password")
@click.argument("identifier")
@json_option
@pass_settings
def user_forgot_password(settings: Settings, identifier: str) -> None:
    """Ask for a password reset code: it goes to the notification channels of the account with this
    email or phone, if there is one (the answer does not say whether there is)."""
    expires_at = one(settings, "request_password_reset", identifier)["request_password_reset"]
    done(
        settings,
        f"if this is an account's email or phone, a reset code is on its way to its channels, "
        f"valid until {expires_at:%H:%M:%S}",
        expires_at=expires_at,
    )


@user.command("reset-password")
@click.argument("identifier")
@click.option("--code", required=True, help="The six-digit code from `bazaar user forgot-password`.")
@click.option(
    "--new-password", help="The new password (8 characters to 72 bytes); prompted twice when omitted."
)
@json_option
@pass_settings
def user_reset_password(settings: Settings, identifier: str, code: str, new_password: str | None) -> None:
    """Set a new password with a reset code; every session of the account ends."""
    if new_password is None:
        new_password = click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    ended = one(settings, "reset_password", identifier, code, new_password)["sessions_ended"]
    done(settings, f"password reset; {ended} session(s) ended: sign in again", sessions_ended=ended)


@user.command("link-telegram")
@click.option("--current-password", "password", help="Your current password (prompted when omitted).")
@click.option(
    "--bot",
    envvar="BAZAAR_TELEGRAM_BOT",
    metavar="USERNAME",
    help="The bot's username, for the t.me link (env BAZAAR_TELEGRAM_BOT).",
)
@token_option
@json_option
@pass_settings
def user_link_telegram(settings: Settings, password: str | None, bot: str | None, token: str) -> None:
    """A one-time link that connects Telegram to this account: open it in Telegram, press Start,
    then share the phone with the bot's button. Sign-in codes then arrive there."""
    if bot is not None and not re.fullmatch(r"@?[A-Za-z][A-Za-z0-9_]{4,31}", bot):
        raise BazaarError(
            f"--bot is not a Telegram bot's username: {bot}",
            exit_code=EXIT_BAD_ARGUMENT,
            hint="5-32 letters, digits or _, as in @bazaar_bot",
        )
    if password is None:
        password = click.prompt("Current password", hide_input=True, err=True)
    row = one(settings, "request_telegram_link", token, password)
    link = f"https://t.me/{bot.lstrip('@')}?start={row['link_token']}" if bot else None
    done(
        settings,
        f"open {link}" if link else f"send the bot: /start {row['link_token']}",
        link=link,
        link_token=row["link_token"],
        expires_at=row["expires_at"],
    )


@user.command("logout")
@click.option("--everywhere", is_flag=True, help="End every session of this user, not only this one.")
@token_option
@json_option
@pass_settings
def user_logout(settings: Settings, everywhere: bool, token: str) -> None:
    """End this session (or all of them)."""
    if everywhere:
        count = one(settings, "logout_everywhere", token)["logout_everywhere"]
        done(settings, f"ended {count} session(s)", sessions=count)
    else:
        one(settings, "logout", token)
        done(settings, "signed out")


@user.command("show")
@click.argument("user_id", type=ID, required=False)
@click.option("--token", envvar="BAZAAR_TOKEN", metavar="TOKEN", help="Session token (for your own account).")
@json_option
@pass_settings
def user_show(settings: Settings, user_id: int | None, token: str | None) -> None:
    """Show a public profile by id, or your own account (with --token) when no id is given."""
    if user_id is None:
        if not token:
            raise click.UsageError("give a USER_ID, or --token / BAZAAR_TOKEN for your own account")
        row = one(settings, "me", token)
    else:
        row = one(settings, "user_profile", user_id)
    print_object(row, settings.json)


@user.command("block")
@click.argument("user_id", type=ID)
@click.option("--reason", required=True, help="Why (3-500 characters); written to the audit log.")
@token_option
@json_option
@pass_settings
def user_block(settings: Settings, user_id: int, reason: str, token: str) -> None:
    """Block a user (admins): their sessions end at once."""
    one(settings, "block_user", token, user_id, reason)
    done(settings, f"blocked user {user_id}", user_id=user_id)


@user.command("unblock")
@click.argument("user_id", type=ID)
@click.option("--reason", help="Why; written to the audit log.")
@token_option
@json_option
@pass_settings
def user_unblock(settings: Settings, user_id: int, reason: str | None, token: str) -> None:
    """Lift a block (admins)."""
    one(settings, "unblock_user", token, user_id, reason)
    done(settings, f"unblocked user {user_id}", user_id=user_id)


@user.command("promote")
@click.argument("user_id", type=ID)
@click.option(
    "--role",
    type=click.Choice(["moderator", "admin", "user"]),
    default="moderator",
    show_default=True,
    help="The new platform role (user removes staff powers).",
)
@click.option("--reason", help="Why; written to the audit log.")
@token_option
@json_option
@pass_settings
def user_promote(settings: Settings, user_id: int, role: str, reason: str | None, token: str) -> None:
    """Appoint or remove moderators and admins (admins)."""
    one(settings, "set_user_role", token, user_id, role, reason)
    done(settings, f"user {user_id} is now a {role}", user_id=user_id, role=role)


@user.command("bootstrap-admin")
@click.argument("identifier")
@json_option
@pass_settings
def user_bootstrap_admin(settings: Settings, identifier: str) -> None:
    """Make the first admin of an empty marketplace (operators; uses the admin DSN)."""
    with connect(settings.admin_dsn(), autocommit=True) as conn:
        user_id = api.one(conn, "ops", "bootstrap_admin", identifier)["bootstrap_admin"]
    done(settings, f"user {user_id} is the first admin", user_id=user_id)


@user.command("audit-log")
@click.option("--limit", type=int, default=50, show_default=True, help="How many entries (1-500).")
@click.option("--before", type=ID, help="Only entries older than this id (to page back).")
@token_option
@json_option
@pass_settings
def user_audit_log(settings: Settings, limit: int, before: int | None, token: str) -> None:
    """Staff actions, newest first (moderators and admins)."""
    rows = call(settings, "audit_log", token, limit, before)
    columns = ["id", "created_at", "actor_name", "action", "target_user_id", "target_shop_id", "reason"]
    print_output(columns if not settings.json else [*columns, "actor_id", "details"], rows, settings.json)


# -- settings --------------------------------------------------------------------------------


@cli.group()
def setting() -> None:
    """Marketplace settings (admins): limits, lifetimes, who may delete chat messages."""


@setting.command("list")
@token_option
@json_option
@pass_settings
def setting_list(settings: Settings, token: str) -> None:
    """Every setting with its value, type and allowed range."""
    rows = call(settings, "settings", token)
    for row in rows:
        row["range"] = (
            ", ".join(row["allowed_values"])
            if row["allowed_values"]
            else f"{row['min_value']} .. {row['max_value']}"
        )
    columns = ["key", "value", "value_type", "range"]
    if settings.json:
        columns += ["description", "updated_at"]
    print_output(columns, rows, settings.json)


@setting.command("set")
@click.argument("key")
@click.argument("value")
@token_option
@json_option
@pass_settings
def setting_set(settings: Settings, key: str, value: str, token: str) -> None:
    """Change setting KEY to VALUE, written as JSON: 10, '"15 minutes"', '["author", "moderator"]'."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise click.BadParameter(
            f"{value!r} is not JSON (an interval is a quoted string: '\"15 minutes\"')", param_hint="VALUE"
        ) from None
    one(settings, "set_setting", token, key, Jsonb(parsed))
    done(settings, f"{key} is now {value}", key=key, value=parsed)


# -- shops -----------------------------------------------------------------------------------


@cli.group()
def shop() -> None:
    """Shops: seller accounts shared by several members."""


@shop.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the shop sells (up to 4000 characters).")
@token_option
@json_option
@pass_settings
def shop_create(settings: Settings, name: str, description: str, token: str) -> None:
    """Create a shop; you become its owner. Prints its id."""
    shop_id = one(settings, "create_shop", token, name, description)["create_shop"]
    done(settings, f"created shop {shop_id}", shop_id=shop_id)


@shop.command("show")
@click.argument("shop_id", type=ID)
@json_option
@pass_settings
def shop_show(settings: Settings, shop_id: int) -> None:
    """A shop's public card."""
    print_object(one(settings, "shop_profile", shop_id), settings.json)


@shop.command("list")
@token_option
@json_option
@pass_settings
def shop_list(settings: Settings, token: str) -> None:
    """The shops you belong to."""
    print_output(["shop_id", "name", "role", "added_at"], call(settings, "my_shops", token), settings.json)


@shop.command("describe")
@click.argument("shop_id", type=ID)
@click.argument("description")
@token_option
@json_option
@pass_settings
def shop_describe(settings: Settings, shop_id: int, description: str, token: str) -> None:
    """Replace a shop's description (owners and managers)."""
    one(settings, "update_shop_description", token, shop_id, description)
    done(settings, f"updated shop {shop_id}", shop_id=shop_id)


@shop.command("add-member")
@click.argument("shop_id", type=ID)
@click.argument("user_id", type=ID)
@click.option(
    "--role", type=click.Choice(["owner", "manager", "seller"]), default="seller", show_default=True
)
@token_option
@json_option
@pass_settings
def shop_add_member(settings: Settings, shop_id: int, user_id: int, role: str, token: str) -> None:
    """Add a user to a shop (owners)."""
    one(settings, "add_shop_member", token, shop_id, user_id, role)
    done(
        settings, f"user {user_id} is a {role} of shop {shop_id}", shop_id=shop_id, user_id=user_id, role=role
    )


@shop.command("set-role")
@click.argument("shop_id", type=ID)
@click.argument("user_id", type=ID)
@click.argument("role", type=click.Choice(["owner", "manager", "seller"]))
@token_option
@json_option
@pass_settings
def shop_set_role(settings: Settings, shop_id: int, user_id: int, role: str, token: str) -> None:
    """Change a member's role (owners)."""
    one(settings, "set_shop_member_role", token, shop_id, user_id, role)
    done(
        settings, f"user {user_id} is a {role} of shop {shop_id}", shop_id=shop_id, user_id=user_id, role=role
    )


@shop.command("remove-member")
@click.argument("shop_id", type=ID)
@click.argument("user_id", type=ID)
@token_option
@json_option
@pass_settings
def shop_remove_member(settings: Settings, shop_id: int, user_id: int, token: str) -> None:
    """Remove a member (owners), or leave a shop (your own id)."""
    one(settings, "remove_shop_member", token, shop_id, user_id)
    done(settings, f"user {user_id} left shop {shop_id}", shop_id=shop_id, user_id=user_id)


@shop.command("invite")
@click.argument("shop_id", type=ID)
@click.argument("identifier")
@click.option(
    "--role", type=click.Choice(["owner", "manager", "seller"]), default="seller", show_default=True
)
@token_option
@json_option
@pass_settings
def shop_invite(settings: Settings, shop_id: int, identifier: str, role: str, token: str) -> None:
    """Add the person with this e-mail address or phone number to a shop (owners)."""
    user_id = one(settings, "invite_shop_member", token, shop_id, identifier, role)["invite_shop_member"]
    done(
        settings, f"user {user_id} is a {role} of shop {shop_id}", shop_id=shop_id, user_id=user_id, role=role
    )


def _paged(command: Any) -> Any:
    """--status, --cursor and --limit: the options of a shop's keyset lists."""
    command = click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)(command)
    command = click.option("--cursor", help="The next_cursor of the previous page.")(command)
    return click.option("--status", help="Only this status.")(command)


@shop.command("inventory")
@click.argument("shop_id", type=ID)
@_paged
@token_option
@json_option
@pass_settings
def shop_inventory(
    settings: Settings, shop_id: int, status: str | None, cursor: str | None, limit: int, token: str
) -> None:
    """Every listing of a shop in any status, newest first (its staff)."""
    rows = call(settings, "shop_inventory", token, shop_id, status, cursor, limit)
    columns = [
        "listing_id",
        "kind",
        "title",
        "status",
        "price_amount",
        "available_quantity",
        "pending_changes",
    ]
    print_page(settings, columns, rows, ["seller_id", "rejection_reason", "created_at"])


@shop.command("orders")
@click.argument("shop_id", type=ID)
@_paged
@token_option
@json_option
@pass_settings
def shop_orders(
    settings: Settings, shop_id: int, status: str | None, cursor: str | None, limit: int, token: str
) -> None:
    """The orders of a shop's listings, newest first (its staff)."""
    rows = call(settings, "shop_orders", token, shop_id, status, cursor, limit)
    columns = ["order_id", "buyer_name", "title", "units", "total_amount", "status", "created_at"]
    print_page(settings, columns, rows, ["buyer_id", "listing_id", "currency", "reserved_until"])


@shop.command("members")
@click.argument("shop_id", type=ID)
@token_option
@json_option
@pass_settings
def shop_members(settings: Settings, shop_id: int, token: str) -> None:
    """A shop's members (members and staff)."""
    rows = call(settings, "shop_members", token, shop_id)
    print_output(["user_id", "display_name", "role", "added_at"], rows, settings.json)
