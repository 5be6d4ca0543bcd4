"""OpenAPI additions every /api/v1/ operation shares: the rate-limit headers and ShipStation's error bodies."""

from __future__ import annotations

RATE_HEADERS = {
    "X-Rate-Limit-Limit": {
        "description": "Requests allowed per minute for this API key.",
        "schema": {"type": "integer"},
    },
    "X-Rate-Limit-Remaining": {"description": "Requests left in this minute.", "schema": {"type": "integer"}},
    "X-Rate-Limit-Reset": {"description": "Seconds until the window starts over.", "schema": {"type": "integer"}},
}
ERROR = {"$ref": "#/components/schemas/Error"}
ERRORS = {
    "400": "Invalid request: Message, and ModelState with the fields at fault.",
    "401": "No API key, or a wrong key or secret.",
    "404": "No such object among this API key's merchant's.",
    "429": "More than the per-minute limit of requests for this API key.",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "Message": {"type": "string"},
        "ModelState": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["Message"],
}


def add_rate_limit_headers_and_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ERROR}}}
                )
            for code, response in responses.items():
                if code != "401":
                    response.setdefault("headers", {}).update(RATE_HEADERS)
    return result
