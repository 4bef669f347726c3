"""The web app (FastAPI): webhook receiver, OAuth callback, health; later the public REST API."""

from sierra_sync.web.app import create_app
from sierra_sync.web.deps import AppDeps, OAuthCompleter
from sierra_sync.web.dispatch import DeploymentDispatcher, Dispatcher, InProcessDispatcher

__all__ = [
    "AppDeps",
    "DeploymentDispatcher",
    "Dispatcher",
    "InProcessDispatcher",
    "OAuthCompleter",
    "create_app",
]
