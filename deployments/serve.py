"""`serve()`: every deployment of prefect.yaml, served from this one process (no work pool, no worker).

For small installs: the same names, schedules, parameters and descriptions as `prefect deploy --all`
registers, read from prefect.yaml so the two never drift apart.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Any, cast

import yaml  # type: ignore[import-untyped]  # PyYAML comes with prefect; no stubs here
from prefect import Flow
from prefect.deployments.runner import RunnerDeployment
from prefect.runner import Runner
from prefect.schedules import Cron, Interval, Schedule

from sierra_core.errors import ConfigError
from sierra_core.settings import get_settings
from sierra_core.shutdown import STOP, StopRequest, run_until_stopped, stop_on_signals

PROJECT_DIR = Path(__file__).resolve().parents[1]
PREFECT_YAML = PROJECT_DIR / "prefect.yaml"


def load_spec(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The `deployments:` entries of prefect.yaml (anchors resolved)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from None
    entries = document.get("deployments") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path} has no deployments list")
    return [e for e in entries if isinstance(e, dict)]


def schedule_of(spec: dict[str, Any]) -> Schedule:
    timezone = spec.get("timezone")
    active = bool(spec.get("active", True))
    if "cron" in spec:
        return Cron(str(spec["cron"]), timezone=timezone, active=active)
    if "interval" in spec:
        return Interval(float(spec["interval"]), timezone=timezone, active=active)
    raise ConfigError(f"schedule {spec!r}: only cron and interval schedules are supported by serve")


def load_flow(entrypoint: str, root: Path = PROJECT_DIR) -> Flow[..., Any]:
    """The flow object at `path/to/file.py:function` (relative to the project directory)."""
    path, _, attr = entrypoint.partition(":")
    module_name = path.removesuffix(".py").replace("/", ".")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    if importlib.util.find_spec(module_name) is None:
        raise ConfigError(f"entrypoint {entrypoint}: module {module_name} not found")
    module = importlib.import_module(module_name)
    flow = getattr(module, attr, None)
    if not isinstance(flow, Flow):
        raise ConfigError(f"entrypoint {entrypoint} is not a Prefect flow")
    return flow


def build(path: Path = PREFECT_YAML, *, paused: bool = False) -> list[RunnerDeployment]:
    """One RunnerDeployment per prefect.yaml entry (`paused`: schedules registered but not running)."""
    out: list[RunnerDeployment] = []
    for spec in load_spec(path):
        flow = load_flow(str(spec["entrypoint"]), path.parent)
        deployment = cast(  # called from sync code: the deployment itself
            RunnerDeployment,
            flow.to_deployment(
                name=str(spec["name"]),
                schedules=[schedule_of(s) for s in spec.get("schedules") or []],
                parameters=dict(spec.get("parameters") or {}),
                description=spec.get("description"),
                tags=list(spec.get("tags") or []),
                paused=paused or None,
            ),
        )
        out.append(deployment)
    return out


# Prefect's runner cancels the runs in flight when it stops and gives each up to 30 s to end before it kills
# its process group: the stop waits that long (and a little more), so no flow-run process is left behind.
RUNNER_CANCEL_GRACE_S = 35.0


def serve(limit: int | None = None, stop: StopRequest = STOP) -> None:
    """Serve every deployment from this process until `stop` is requested (SIGTERM or Ctrl-C under
    `stop_on_signals`). Then no new run starts; Prefect's runner cancels the runs in flight (a push stops
    mid-way: the attempt rows it leaves in progress are taken again by the retry sweep) and pauses the
    schedules, as `prefect.serve` does.

    The runner runs in a worker thread: it installs its own SIGTERM handler only in the main thread, and
    that handler ends the process abruptly (sys.exit in the middle of the event loop) when the signal comes
    before the runner has started, which hangs it."""
    deployments = build()
    if stop.requested():
        return
    runner = Runner(pause_on_shutdown=True, limit=limit)
    for deployment in deployments:
        runner.add_deployment(deployment)
    print(f"serving {len(deployments)} deployments: {', '.join(d.name for d in deployments)}", flush=True)
    grace = get_settings().stop_grace_seconds + RUNNER_CANCEL_GRACE_S
    run_until_stopped(lambda: asyncio.run(_run_until_stopped(runner, stop)), stop, grace=grace)


async def _run_until_stopped(runner: Runner, stop: StopRequest) -> None:
    started = asyncio.ensure_future(runner.start())
    while not (runner.started or started.done() or stop.requested()):
        await asyncio.sleep(0.1)
    if runner.started and not stop.requested():
        print("ready: polling for scheduled and requested runs (Ctrl-C or SIGTERM stops)", flush=True)
    while not (started.done() or stop.requested()):
        await asyncio.sleep(0.1)
    while not (runner.started or started.done()):
        await asyncio.sleep(0.1)  # stopped while starting: astop needs a started runner
    if not started.done():
        await runner.astop()
    await started


if __name__ == "__main__":
    with stop_on_signals():
        serve()
