from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shipping.accounts"
    label = "accounts"
    verbose_name = "Accounts"
