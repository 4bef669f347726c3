"""A worker process running the push-to-quickbooks flow against the test Prefect server (the kill test
sends it SIGKILL part-way). Settings come from the environment, as on a real worker."""

from __future__ import annotations

import sys

from flows.push import push_to_quickbooks

if __name__ == "__main__":
    print("STARTED", flush=True)
    push_to_quickbooks(company=sys.argv[1])
    print("DONE", flush=True)
