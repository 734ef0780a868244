from django.db import models


class Movie(models.Model):
    """A row of the paginated list endpoint; seed_movies fills the table."""

    title = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField()
    rating = models.FloatField(help_text="0.0 to 10.0, one decimal")
    genre = models.CharField(max_length=40)
    director = models.CharField(max_length=100)
    runtime_minutes = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"
