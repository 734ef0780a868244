from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Django Server Lab demo"

    def ready(self) -> None:
        # Connects the receiver that drops cached Redis clients when REDIS_URL changes.
        from demo import redis_clients  # noqa: F401, PLC0415
