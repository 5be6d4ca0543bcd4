"""Tags (ShipStation's): create a merchant's tags, put them on its orders and take them off.

Tags are owned by the app: an order import never adds or removes them, on any store's orders.
Every function is scoped to the merchant: a tag or an order of another merchant is an
ApplicationError (the API answers 400 with ModelState), never a change.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..models import Order, Tag
from ..models.tag import COLOR_RE

NAME_MAX = Tag._meta.get_field("name").max_length
DEFAULT_COLOR = "#9E9E9E"
MAX_TAGS_PER_ORDER = 100


def _name_clean(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError("A tag needs a name.", field_errors={"name": ["Give the tag a name."]})
    if len(name) > NAME_MAX:
        message = f"A tag name has at most {NAME_MAX} characters."
        raise ApplicationError(message, field_errors={"name": [message]})
    return name


def _color_clean(color: str) -> str:
    color = (color or "").strip()
    if not COLOR_RE.fullmatch(color):
        message = f"{color!r} is not a colour: write it as #RRGGBB (e.g. #FF0000)."
        raise ApplicationError(message, field_errors={"color": [message]})
    return color.upper()


def _taken(*, merchant: Merchant, name: str) -> bool:
    # Compared as the unique constraint compares: LOWER() in the database on both sides.
    return Tag.objects.filter(merchant=merchant).annotate(key=Lower("name")).filter(key=Lower(Value(name))).exists()


def tag_create(*, merchant: Merchant, name: str, color: str = DEFAULT_COLOR) -> Tag:
    """A new tag; its name is unique among the merchant's tags whatever its case."""
    name, color = _name_clean(name), _color_clean(color)
    duplicate = ApplicationError(
        f"There is a tag named {name!r} already.", field_errors={"name": ["A tag with this name exists already."]}
    )
    if _taken(merchant=merchant, name=name):
        raise duplicate
    try:
        with transaction.atomic():
            return Tag.objects.create(merchant=merchant, name=name, color=color)
    except IntegrityError as exc:  # created by another request in the meantime
        raise duplicate from exc


def _merchant_tag(*, merchant: Merchant, tag_id: int) -> Tag:
    tag = Tag.objects.filter(merchant=merchant, pk=tag_id).first()
    if tag is None:
        raise ApplicationError(f"There is no tag {tag_id}.", field_errors={"tag_id": [f"No tag {tag_id} here."]})
    return tag


def _merchant_order(*, merchant: Merchant, order_id: int) -> Order:
    """The order, locked: two requests tagging it at once then see each other's change."""
    order = Order.objects.select_for_update(of=("self",)).filter(merchant=merchant, pk=order_id).first()
    if order is None:
        raise ApplicationError(
            f"There is no order {order_id}.", field_errors={"order_id": [f"No order {order_id} here."]}
        )
    return order


def _touch(order: Order) -> None:
    """A tag change is a change of the order: its modifyDate moves (clients sync on it)."""
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(updated_at=now)
    order.updated_at = now


@transaction.atomic
def order_tag_add(*, merchant: Merchant, order_id: int, tag_id: int) -> bool:
    """Put the tag on the order. Idempotent: True when it was added, False when it was there already."""
    order = _merchant_order(merchant=merchant, order_id=order_id)
    tag = _merchant_tag(merchant=merchant, tag_id=tag_id)
    if order.tags.filter(pk=tag.pk).exists():
        return False
    order.tags.add(tag)
    _touch(order)
    return True


@transaction.atomic
def order_tag_remove(*, merchant: Merchant, order_id: int, tag_id: int) -> bool:
    """Take the tag off the order. Idempotent: True when it was removed, False when it was not there."""
    order = _merchant_order(merchant=merchant, order_id=order_id)
    tag = _merchant_tag(merchant=merchant, tag_id=tag_id)
    if not order.tags.filter(pk=tag.pk).exists():
        return False
    order.tags.remove(tag)
    _touch(order)
    return True


def tags_for_ids(*, merchant: Merchant, tag_ids: Iterable[int]) -> list[Tag]:
    """The merchant's tags with these ids (createorder's tagIds); any other id is an ApplicationError."""
    wanted = list(dict.fromkeys(tag_ids))
    if len(wanted) > MAX_TAGS_PER_ORDER:
        message = f"At most {MAX_TAGS_PER_ORDER} tags per order."
        raise ApplicationError(message, field_errors={"tag_ids": [message]})
    found = {tag.pk: tag for tag in Tag.objects.filter(merchant=merchant, pk__in=wanted)}
    unknown = [tag_id for tag_id in wanted if tag_id not in found]
    if unknown:
        names = ", ".join(str(tag_id) for tag_id in unknown)
        raise ApplicationError(f"Unknown tag ids: {names}.", field_errors={"tag_ids": [f"No tag {names} here."]})
    return [found[tag_id] for tag_id in wanted]


@transaction.atomic
def order_tags_set(*, order: Order, tags: Iterable[Tag]) -> bool:
    """Exactly these tags on the order (the merchant's own, see tags_for_ids). True when anything changed."""
    tags = list(tags)
    if any(tag.merchant_id != order.merchant_id for tag in tags):
        message = "A tag of another merchant cannot go on this order."
        raise ApplicationError(message, field_errors={"tag_ids": [message]})
    wanted = {tag.pk for tag in tags}
    current = set(order.tags.values_list("pk", flat=True))
    if wanted == current:
        return False
    order.tags.set(tags)
    _touch(order)
    return True
