from django.urls import path

from demo.api import api
from demo.views import index, slow

urlpatterns = [
    path("", index, name="index"),
    # Off (404) unless DJANGO_SLOW_ENDPOINT_MAX_SECONDS > 0; outside the ninja API, see the view.
    path("api/slow", slow, name="slow"),
    path("api/", api.urls),
]
