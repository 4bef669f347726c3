"""/v1/events (30-day retention, `type`/`types[]`/`created` filters) and /v1/webhook_endpoints."""

from __future__ import annotations

import fnmatch

from sandbox.stripe import webhooks
from sandbox.stripe.errors import invalid_request
from sandbox.stripe.listing import PAGING_PARAMS, paginate, time_filter
from sandbox.stripe.params import JSON, apply_metadata, check_known, get_bool, get_str, get_str_list
from sandbox.stripe.pipeline import Call
from sandbox.stripe.state import SandboxState
from sandbox.stripe.store import snapshot


def list_events(state: SandboxState, call: Call) -> JSON:
    """GET /v1/events; `type` is one type or a wildcard (`charge.*`), `types[]` up to 20 exact types."""
    check_known(call.params, ("created", "type", "types", "delivery_success", *PAGING_PARAMS))
    state.prune_events()
    one = get_str(call.params, "type")
    many = get_str_list(call.params, "types")
    if one is not None and many is not None:
        raise invalid_request("You may only specify one of these parameters: type, types.", param="types")
    if many is not None and len(many) > 20:
        raise invalid_request("You may pass up to 20 types.", param="types")
    created = time_filter(call.params)

    def wanted(event: JSON) -> bool:
        if not created(event["created"]):
            return False
        if one is not None:
            return fnmatch.fnmatchcase(event["type"], one)
        return many is None or event["type"] in many

    items = [snapshot(e) for e in state.store.all("event") if wanted(e)]
    return paginate(items, call.params, "/v1/events", "event")


def retrieve_event(state: SandboxState, call: Call) -> JSON:
    """GET /v1/events/{id} (404 once the event is past retention)."""
    check_known(call.params, ())
    state.prune_events()
    return snapshot(state.store.get("event", call.path_params["id"]))


def create_endpoint(state: SandboxState, call: Call) -> JSON:
    """POST /v1/webhook_endpoints: the answer is the only place the `secret` is shown."""
    check_known(call.params, ("url", "enabled_events", "description", "metadata", "api_version", "connect"))
    url = get_str(call.params, "url", required=True)
    events = get_str_list(call.params, "enabled_events")
    if not events:
        raise invalid_request("Missing required param: enabled_events.", param="enabled_events")
    assert url is not None
    _check_url(url)
    obj, secret = state.add_webhook_endpoint(url, None, events, get_bool(call.params, "connect"))
    obj["description"] = get_str(call.params, "description")
    obj["metadata"] = apply_metadata({}, call.params)
    return {**snapshot(obj), "secret": secret}


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise invalid_request(
            "Invalid URL: URL must be publicly accessible and use http or https.", param="url"
        )


def update_endpoint(state: SandboxState, call: Call) -> JSON:
    """POST /v1/webhook_endpoints/{id}: `url`, `enabled_events`, `description`, `metadata`, `disabled`."""
    check_known(call.params, ("url", "enabled_events", "description", "metadata", "disabled"))
    obj = state.store.get("webhook_endpoint", call.path_params["id"])
    endpoint = webhooks.endpoint(state.webhooks, obj["id"])
    url = get_str(call.params, "url")
    if url is not None:
        _check_url(url)
        obj["url"] = endpoint.url = url
    if "enabled_events" in call.params:
        events = get_str_list(call.params, "enabled_events")
        if not events:
            raise invalid_request("enabled_events must name at least one event type.", param="enabled_events")
        obj["enabled_events"], endpoint.enabled_events = list(events), list(events)
    if "description" in call.params:
        obj["description"] = get_str(call.params, "description")
    obj["metadata"] = apply_metadata(obj["metadata"], call.params)
    if "disabled" in call.params:
        endpoint.enabled = not get_bool(call.params, "disabled")
        obj["status"] = "enabled" if endpoint.enabled else "disabled"
    state.webhooks.wake()
    return snapshot(obj)


def retrieve_endpoint(state: SandboxState, call: Call) -> JSON:
    """GET /v1/webhook_endpoints/{id}."""
    check_known(call.params, ())
    return snapshot(state.store.get("webhook_endpoint", call.path_params["id"]))


def delete_endpoint(state: SandboxState, call: Call) -> JSON:
    """DELETE /v1/webhook_endpoints/{id}: no more deliveries to it."""
    check_known(call.params, ())
    obj = state.store.get("webhook_endpoint", call.path_params["id"])
    obj["deleted"] = True
    state.webhooks.remove_endpoint(obj["id"])
    return {"id": obj["id"], "object": "webhook_endpoint", "deleted": True}


def list_endpoints(state: SandboxState, call: Call) -> JSON:
    """GET /v1/webhook_endpoints."""
    check_known(call.params, PAGING_PARAMS)
    items = [snapshot(e) for e in state.store.all("webhook_endpoint")]
    return paginate(items, call.params, "/v1/webhook_endpoints", "webhook_endpoint")


ROUTES = [
    ("GET", "/v1/events", list_events),
    ("GET", "/v1/events/{id}", retrieve_event),
    ("POST", "/v1/webhook_endpoints", create_endpoint),
    ("GET", "/v1/webhook_endpoints", list_endpoints),
    ("GET", "/v1/webhook_endpoints/{id}", retrieve_endpoint),
    ("POST", "/v1/webhook_endpoints/{id}", update_endpoint),
    ("DELETE", "/v1/webhook_endpoints/{id}", delete_endpoint),
]
