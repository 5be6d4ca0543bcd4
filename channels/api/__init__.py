"""Stores and marketplaces of the ShipStation-compatible API (/api/v1/stores...).

They live here because orders never imports channels; the shared plumbing (auth, quota, errors,
dates) is orders.api's.
"""
