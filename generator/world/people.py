"""People: users (staff among them, a few blocked), shops with their members, sessions and
sign-in attempts, and the audit log of what staff did."""

from __future__ import annotations

from generator import data
from generator.text import NULL, array, esc, opt, ts, ts_opt
from generator.world.clock import DAY, HOUR, MINUTE
from generator.world.context import Context
from generator.world.plan import People, Plan, Shops


def users(ctx: Context, plan: Plan) -> None:
    """Who joined when, their contacts and roles; staff get their role and a few people are
    blocked (both audited). The rows are written in the same pass: they come from the same draws."""
    rng, sizes, as_of = ctx.rng("users"), ctx.sizes, ctx.as_of
    n = sizes.users
    span = as_of - DAY - ctx.start
    # more people join lately: the density of u ** 0.7 grows towards the present
    created = sorted(ctx.start + int(span * rng.random() ** 0.7) for _ in range(n))
    admins = list(range(1, sizes.admins + 1))
    moderators = list(range(sizes.admins + 1, sizes.admins + sizes.moderators + 1))
    staff = sizes.admins + sizes.moderators
    city_weights = [pop**1.15 for _, _, pop in data.CITIES]
    city = rng.choices(range(len(data.CITIES)), weights=city_weights, k=n + 1)
    blocked_users = [False] * (n + 1)
    user_channels: list[tuple[str, ...]] = [()] * (n + 1)
    user_email: list[str | None] = [None] * (n + 1)
    user_phone: list[str | None] = [None] * (n + 1)
    audit = plan.audit
    audit += [
        (created[m - 1] + HOUR, admins[0], "set_user_role", m, None, None, '{"from":"user","to":"moderator"}')
        for m in moderators
    ]
    p = ctx.pools
    password_hash = ctx.config.password_hash
    seed = ctx.config.seed
    out = ctx.table(
        "users",
        "id display_name email phone telegram_chat_id password_hash role notification_channels"
        " created_at blocked_at blocked_reason blocked_by",
    )
    for uid in range(1, n + 1):
        if rng.random() < 0.5:
            name = f"{rng.choice(p.male_first)} {rng.choice(p.male_last)}"
        else:
            name = f"{rng.choice(p.female_first)} {rng.choice(p.female_last)}"
        # phones and e-mails are unique: a bijection of the id gives the digits, the id the mailbox
        phone = f"+79{(uid * 7_919 + seed * 104_729) % 1_000_000_000:09d}"
        has_phone = uid <= staff or rng.random() < 0.9
        has_email = uid <= staff or not has_phone or rng.random() < 0.7
        email = f"{rng.choice(p.user_names)}{uid}@{rng.choice(p.email_domains)}" if has_email else None
        telegram = 400_000_000 + uid * 13 if rng.random() < 0.45 else None
        channels = []
        if telegram is not None:
            channels.append("telegram")
        if email is not None and rng.random() < 0.5:
            channels.append("email")
        if has_phone and rng.random() < 0.05:
            channels.append("sms")
        role = "admin" if uid <= sizes.admins else "moderator" if uid <= staff else "user"
        joined = created[uid - 1]
        blocked = None
        if uid > staff and rng.random() < 0.01:
            at = joined + int((as_of - joined) * rng.random())
            blocked = (at, rng.choice(admins), rng.choice(data.BLOCK_REASONS))
            audit.append((at, blocked[1], "block_user", uid, None, blocked[2], "{}"))
            blocked_users[uid] = True
        user_channels[uid] = tuple(channels)
        user_email[uid] = email
        user_phone[uid] = phone if has_phone else None
        out.add(
            f"{uid}\t{esc(name)}\t{opt(email)}\t{phone if has_phone else NULL}\t{opt(telegram)}\t"
            f"{password_hash}\t{role}\t{array(channels)}\t{ts(joined)}\t"
            f"{ts_opt(blocked and blocked[0])}\t{blocked[2] if blocked else NULL}\t"
            f"{blocked[1] if blocked else NULL}"
        )
    out.close()
    traders = [u for u in range(staff + 1, n + 1) if not blocked_users[u]]
    plan.people = People(
        created=created,
        admins=admins,
        moderators=moderators,
        city=city,
        blocked=blocked_users,
        channels=user_channels,
        email=user_email,
        phone=user_phone,
        traders=traders,
        traders_created=[created[u - 1] for u in traders],
    )


