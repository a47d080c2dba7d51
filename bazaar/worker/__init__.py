"""The delivery worker: the outbox's notifications out through e-mail, Telegram and SMS
(`bazaar worker`; docs/adr/0018-notification-delivery.md)."""
