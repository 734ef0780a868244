"""GET /api/demo/movies: pagination and its 422 answers."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from demo.management.commands.seed_movies import movie_fields

pytestmark = pytest.mark.django_db

SEEDED = 45


@pytest.fixture(autouse=True)
def movies() -> None:
    call_command("seed_movies", count=SEEDED, stdout=StringIO())


def test_default_page(client: Client):
    response = client.get("/api/demo/movies")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["limit"], body["offset"]) == (SEEDED, 20, 0)
    assert [movie["id"] for movie in body["items"]] == list(range(1, 21))
    first = body["items"][0]
    assert first == {"id": 1, **movie_fields(1)}
    assert set(first) == {"id", "title", "year", "rating", "genre", "director", "runtime_minutes"}


@pytest.mark.parametrize(
    ("query", "expected_ids"),
    [
        ("limit=5&offset=3", [4, 5, 6, 7, 8]),
        ("limit=100", list(range(1, SEEDED + 1))),
        ("offset=40", [41, 42, 43, 44, 45]),
        ("offset=45", []),
        ("offset=1000000000", []),
    ],
)
def test_limit_and_offset(client: Client, query: str, expected_ids: list[int]):
    response = client.get(f"/api/demo/movies?{query}")
    assert response.status_code == 200
    assert [movie["id"] for movie in response.json()["items"]] == expected_ids


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: Input should be greater than or equal to 1 (got '0')"),
        ("limit=101", "limit: Input should be less than or equal to 100 (got '101')"),
        ("limit=abc", "limit: Input should be a valid integer"),
        ("limit=", "limit: Input should be a valid integer"),
        ("offset=-1", "offset: Input should be greater than or equal to 0 (got '-1')"),
        ("offset=1.5", "offset: Input should be a valid integer"),
        ("offset=99999999999999999999999", "offset: Input should be less than or equal to"),
    ],
)
def test_bad_parameters_get_422_with_a_message(client: Client, query: str, message: str):
    response = client.get(f"/api/demo/movies?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith("invalid request: ")
    assert message in body["message"]
    assert body["detail"][0]["loc"][0] == "query"


def test_openapi_schema_lists_the_endpoints(client: Client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == {
        "/api/health",
        "/api/health/sync",
        "/api/health/async",
        "/api/demo/movies",
    }


def test_index_page_uses_the_stylesheet(client: Client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert '<link rel="stylesheet" href="/static/css/site.css">' in response.content.decode()
    assert "pytest" in response.content.decode()
