from django.core.management.base import BaseCommand, CommandError

from channels.registry import _ADAPTERS, available_kinds
from channels.services.stores import store_connect
from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError


def _option_fields():
    """Every adapter setting, once: --region, --base-url, --token, --url, --username, --password ..."""
    seen = {}
    for cls in _ADAPTERS.values():
        for field in cls.settings_fields:
            seen.setdefault(field.name, field)
    return seen


class Command(BaseCommand):
    help = (
        "Connect a store for a merchant. Channel options come from the adapter's settings; credentials "
        "are checked live unless --no-check. Last line: the store id."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the merchant's slug")
        parser.add_argument("channel", help=f"one of: {', '.join(available_kinds())}")
        parser.add_argument("--name", default="")
        parser.add_argument("--no-check", action="store_true", help="save without checking the credentials")
        for name, field in _option_fields().items():
            parser.add_argument(
                f"--{name.replace('_', '-')}", dest=f"opt_{name}", default=None, help=field.help_text or field.label
            )

    def handle(self, *args, slug: str, channel: str, name: str, no_check: bool, **options):
        merchant = Merchant.objects.filter(slug=slug).first()
        if merchant is None:
            raise CommandError(f"No merchant with slug {slug!r}. Create it with create_merchant first.")
        values = {key[4:]: value for key, value in options.items() if key.startswith("opt_")}
        try:
            store = store_connect(merchant=merchant, kind=channel, name=name, options=values, check=not no_check)
        except ApplicationError as exc:
            details = "; ".join(f"--{k.replace('_', '-')}: {' '.join(v)}" for k, v in exc.field_errors.items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stdout.write(f"Connected {store.get_kind_display()} store {store.name!r} for {merchant.slug}")
        self.stdout.write(str(store.pk))
