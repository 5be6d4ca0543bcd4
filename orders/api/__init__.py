"""The REST API under /api/v1/, shaped like ShipStation's API v1 so existing integrations work unchanged.

Views are thin: they validate with serializers, call services and selectors, and shape responses
with the presenters. Store endpoints live in channels.api (orders never imports channels).
"""
