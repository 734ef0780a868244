from django.urls import path

from demo.api import api
from demo.views import index

urlpatterns = [
    path("", index, name="index"),
    path("api/", api.urls),
]
