from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shipping.core"
    label = "core"
    verbose_name = "Core"
