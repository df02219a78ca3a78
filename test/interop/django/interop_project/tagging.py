"""
JSON cannot carry bytes, so they travel between the tests and these scripts as {"__bytes__": "<base64>"}
(standard alphabet, padded). The Node side has the same pair in test/interop/django-process.ts.
"""
import base64

BYTES_TAG = "__bytes__"


def tag(value):
    """A JSON-ready copy of a channel-layer message: bytes become {"__bytes__": base64}."""
    if isinstance(value, (bytes, bytearray)):
        return {BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {key: tag(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [tag(item) for item in value]
    return value


def untag(value):
    """The inverse of tag(): {"__bytes__": base64} (and only that exact shape) becomes bytes."""
    if isinstance(value, dict):
        if set(value) == {BYTES_TAG} and isinstance(value[BYTES_TAG], str):
            return base64.b64decode(value[BYTES_TAG], validate=True)
        return {key: untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [untag(item) for item in value]
    return value


def describe_types(value):
    """The value's shape with each leaf replaced by its Python type: int and float stay apart here, unlike in JS."""
    if isinstance(value, dict):
        return {key: describe_types(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [describe_types(item) for item in value]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    return type(value).__name__
