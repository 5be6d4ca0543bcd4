"""The catalog in the ShipStation-compatible APIs: products as API v1 has them (/api/v1/products) and stock
levels as API v2's inventory endpoint has them (/api/v2/inventory).

The v1 plumbing (Basic auth by API key, the per-key quota, ShipStation's errors and dates) is orders.api's;
``v2`` adds API v2's header auth and error body on top of the same quota.
"""
