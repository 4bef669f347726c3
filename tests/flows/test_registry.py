"""Every flow name `sierra-sync run` accepts loads, is a Prefect flow of that name, with a description."""

from __future__ import annotations

import pytest
from prefect import Flow

from flows import registry


@pytest.mark.parametrize("name", registry.names())
def test_registered_flow_loads_under_its_name(name):
    flow = registry.load(name)
    assert isinstance(flow, Flow)
    assert flow.name == name
    assert flow.description, f"{name} needs a docstring: the Prefect UI shows it"
