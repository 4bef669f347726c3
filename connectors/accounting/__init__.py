"""Provider-neutral accounting sync: the engine works on the app's entities; a per-provider adapter
(`connectors.accounting.adapter.AccountingAdapter`) does everything that depends on the accounting system.

The seams (issue 22 item 1):

Neutral, here (no provider name in this package; tests/connectors/accounting checks it): the push
(`push`, `push_select`, `push_record`, `push_types`, `specs`, `dependencies`) and the pull (`pull`,
`pull_apply`, `pull_steps`, `pull_types`), both written only against the adapter:

* which app records are due (no link, or a version moved since the last sync) and their unsynced
  dependencies, sent dependencies first (contacts, invoices, payments, expenses);
* links app id <-> external id (`links`), the first layer of idempotency;
* the sync log: one attempt row per write, committed before the request goes out; attempt leases renewed
  by a heartbeat (`heartbeat`) and one push per connection at a time (`lease`);
* outcome accounting: counts, decisions with their reasons, failures (`outcome`);
* durable retries: a retryable failure leaves a `retrying` row the sweep takes up again; a spent call
  allowance defers records (a `retrying` row due when the allowance comes back, never a failure);
* conflict policy: a document's version token (or, without one, its last-updated time) against the link's;
* pull cursors: one per entity type, committed with the data, at the change feed's high-water mark.

Provider-specific, behind the adapter:

* payload mapping both ways (app row -> the provider's document, its document -> app values);
* lookups before create (find a record by its natural key: number, name) and reads of linked records;
* batch writes with a per-record result (one bad record never hides the others);
* the change feed (what changed or was deleted there since a moment);
* voids and deletes;
* error classification: retryable, "already there: link it", needs a person, budget spent;
* budgets: how many calls the connection may still spend, and when a spent allowance comes back.

Imports point down: this package imports only sierra_core (never a provider package, never prefect).
"""
