"""manage.py seed_movies --count N: make the Movie table hold exactly N deterministic rows.

Row n (n = 1..N, also its primary key) is the same on every run and for every N, so running
the command twice leaves the table unchanged. The last output line says which happened, for
Ansible's changed_when:

    seed_movies: unchanged (N rows)
    seed_movies: changed (created A, updated B, deleted C; N rows)
"""

from __future__ import annotations

import random
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from demo.models import Movie

DEFAULT_COUNT = 200
# Rows written per INSERT/UPDATE statement: well under SQLite's limit on bound variables.
BATCH_SIZE = 500

ADJECTIVES = (
    "Silent", "Crimson", "Electric", "Forgotten", "Golden", "Hidden", "Iron", "Last",
    "Midnight", "Northern", "Paper", "Quiet", "Restless", "Savage", "Velvet", "Wandering",
)  # fmt: skip
NOUNS = (
    "Harbor", "Empire", "Garden", "Horizon", "Kingdom", "Lantern", "Machine", "Mirror",
    "Orchard", "River", "Signal", "Summer", "Tide", "Valley", "Winter", "Witness",
)  # fmt: skip
GENRES = (
    "Drama", "Comedy", "Thriller", "Science Fiction", "Documentary", "Animation", "Western",
    "Romance", "Horror", "Adventure",
)  # fmt: skip
DIRECTOR_FIRST = ("Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines")
DIRECTOR_LAST = ("Almeida", "Bergström", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia")

FIELDS = ("title", "year", "rating", "genre", "director", "runtime_minutes")


def movie_fields(number: int) -> dict[str, Any]:
    """The fields of movie number `number`; a pure function of the number."""
    rng = random.Random(number)  # noqa: S311 - demo data, not security
    return {
        "title": f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} #{number}",
        "year": rng.randint(1950, 2025),
        "rating": rng.randint(10, 100) / 10,
        "genre": rng.choice(GENRES),
        "director": f"{rng.choice(DIRECTOR_FIRST)} {rng.choice(DIRECTOR_LAST)}",
        "runtime_minutes": rng.randint(72, 195),
    }


class Command(BaseCommand):
    help = "Make the Movie table hold exactly --count deterministic rows (idempotent)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--count",
            type=int,
            default=DEFAULT_COUNT,
            help=f"number of movies the table should hold (default {DEFAULT_COUNT})",
        )

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ANN401
        count = options["count"]
        if count < 0:
            raise CommandError(f"--count must be 0 or more, got {count}")
        with transaction.atomic():
            created, updated, deleted = self.sync_rows(count)
            if created:
                self.reset_id_sequence()
        if created or updated or deleted:
            self.stdout.write(
                f"seed_movies: changed (created {created}, updated {updated}, "
                f"deleted {deleted}; {count} rows)"
            )
        else:
            self.stdout.write(f"seed_movies: unchanged ({count} rows)")

    def sync_rows(self, count: int) -> tuple[int, int, int]:
        movies = Movie.objects.all()
        deleted, _ = movies.exclude(id__range=(1, count)).delete()
        existing = movies.in_bulk()
        to_create: list[Movie] = []
        to_update: list[Movie] = []
        for number in range(1, count + 1):
            wanted = movie_fields(number)
            movie = existing.get(number)
            if movie is None:
                to_create.append(Movie(id=number, **wanted))
            elif any(getattr(movie, name) != value for name, value in wanted.items()):
                for name, value in wanted.items():
                    setattr(movie, name, value)
                to_update.append(movie)
        movies.bulk_create(to_create, batch_size=BATCH_SIZE)
        movies.bulk_update(to_update, FIELDS, batch_size=BATCH_SIZE)
        return len(to_create), len(to_update), deleted

    def reset_id_sequence(self) -> None:
        """Rows got explicit ids: move PostgreSQL's id sequence past them (no-op on SQLite)."""
        statements = connection.ops.sequence_reset_sql(no_style(), [Movie])
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
