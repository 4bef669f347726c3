"""At most one sync at a time per company, companies in parallel, edits coalesced: the dispatcher behind
`sierra-sync watch`.

`CompanyWorkers.submit(company_id)` starts a sync of that company on a thread of its pool, unless one is
already running for it: then the company is marked *dirty* and synced once more as soon as the running sync
ends, however many changes came meanwhile (they all ride on that one sync: a push sends every record whose
version moved). So a burst of edits costs at most two syncs per company, two syncs of one company never
race for its QuickBooks budget, and twenty companies changing at once sync side by side.

Every finished sync is reported to `on_done` with its timings (`time.monotonic()` values): when the first
change it answers was seen, when it started, when it ended, and how many submits it absorbed. No Prefect
here: the caller's `run` decides what a sync is (the watch command's pushes emit Prefect events).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import multiprocessing
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

__all__ = ["CompanyWorkers", "RemoteSyncError", "ShardedCompanyWorkers", "SyncDone"]

log = logging.getLogger("sierra_sync.realtime")


@dataclass(frozen=True)
class SyncDone:
    """One finished sync of one company."""

    company_id: uuid.UUID
    seen_at: float  # the first change this sync answers was seen
    started_at: float
    finished_at: float
    coalesced: int  # submits this sync answered (1: only its own)
    result: object = None
    error: BaseException | None = None

    @property
    def latency(self) -> float:
        """From the first change seen to the end of the sync that carried it."""
        return self.finished_at - self.seen_at


@dataclass
class _Company:
    seen_at: float
    submits: int = 1
    dirty: bool = False
    dirty_seen_at: float = 0.0
    dirty_submits: int = 0


class CompanyWorkers:
    """A pool of `max_workers` threads syncing companies, one sync per company at a time (see the module).

    `run(company_id)` does one sync and returns its result (or raises: reported in `SyncDone.error`, the
    other companies go on). `stop()` lets running syncs finish, starts no new ones (a dirty company is left
    to the next scheduled sync) and waits for the threads."""

    def __init__(
        self,
        run: Callable[[uuid.UUID], object],
        *,
        max_workers: int = 8,
        on_done: Callable[[SyncDone], None] | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._run = run
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="company-sync")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy: dict[uuid.UUID, _Company] = {}
        self._stopping = False

    def submit(self, company_id: uuid.UUID, seen_at: float | None = None) -> bool:
        """Sync `company_id` now, or right after its running sync. False once stopping (nothing started)."""
        seen = time.monotonic() if seen_at is None else seen_at
        with self._lock:
            if self._stopping:
                return False
            state = self._busy.get(company_id)
            if state is not None:
                if not state.dirty:
                    state.dirty, state.dirty_seen_at, state.dirty_submits = True, seen, 0
                state.dirty_seen_at = min(state.dirty_seen_at, seen)
                state.dirty_submits += 1
                return True
            self._busy[company_id] = _Company(seen_at=seen)
        self._pool.submit(self._loop, company_id)
        return True

    def running(self) -> list[uuid.UUID]:
        with self._lock:
            return list(self._busy)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no company is syncing or waiting to; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def stop(self, wait: bool = True) -> None:
        with self._lock:
            self._stopping = True
        self._pool.shutdown(wait=wait)

    def __enter__(self) -> CompanyWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self, company_id: uuid.UUID) -> None:
        while True:
            with self._lock:
                state = self._busy[company_id]
                seen_at, submits = state.seen_at, state.submits
            started = time.monotonic()
            result: object = None
            error: BaseException | None = None
            try:
                result = self._run(company_id)
            except Exception as err:  # one company's failure never stops the others
                error = err
            done = SyncDone(company_id, seen_at, started, time.monotonic(), submits, result, error)
            if self._on_done is not None:
                try:
                    self._on_done(done)
                except Exception:  # a reporting bug must not leave the company marked busy forever
                    log.exception("reporting the sync of company %s failed", company_id)
            with self._lock:
                if state.dirty and not self._stopping:
                    state.seen_at, state.submits = state.dirty_seen_at, state.dirty_submits
                    state.dirty = False
                    continue
                del self._busy[company_id]
                self._idle.notify_all()
                return


class RemoteSyncError(Exception):
    """A sync that failed in a shard process: its error's type and first line (the original object stays
    there; it may not pickle)."""


def _resolve(factory: str) -> Callable[[int], Callable[[uuid.UUID], object]]:
    module, _, attr = factory.partition(":")
    found: Callable[[int], Callable[[uuid.UUID], object]] = getattr(importlib.import_module(module), attr)
    return found


def _shard_main(factory: str, threads: int, inbox: Any, outbox: Any, shard: int) -> None:
    """One shard process: a CompanyWorkers of `threads` threads running `factory()`'s syncs, fed by
    `inbox` ((company id, seen_at) tuples; None: stop), reporting each SyncDone on `outbox`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop (None on the inbox)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from sierra_core.shutdown import STOP  # pushes stop between batch requests once it is requested

    run = _resolve(factory)(threads)  # warm before the first change (imports, credentials)
    prepare = getattr(run, "prepare", None)
    if callable(prepare):
        prepare()

    def report(done: SyncDone) -> None:
        error = done.error
        if error is not None:
            text = str(error).strip().splitlines()
            error = RemoteSyncError(text[0] if text else type(error).__name__)
        try:
            outbox.put(("done", dataclasses.replace(done, error=error)))
        except Exception:  # a result that does not pickle: the sync still counts, without it
            outbox.put(("done", dataclasses.replace(done, error=error, result=None)))

    outbox.put(("ready", shard))
    workers = CompanyWorkers(run, max_workers=threads, on_done=report)
    try:
        while True:
            message = inbox.get()
            if message is None:
                STOP.request()
                break
            company, seen_at = message
            workers.submit(uuid.UUID(company), seen_at=seen_at)
    finally:
        workers.stop()
        close = getattr(run, "close", None)
        if callable(close):
            close()
        outbox.put(("exited", shard))


