from celery import shared_task


@shared_task(name="orders.tasks.release_expired_holds")
def release_expired_holds() -> int:
    from .services.holds import orders_release_expired_holds

    return orders_release_expired_holds()


@shared_task(bind=True, name="orders.tasks.send_shipment_email", max_retries=5, soft_time_limit=60, time_limit=90)
def send_shipment_email(self, shipment_id: int, kind: str) -> bool:
    from .services.notifications import shipment_email_send

    try:
        return shipment_email_send(shipment_id=shipment_id, kind=kind)
    except OSError as exc:  # SMTP down, connection refused: try again later
        raise self.retry(exc=exc, countdown=60 * (self.request.retries + 1)) from exc


@shared_task(name="orders.tasks.render_print_batch", soft_time_limit=30 * 60, time_limit=31 * 60)
def render_print_batch(batch_id: int) -> str:
    from .services.documents import print_batch_render

    return print_batch_render(batch_id=batch_id).status
