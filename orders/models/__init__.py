from .order import Order, OrderLine, OrderStatusChange
from .outbox import OutboxMessage
from .shipment import Label, Shipment, ShipmentLine

__all__ = ["Label", "Order", "OrderLine", "OrderStatusChange", "OutboxMessage", "Shipment", "ShipmentLine"]