def shops(ctx: Context, plan: Plan) -> None:
    """Shops opened by traders, with a few more members each."""
    rng, n, as_of = ctx.rng("shops"), ctx.sizes.shops, ctx.as_of
    people = plan.people
    owners = rng.sample(people.traders, min(n, len(people.traders)))
    shop_created: list[int] = [0]
    shop_members: list[list[int]] = [[]]
    shop_city: list[int] = [0]
    member_since: dict[tuple[int, int], int] = {}
    names: set[str] = set()
    rows = ctx.table("shops", "id name description created_at created_by")
    members = ctx.table("shop_members", "shop_id user_id role added_at added_by")
    for sid, owner in enumerate(owners, start=1):
        joined = people.created[owner - 1]
        # some time after the owner joined (never piled up at the end of the history)
        created = joined + int((as_of - HOUR - joined) * rng.random() ** 2)
        city = data.CITIES[people.city[owner]][0]
        name = rng.choice(ctx.pools.companies)
        if name.lower() in names:
            name = f"{name} ({city})"
        while name.lower() in names:
            name = f"{name} {rng.between(2, 1000)}"
        names.add(name.lower())
        about = f"Автозапчасти и услуги, {city}. {rng.choice(data.PART_NOTES)}"
        rows.add(f"{sid}\t{esc(name)}\t{esc(about)}\t{ts(created)}\t{owner}")
        members.add(f"{sid}\t{owner}\towner\t{ts(created)}\t{owner}")
        team = [owner]
        member_since[(sid, owner)] = created
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            member = rng.choice(people.traders)
            if member in team:
                continue
            added = max(created, people.created[member - 1]) + rng.between(MINUTE, 10 * DAY)
            if added >= as_of:
                continue
            team.append(member)
            member_since[(sid, member)] = added
            role = "manager" if rng.random() < 0.3 else "seller"
            members.add(f"{sid}\t{member}\t{role}\t{ts(added)}\t{owner}")
        shop_created.append(created)
        shop_members.append(team)
        shop_city.append(people.city[owner])
    rows.close()
    members.close()
    plan.shops = Shops(created=shop_created, members=shop_members, city=shop_city, member_since=member_since)


