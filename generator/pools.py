"""Faker values drawn once and sampled many times: a Faker call costs ~50 µs, a pick from a list
~0.1 µs, so the generator's speed is bounded by PostgreSQL, not by Faker (MACHINE-NOTES.md →
Data generation)."""

from __future__ import annotations

from dataclasses import dataclass

from faker import Faker

POOL = 2_000


@dataclass(frozen=True)
class Pools:
    male_first: tuple[str, ...]
    male_last: tuple[str, ...]
    female_first: tuple[str, ...]
    female_last: tuple[str, ...]
    user_names: tuple[str, ...]
    email_domains: tuple[str, ...]
    companies: tuple[str, ...]
    sentences: tuple[str, ...]

    @classmethod
    def draw(cls, seed: int, size: int = POOL) -> Pools:
        fake = Faker("ru_RU")
        fake.seed_instance(seed)

        def many(make: object) -> tuple[str, ...]:
            assert callable(make)
            return tuple(str(make()) for _ in range(size))

        return cls(
            male_first=many(fake.first_name_male),
            male_last=many(fake.last_name_male),
            female_first=many(fake.first_name_female),
            female_last=many(fake.last_name_female),
            # user names and domains are Latin: they become e-mail addresses
            user_names=tuple(name.lower() for name in many(fake.user_name)),
            email_domains=("mail.ru", "yandex.ru", "gmail.com", "rambler.ru", "bk.ru", "inbox.ru", "list.ru"),
            companies=many(fake.company),
            sentences=many(fake.sentence),
        )
