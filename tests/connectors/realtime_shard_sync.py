"""A sync for ShardedCompanyWorkers' tests, importable in a fresh process: it writes a line per start and
end (pid, company, time) to the file named by SHARD_TEST_LOG, takes SHARD_TEST_SECONDS, and fails for the
company named by SHARD_TEST_FAIL."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable


def recording_sync(threads: int) -> Callable[[uuid.UUID], object]:
    log, fail = os.environ["SHARD_TEST_LOG"], os.environ.get("SHARD_TEST_FAIL", "")

    def write(what: str, company_id: uuid.UUID) -> None:
        with open(log, "a") as out:  # one short append per line: whole lines, whatever the writers
            out.write(f"{os.getpid()} {what} {company_id} {time.monotonic():.6f} {threads}\n")

    def sync(company_id: uuid.UUID) -> object:
        write("start", company_id)
        time.sleep(float(os.environ.get("SHARD_TEST_SECONDS", "0.3")))
        write("end", company_id)
        if str(company_id) == fail:
            raise RuntimeError("QuickBooks said no\nsecond line")
        return {"pid": os.getpid()}

    return sync
