"""Products, stock and listing sync (the SellerCloud x Back Market features).

Depends on ``orders`` (order lines, shipments, warehouses) and never the other way round: orders
services tell the catalog about changes through ``settings.ORDER_STOCK_HOOKS`` (see
``orders.services.stock``). No adapter imports it, and it imports no adapter.
"""
