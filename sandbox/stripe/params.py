"""Typed reads of decoded form parameters, failing with Stripe's own messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.stripe.errors import invalid_request, missing_param, unknown_param

JSON = dict[str, Any]
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def check_known(params: JSON, allowed: Iterable[str]) -> None:
    """Reject parameters the endpoint does not take, as Stripe does (`parameter_unknown`)."""
    known = set(allowed) | {"expand"}
    for name in params:
        if name not in known:
            raise unknown_param(name)


def get_str(params: JSON, name: str, *, required: bool = False) -> str | None:
    """A string parameter; an empty string means 'unset' (None)."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing_param(name)
        return None
    if not isinstance(value, str):
        raise invalid_request(f"Invalid string: {name}", param=name)
    return value


def get_int(params: JSON, name: str, *, required: bool = False, minimum: int | None = None) -> int | None:
    """An integer parameter (money is integers in minor units)."""
    raw = get_str(params, name, required=required)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise invalid_request(f"Invalid integer: {raw}", param=name) from None
    if minimum is not None and value < minimum:
        raise invalid_request(f"This value must be greater than or equal to {minimum}.", param=name)
    return value


def get_bool(params: JSON, name: str, default: bool = False) -> bool:
    """A boolean parameter (`true`/`false`)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, str) and raw.lower() in _TRUE:
        return True
    if isinstance(raw, str) and raw.lower() in _FALSE:
        return False
    raise invalid_request(f"Invalid boolean: {raw}", param=name)


def get_enum(params: JSON, name: str, choices: Iterable[str], default: str | None = None) -> str | None:
    """A parameter restricted to `choices`."""
    value = get_str(params, name)
    if value is None:
        return default
    options = list(choices)
    if value not in options:
        raise invalid_request(
            f"Invalid {name}: must be one of {', '.join(options)}",
            param=name,
            code="parameter_invalid_string",
        )
    return value


def get_str_list(params: JSON, name: str) -> list[str] | None:
    """A list of strings (`types[]=a&types[]=b` or `types[0]=a`)."""
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_request(f"Invalid array: {name}", param=name)
    return list(value)


def get_hash(params: JSON, name: str) -> JSON | None:
    """A nested object parameter (`address[city]=…`)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise invalid_request(f"Invalid hash: {name}", param=name)
    return value


def apply_metadata(current: dict[str, str], params: JSON) -> dict[str, str]:
    """Stripe's metadata rules: merge keys, `metadata[k]=` removes k, `metadata=` clears everything."""
    if "metadata" not in params:
        return current
    raw = params["metadata"]
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid_request("Invalid hash", param="metadata")
    merged = dict(current)
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid_request(
                f"Invalid value for metadata[{key}]: must be a string", param=f"metadata[{key}]"
            )
        if len(key) > 40:
            raise invalid_request("Metadata keys can have up to 40 characters.", param=f"metadata[{key}]")
        if len(value) > 500:
            raise invalid_request("Metadata values can have up to 500 characters.", param=f"metadata[{key}]")
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > 50:
        raise invalid_request("You can have up to 50 metadata keys.", param="metadata")
    return merged