class ShardedCompanyWorkers:
    """CompanyWorkers over `processes` processes (each its own interpreter, so pushes never queue for one
    GIL), `threads` each. A company always goes to the same process, so its syncs keep their order and stay
    one at a time (and the push lease still guards every connection across processes). `factory` names a
    callable, "module:attr", that takes the number of threads and returns the sync function (for `watch`:
    a WarmPush); each process calls it once at start. `on_done` runs in this process, on one reporting thread.
    `times` are `time.monotonic()` values: the same clock in every process of the machine."""

    def __init__(
        self,
        factory: str,
        *,
        processes: int,
        threads: int = 8,
        on_done: Callable[[SyncDone], None] | None = None,
        start_timeout: float = 300.0,
    ) -> None:
        if processes < 1 or threads < 1:
            raise ValueError("processes and threads must be at least 1")
        context = multiprocessing.get_context("spawn")  # fresh interpreters: no threads or sockets copied
        self._on_done = on_done
        self._outbox = context.Queue()
        self._inboxes = [context.Queue() for _ in range(processes)]
        self._lock = threading.Lock()
        self._stopping = False
        self._processes = [
            context.Process(
                target=_shard_main,
                args=(factory, threads, inbox, self._outbox, shard),
                name=f"company-sync-{shard}",
                daemon=True,
            )
            for shard, inbox in enumerate(self._inboxes)
        ]
        for process in self._processes:
            process.start()
        ready, deadline = 0, time.monotonic() + start_timeout
        while ready < processes:
            try:
                kind, _ = self._outbox.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() > deadline or not all(p.is_alive() for p in self._processes):
                    self._kill()
                    raise RuntimeError("a sync process did not start; see its output above") from None
                continue
            ready += kind == "ready"
        self._reporter = threading.Thread(target=self._report, name="company-sync-reports", daemon=True)
        self._reporter.start()

    def submit(self, company_id: uuid.UUID, seen_at: float | None = None) -> bool:
        seen = time.monotonic() if seen_at is None else seen_at
        with self._lock:
            if self._stopping:
                return False
            self._inboxes[company_id.int % len(self._inboxes)].put((str(company_id), seen))
        return True

    def _report(self) -> None:
        exited = 0
        while exited < len(self._processes):
            try:
                kind, payload = self._outbox.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in self._processes):
                    return
                continue
            if kind == "exited":
                exited += 1
            elif kind == "done" and self._on_done is not None:
                try:
                    self._on_done(payload)
                except Exception:
                    log.exception("reporting the sync of company %s failed", payload.company_id)

    def stop(self, wait: bool = True) -> None:
        """No new sync; running ones end (a push between its batch requests); the processes exit."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        for inbox in self._inboxes:
            inbox.put(None)
        if wait:
            self._reporter.join()
            for process in self._processes:
                process.join(30)
            self._kill()

    def _kill(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.kill()
                process.join(5)

    def __enter__(self) -> ShardedCompanyWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