def write_accounts(ctx: Context, plan: Plan) -> None:
    """Sessions, failed sign-ins, sign-in and password reset codes, links to connect Telegram."""
    rng, as_of, start = ctx.rng("accounts"), ctx.as_of, ctx.start
    settings = ctx.catalog.settings
    people = plan.people
    traders, created = people.traders, people.created
    sessions = ctx.table("sessions", "id user_id token_hash method created_at expires_at revoked_at")
    for sid in range(1, ctx.sizes.sessions + 1):
        user = rng.choice(traders)
        at = created[user - 1] + int((as_of - created[user - 1]) * rng.random())
        revoked = at + rng.between(MINUTE, settings.session_lifetime) if rng.random() < 0.3 else None
        if revoked is not None and revoked > as_of:
            revoked = None
        telegram = "telegram" in people.channels[user]  # a Telegram code needs a linked chat
        method = "telegram_code" if telegram and rng.random() < 0.5 else "password"
        sessions.add(
            f"{sid}\t{user}\t\\\\x{rng.getrandbits(256):064x}\t{method}\t{ts(at)}\t"
            f"{ts(at + settings.session_lifetime)}\t{ts_opt(revoked)}"
        )
    sessions.close()
    failures = ctx.table("sign_in_failures", "id identifier user_id failed_at")
    for fid in range(1, ctx.sizes.sign_in_failures + 1):
        user = rng.choice(traders)
        identifier = people.email[user] or people.phone[user]
        at = start + int((as_of - start) * rng.random())
        if rng.random() < 0.2:  # someone guessing an address nobody has
            failures.add(f"{fid}\tnobody{fid}@example.com\t{NULL}\t{ts(at)}")
        else:
            failures.add(f"{fid}\t{identifier}\t{user}\t{ts(max(at, created[user - 1]))}")
    failures.close()
    codes = ctx.table(
        "sign_in_codes", "id user_id phone code_hash created_at expires_at attempts max_attempts used_at"
    )
    # codes go to a phone number (V0015): people with Telegram and a phone
    telegram_users = [u for u in traders if "telegram" in people.channels[u] and people.phone[u]] or [
        u for u in traders if people.phone[u]
    ]
    lifetime, max_attempts = settings.sign_in_code_lifetime, settings.sign_in_code_max_attempts
    for cid in range(1, ctx.sizes.sign_in_codes + 1):
        user = rng.choice(telegram_users)
        at = created[user - 1] + int((as_of - created[user - 1]) * rng.random())
        used = at + rng.between(5, lifetime) if rng.random() < 0.7 else None  # before it expired
        # a few wrong entries first, never as many as burn the code
        attempts = min(rng.choice((0, 0, 0, 1, 2)), max_attempts - 1)
        codes.add(
            f"{cid}\t{user}\t{people.phone[user]}\t{ctx.config.password_hash}\t{ts(at)}\t"
            f"{ts(at + lifetime)}\t{attempts}\t{max_attempts}\t{ts_opt(used)}"
        )
    codes.close()
    resets = ctx.table(
        "password_reset_codes",
        "id identifier user_id code_hash created_at expires_at attempts max_attempts used_at",
    )
    for rid in range(1, ctx.sizes.password_reset_codes + 1):
        user = rng.choice(traders)
        at = created[user - 1] + int((as_of - created[user - 1]) * rng.random())
        if rng.random() < 0.15:  # asked for an address nobody has: stored, never sent
            identifier, owner = f"email:reset{rid}@example.net", NULL
        else:
            email, phone = people.email[user], people.phone[user]
            identifier, owner = (f"email:{email}" if email else f"phone:{phone}"), str(user)
        used = at + rng.between(5, lifetime) if owner != NULL and rng.random() < 0.6 else None
        attempts = min(rng.choice((0, 0, 1)), max_attempts - 1)
        resets.add(
            f"{rid}\t{identifier}\t{owner}\t{ctx.config.password_hash}\t{ts(at)}\t"
            f"{ts(at + lifetime)}\t{attempts}\t{max_attempts}\t{ts_opt(used)}"
        )
    resets.close()
    # the links that connected Telegram (each linked person's chat), and some never opened
    links = ctx.table("telegram_link_tokens", "id user_id token_hash created_at expires_at used_at chat_id")
    linked = [u for u in traders if "telegram" in people.channels[u]] or traders[:1]
    link_lifetime = ctx.catalog.settings.telegram_link_lifetime
    for lid in range(1, ctx.sizes.telegram_link_tokens + 1):
        user = rng.choice(linked)
        at = created[user - 1] + int((as_of - created[user - 1]) * rng.random())
        used = at + rng.between(5, link_lifetime) if rng.random() < 0.8 else None
        opened = "telegram" in people.channels[user] and used is not None and used <= as_of
        used = used if opened else None
        chat = str(400_000_000 + user * 13) if opened else NULL  # the chat people.py gave the user
        links.add(
            f"{lid}\t{user}\t\\\\x{rng.getrandbits(256):064x}\t{ts(at)}\t{ts(at + link_lifetime)}\t"
            f"{ts_opt(used)}\t{chat}"
        )
    links.close()


def write_audit(ctx: Context, plan: Plan) -> None:
    """Staff actions, as the stages that planned them added them: roles given, people blocked,
    listings approved or rejected, campaigns and channels created."""
    # details are JSON text already: a million json.dumps of {"listing_id": n} cost seconds
    entries = sorted(plan.audit, key=lambda e: (e[0], e[2]))
    out = ctx.table("audit_log", "id created_at actor_id action target_user_id target_shop_id reason details")
    for aid, (at, actor, action, user, shop, reason, details) in enumerate(entries, start=1):
        out.add(
            f"{aid}\t{ts(at)}\t{opt(actor)}\t{action}\t{opt(user)}\t{opt(shop)}\t"
            f"{opt(reason and esc(reason))}\t{details}"
        )
    out.close()
