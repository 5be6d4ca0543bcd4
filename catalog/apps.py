from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    label = "catalog"
    verbose_name = "Catalog and stock"
    default_auto_field = "django.db.models.BigAutoField"
