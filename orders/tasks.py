from celery import shared_task


@shared_task(name="orders.tasks.release_expired_holds")
def release_expired_holds() -> int:
    from .services.holds import orders_release_expired_holds

    return orders_release_expired_holds()


@shared_task(bind=True, name="orders.tasks.send_shipment_email", max_retries=5, soft_time_limit=60, time_limit=90)
def send_shipment_email(self, shipment_id: int, kind: str, forced: bool = False) -> bool:
    from .services.notifications import shipment_email_send

    try:
        return shipment_email_send(shipment_id=shipment_id, kind=kind, forced=forced)
    except OSError as exc:  # SMTP down, connection refused: try again later
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from exc


@shared_task(name="orders.tasks.render_print_batch", soft_time_limit=30 * 60, time_limit=31 * 60)
def render_print_batch(batch_id: int) -> str:
    from .services.documents import print_batch_render

    return print_batch_render(batch_id=batch_id).status


@shared_task(name="orders.tasks.dispatch_webhooks")
def dispatch_webhooks() -> int:
    from .services.webhooks import webhooks_dispatch

    return len(webhooks_dispatch())


@shared_task(bind=True, name="orders.tasks.deliver_webhook", max_retries=None, soft_time_limit=60, time_limit=90)
def deliver_webhook(self, delivery_id: int) -> str:
    from django.conf import settings

    from .services.webhooks import WebhookRetry, webhook_deliver

    final = self.request.retries + 1 >= settings.WEBHOOK_MAX_ATTEMPTS
    try:
        return webhook_deliver(delivery_id=delivery_id, final=final)
    except WebhookRetry as exc:
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 60 * 60)) from exc
