from celery import shared_task


@shared_task(name="orders.tasks.release_expired_holds")
def release_expired_holds() -> int:
    from .services.holds import orders_release_expired_holds

    return orders_release_expired_holds()
