from .listing import ListingBinding, ListingSettings, ListingSync
from .product import Grade, Product
from .stock import Allocation, Deduction, StockLevel, StockMovement

__all__ = [
    "Allocation",
    "Deduction",
    "Grade",
    "ListingBinding",
    "ListingSettings",
    "ListingSync",
    "Product",
    "StockLevel",
    "StockMovement",
]
