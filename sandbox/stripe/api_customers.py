"""/v1/customers: create, retrieve, update, delete, list."""

from __future__ import annotations

from sandbox.stripe import objects
from sandbox.stripe.listing import PAGING_PARAMS, paginate, time_filter
from sandbox.stripe.params import JSON, apply_metadata, check_known, get_hash, get_int, get_str, get_str_list
from sandbox.stripe.pipeline import Call
from sandbox.stripe.state import SandboxState
from sandbox.stripe.store import snapshot

_FIELDS = ("address", "balance", "description", "email", "metadata", "name", "phone", "preferred_locales")
_WRITABLE = (*_FIELDS, "shipping", "tax_exempt", "invoice_prefix")


def _apply(customer: JSON, params: JSON) -> None:
    for name in ("description", "email", "name", "phone", "invoice_prefix"):
        if name in params:
            customer[name] = get_str(params, name)
    if "balance" in params:
        customer["balance"] = get_int(params, "balance") or 0
    if "address" in params:
        customer["address"] = objects.address(get_hash(params, "address"))
    if "shipping" in params:
        customer["shipping"] = objects.shipping(get_hash(params, "shipping"))
    if "preferred_locales" in params:
        customer["preferred_locales"] = get_str_list(params, "preferred_locales") or []
    if "tax_exempt" in params:
        customer["tax_exempt"] = get_str(params, "tax_exempt") or "none"
    customer["metadata"] = apply_metadata(customer["metadata"], params)


def create(state: SandboxState, call: Call) -> JSON:
    """POST /v1/customers."""
    check_known(call.params, _WRITABLE)
    customer = objects.customer(state.store.new_id("cus", 14), state.now(), state.store.token(8).upper())
    _apply(customer, call.params)
    state.store.add(customer)
    state.emit("customer.created", customer, call.request)
    return snapshot(customer)


def retrieve(state: SandboxState, call: Call) -> JSON:
    """GET /v1/customers/{id}; a deleted customer answers `{id, object, deleted: true}` like Stripe."""
    check_known(call.params, ())
    found = state.store.find(call.path_params["id"])
    if found is not None and found.get("object") == "customer" and found.get("deleted"):
        return {"id": found["id"], "object": "customer", "deleted": True}
    return snapshot(state.store.get("customer", call.path_params["id"]))


def update(state: SandboxState, call: Call) -> JSON:
    """POST /v1/customers/{id}; the event carries `previous_attributes`."""
    check_known(call.params, _WRITABLE)
    customer = state.store.get("customer", call.path_params["id"])
    before = snapshot(customer)
    _apply(customer, call.params)
    previous = {k: before[k] for k in customer if before.get(k) != customer[k]}
    if previous:
        state.emit("customer.updated", customer, call.request, previous)
    return snapshot(customer)


def delete(state: SandboxState, call: Call) -> JSON:
    """DELETE /v1/customers/{id}."""
    check_known(call.params, ())
    customer = state.store.get("customer", call.path_params["id"])
    state.emit("customer.deleted", customer, call.request)
    customer["deleted"] = True
    return {"id": customer["id"], "object": "customer", "deleted": True}


def list_(state: SandboxState, call: Call) -> JSON:
    """GET /v1/customers with `email`, `created` and paging."""
    check_known(call.params, ("email", "created", *PAGING_PARAMS))
    email = get_str(call.params, "email")
    created = time_filter(call.params)
    items = [
        snapshot(c)
        for c in state.store.all("customer")
        if created(c["created"]) and (email is None or c["email"] == email)
    ]
    return paginate(items, call.params, "/v1/customers", "customer")


ROUTES = [
    ("POST", "/v1/customers", create),
    ("GET", "/v1/customers", list_),
    ("GET", "/v1/customers/{id}", retrieve),
    ("POST", "/v1/customers/{id}", update),
    ("DELETE", "/v1/customers/{id}", delete),
]
