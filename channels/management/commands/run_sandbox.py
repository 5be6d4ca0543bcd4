"""Serve a marketplace sandbox (a local stand-in for a channel's real API) until Ctrl-C.

Adding a channel: put an entry in SANDBOXES. The class it names must accept these keyword arguments
(``None`` means "your default") -- host, port, token, seed, orders, new_order_every, log (a ``callable(str)`` or
None) -- and offer ``start()``, ``stop()``, ``base_url`` and ``token``. It is imported only when chosen. An optional
``"line"`` is the str.format template of the line printed once it listens (``label`` and the sandbox ``s``);
``"options"`` names the channel-specific options below (e.g. ``listings``) the class also accepts.
"""

import importlib
import time

from django.core.management.base import BaseCommand, CommandError

SANDBOXES = {
    "backmarket": {
        "class": "channels.backmarket.sandbox.BackMarketSandbox",
        "label": "Back Market",
        "port": 8801,
        "hint": "send 'Authorization: Basic <token>' and 'User-Agent: BM-<Company>-<Integration>;<email>'",
        "options": {"listings": 30, "task_delay": 2.0},  # option -> its default for this channel
    },
    "listingmirror": {
        "class": "channels.listingmirror.sandbox.CustomStoreSandbox",
        "label": "Listing Mirror",
        "port": 8802,
        "line": "{label} sandbox at {s.base_url} endpoint={s.endpoint_url} username={s.username} password={s.password}",
        "hint": "ShipStation Custom Store XML v1 with HTTP Basic auth (--token sets the password): "
        "GET <endpoint>?action=export&start_date=MM/dd/yyyy HH:mm&end_date=...&page=N (UTC); "
        "POST <endpoint>?action=shipnotify&order_number=...&carrier=...&service=...&tracking_number=... <ShipNotice>",
    },
}
DEFAULT_LINE = "{label} sandbox at {s.base_url} token={s.token}"


def _load(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


class Command(BaseCommand):
    help = "Serve a marketplace sandbox on a local port until Ctrl-C (e.g. run_sandbox backmarket --port 8801)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("channel", choices=sorted(SANDBOXES), help="which marketplace to imitate")
        parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, help="port to bind; 0 picks a free one (default: per channel)")
        parser.add_argument("--orders", type=int, default=20, help="orders generated at start (default 20)")
        parser.add_argument("--seed", type=int, default=1, help="random seed of the generated data (default 1)")
        parser.add_argument("--token", help="the API token to accept (default: derived from the seed)")
        parser.add_argument("--new-order-every", type=float, metavar="SECONDS", help="add an order every N seconds")
        parser.add_argument("--listings", type=int, help="Back Market: listings generated at start (default 30)")
        parser.add_argument(
            "--task-delay",
            type=float,
            metavar="SECONDS",
            help="Back Market: how long a bulk listing (CSV) task takes to finish (default 2)",
        )

    def handle(self, *args, channel: str, host: str, port: int | None, orders: int, seed: int,
               token: str | None, new_order_every: float | None, **options):  # fmt: skip
        spec = SANDBOXES[channel]
        if orders < 0:
            raise CommandError("--orders must be 0 or more.")
        if new_order_every is not None and new_order_every <= 0:
            raise CommandError("--new-order-every must be a positive number of seconds.")
        extra = {}
        for name, default in spec.get("options", {}).items():
            value = options.get(name)
            extra[name] = default if value is None else value
        for name in ("listings", "task_delay"):
            if options.get(name) is not None and name not in extra:
                raise CommandError(f"--{name.replace('_', '-')} does not apply to the {spec['label']} sandbox.")
        if extra.get("listings", 0) < 0:
            raise CommandError("--listings must be 0 or more.")
        if extra.get("task_delay", 0) < 0:
            raise CommandError("--task-delay must be 0 or more seconds.")
        verbose = options.get("verbosity", 1) >= 2
        sandbox = _load(spec["class"])(
            host=host,
            port=spec["port"] if port is None else port,
            token=token,
            seed=seed,
            orders=orders,
            new_order_every=new_order_every,
            log=(lambda line: (self.stdout.write(line), self.stdout.flush())) if verbose else None,
            **extra,
        )
        try:
            sandbox.start()
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(spec.get("line", DEFAULT_LINE).format(label=spec["label"], s=sandbox))
        self.stdout.flush()
        if verbose:
            self.stdout.write(f"  {spec['hint']}; control API: {sandbox.base_url}/_sandbox")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()
