"""`serve()`: every deployment of prefect.yaml, served from this one process (no work pool, no worker).

For small installs: the same names, schedules, parameters and descriptions as `prefect deploy --all`
registers, read from prefect.yaml so the two never drift apart.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, cast

import yaml  # type: ignore[import-untyped]  # PyYAML comes with prefect; no stubs here
from prefect import Flow
from prefect import serve as prefect_serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval, Schedule

from sierra_sync.errors import ConfigError

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


def serve(limit: int | None = None) -> None:
    """Serve every deployment from this process until stopped (Ctrl-C)."""
    prefect_serve(*build(), limit=limit)


if __name__ == "__main__":
    serve()
