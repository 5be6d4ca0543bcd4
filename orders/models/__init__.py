from .documents import PackingSlip, PrintBatch
from .order import Order, OrderLine, OrderStatusChange
from .outbox import OutboxMessage
from .shipment import Label, Shipment, ShipmentLine
from .tag import Tag
from .warehouse import Warehouse
from .webhook import Webhook, WebhookDelivery

__all__ = [
    "Label",
    "Order",
    "OrderLine",
    "OrderStatusChange",
    "OutboxMessage",
    "PackingSlip",
    "PrintBatch",
    "Shipment",
    "ShipmentLine",
    "Tag",
    "Warehouse",
    "Webhook",
    "WebhookDelivery",
]
