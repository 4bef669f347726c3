"""The local world: every sandbox, a Prefect server, a worker, the web app and `watch`, as detached processes
that `sierra-sync up` starts, `status` reports and `down` stops (their pid and port files live under
<data dir>/world/)."""
