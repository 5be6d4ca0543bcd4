from .listing import ListingBinding, ListingSettings, ListingSync
from .listing_log import ListingEvent, ListingPush, ListingTask
from .product import Grade, Product
from .stock import Allocation, Deduction, StockLevel, StockMovement

__all__ = [
    "Allocation",
    "Deduction",
    "Grade",
    "ListingBinding",
    "ListingEvent",
    "ListingPush",
    "ListingSettings",
    "ListingSync",
    "ListingTask",
    "Product",
    "StockLevel",
    "StockMovement",
]
