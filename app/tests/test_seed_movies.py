"""manage.py seed_movies: exactly N deterministic rows, and a last line Ansible can read."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from demo.management.commands.seed_movies import movie_fields
from demo.models import Movie

pytestmark = pytest.mark.django_db


def seed(count: int) -> str:
    output = StringIO()
    call_command("seed_movies", count=count, stdout=output)
    return output.getvalue().splitlines()[-1]


def table() -> list[dict]:
    return list(Movie.objects.order_by("id").values())


def expected_table(count: int) -> list[dict]:
    return [{"id": number, **movie_fields(number)} for number in range(1, count + 1)]


def test_first_run_creates_then_second_is_unchanged():
    assert seed(30) == "seed_movies: changed (created 30, updated 0, deleted 0; 30 rows)"
    assert table() == expected_table(30)
    assert seed(30) == "seed_movies: unchanged (30 rows)"
    assert table() == expected_table(30)


def test_repairs_drift():
    seed(10)
    Movie.objects.filter(id=3).update(title="Edited by hand")
    Movie.objects.filter(id=7).delete()
    Movie.objects.create(id=99, **movie_fields(99))
    assert seed(10) == "seed_movies: changed (created 1, updated 1, deleted 1; 10 rows)"
    assert table() == expected_table(10)
    assert seed(10) == "seed_movies: unchanged (10 rows)"


def test_grows_and_shrinks():
    seed(5)
    assert seed(8) == "seed_movies: changed (created 3, updated 0, deleted 0; 8 rows)"
    assert seed(2) == "seed_movies: changed (created 0, updated 0, deleted 6; 2 rows)"
    assert table() == expected_table(2)
    assert seed(0) == "seed_movies: changed (created 0, updated 0, deleted 2; 0 rows)"
    assert seed(0) == "seed_movies: unchanged (0 rows)"


def test_rows_do_not_depend_on_count():
    assert movie_fields(7) == movie_fields(7)
    seed(3)
    small = table()
    seed(50)
    assert table()[:3] == small


def test_negative_count_is_refused():
    with pytest.raises(CommandError, match="--count must be 0 or more, got -1"):
        call_command("seed_movies", count=-1)
