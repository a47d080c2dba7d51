"""What each kind of notification says to a person: a subject (e-mail) and a plain text (every
channel; e-mail also gets it as HTML). The marketplace speaks Russian; operator alerts English.

A kind without a template of its own gets a generic text naming it, so a new kind queued by the
database is still delivered (and the template can follow)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    subject: str
    text: str

    def html(self) -> str:
        paragraphs = (f"<p>{html.escape(p)}</p>" for p in self.text.split("\n\n"))
        return "<!doctype html><html><body>" + "".join(paragraphs) + "</body></html>"


def _money(minor: Any) -> str:
    try:
        return f"{int(minor) / 100:,.2f} ₽".replace(",", " ")
    except (TypeError, ValueError):
        return "—"


def _listings(payload: Mapping[str, Any]) -> str:
    ids = payload.get("listing_ids") or [payload.get("listing_id")]
    return ", ".join(f"№{i}" for i in ids if i is not None) or "—"


Template = Callable[[Mapping[str, Any]], Message]

TEMPLATES: dict[str, Template] = {
    "sign_in_code": lambda p: Message(
        "Код для входа", f"Ваш код для входа в Bazaar: {p.get('code')}.\n\nНикому его не сообщайте."
    ),
    "password_reset_code": lambda p: Message(
        "Сброс пароля",
        f"Код для сброса пароля: {p.get('code')}.\n\n"
        "Если вы не просили сбросить пароль, ничего не делайте: пароль останется прежним.",
    ),
    "password_changed": lambda p: Message(
        "Пароль изменён",
        "Пароль вашей учётной записи Bazaar изменён"
        + (" по коду сброса" if p.get("how") == "reset" else "")
        + ".\n\nЕсли это были не вы, сбросьте пароль и напишите в поддержку.",
    ),
    "telegram_linked": lambda p: Message(
        "Telegram привязан",
        "К вашей учётной записи Bazaar привязан Telegram: коды для входа теперь приходят туда."
        "\n\nЕсли это были не вы, смените пароль и напишите в поддержку.",
    ),
    "phone_changed": lambda p: Message(
        "Номер телефона изменён",
        "Номер телефона вашей учётной записи Bazaar изменён через Telegram."
        "\n\nЕсли это были не вы, смените пароль и напишите в поддержку.",
    ),
    "sign_in_locked": lambda p: Message(
        "Вход по коду заблокирован",
        "Слишком много неверных кодов для вашего номера. Вход по коду снова будет доступен позже; "
        "войдите по паролю.",
    ),
    "order_reserved": lambda p: Message(
        f"Новый заказ №{p.get('order_id')}",
        f"Покупатель зарезервировал объявления {_listings(p)} на сумму {_money(p.get('total_amount'))}.",
    ),
    "order_paid": lambda p: Message(
        f"Заказ №{p.get('order_id')} оплачен", "Продавец подтвердил оплату заказа."
    ),
    "order_cancelled": lambda p: Message(f"Заказ №{p.get('order_id')} отменён", "Заказ отменён."),
    "order_expired": lambda p: Message(
        f"Резерв заказа №{p.get('order_id')} истёк", "Время резерва истекло, объявления снова в продаже."
    ),
    "moderation_published": lambda p: Message(
        "Объявление опубликовано", f"Ваше объявление «{p.get('title', '')}» прошло модерацию и опубликовано."
    ),
    "moderation_rejected": lambda p: Message(
        "Объявление отклонено",
        f"Ваше объявление «{p.get('title', '')}» отклонено модератором. Причина: {p.get('reason', '—')}.",
    ),
    "edit_approved": lambda p: Message(
        "Изменения опубликованы",
        f"Изменения объявления «{p.get('title', '')}» прошли модерацию и теперь видны покупателям.",
    ),
    "edit_rejected": lambda p: Message(
        "Изменения отклонены",
        f"Изменения объявления «{p.get('title', '')}» отклонены модератором: {p.get('reason', '—')}. "
        "Покупатели видят прежнюю версию.",
    ),
    "price_drop": lambda p: Message(
        "Цена снижена",
        f"Цена объявления №{p.get('listing_id')} снизилась: "
        f"{_money(p.get('old_price'))} → {_money(p.get('new_price'))}.",
    ),
    "seller_message": lambda p: Message(
        "Сообщение от продавца", f"Продавец объявления №{p.get('listing_id')}: {p.get('message', '')}"
    ),
    "saved_search_match": lambda p: Message(
        "Новое объявление по вашему поиску",
        f"По сохранённому поиску «{p.get('name', '')}» появилось объявление №{p.get('listing_id')}.",
    ),
    "deal_confirmation_request": lambda p: Message(
        "Подтвердите сделку", f"Продавец отметил сделку по объявлению №{p.get('listing_id')}. Подтвердите её."
    ),
    "review_request": lambda p: Message(
        "Оцените продавца",
        f"Сделка по объявлению №{p.get('listing_id')} завершена. Оставьте отзыв о продавце.",
    ),
    "operator_alert": lambda p: Message(
        f"[{str(p.get('severity', '')).upper()}] {p.get('alertname', 'alert')} {p.get('status', '')}".strip(),
        f"{p.get('summary', '')}\n\nRunbook: {p.get('runbook_url', '—')}",
    ),
}


def render(kind: str, payload: Mapping[str, Any]) -> Message:
    template = TEMPLATES.get(kind)
    if template is None:
        return Message("Уведомление Bazaar", f"Уведомление Bazaar ({kind}). Подробности в приложении.")
    return template(payload)


# -- channel posts ------------------------------------------------------------------------------

CAPTION_LIMIT = 1024  # Telegram: a photo's caption
TEXT_LIMIT = 4096  # Telegram: a text message
_STATUS = {"reserved": "🔒 Зарезервировано", "sold": "⛔ Больше не продаётся"}
_CURRENCY = {"RUB": "₽", "USD": "$", "EUR": "€"}


@dataclass(frozen=True)
class Post:
    """A listing's post in a Telegram channel, from the snapshot the database queued: its text
    (the caption of a photo message, cut to Telegram's limit) and the photo, if it has one."""

    text: str
    caption: str
    photo: str | None  # the storage key of the first photo


def _price(amount: Any, currency: Any) -> str:
    try:
        figure = f"{int(amount) / 100:,.2f}".replace(",", " ").removesuffix(".00")
    except (TypeError, ValueError):
        return "цена не указана"
    return f"{figure} {_CURRENCY.get(str(currency), str(currency or ''))}".strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def channel_post(payload: Mapping[str, Any], listing_url: str | None = None) -> Post:
    """What a channel shows for a snapshot: the status when off sale, the title, the price, the
    description and a link to the listing (LISTING_URL with {id}). The description is what gets
    cut when the whole does not fit."""
    snapshot = payload["snapshot"]
    head = [_STATUS[s] for s in [snapshot.get("status")] if s in _STATUS]
    head += [str(snapshot["title"]), _price(snapshot.get("price_amount"), snapshot.get("currency"))]
    tail = [listing_url.format(id=payload["listing_id"])] if listing_url else []

    def fitted(limit: int) -> str:
        fixed = "\n".join(head) + "\n\n" + ("\n\n" + "\n".join(tail) if tail else "")
        room = limit - len(fixed)
        description = _cut(str(snapshot.get("description") or ""), max(room, 0))
        return _cut("\n\n".join(p for p in ["\n".join(head), description, *tail] if p), limit)

    photos = snapshot.get("photos") or []
    return Post(fitted(TEXT_LIMIT), fitted(CAPTION_LIMIT), str(photos[0]) if photos else None)
