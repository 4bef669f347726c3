"""A bad value in the environment is one clear error naming its variable, never a pydantic traceback."""

from __future__ import annotations

import pytest

from sierra_core.errors import ConfigError
from sierra_core.settings import get_settings


@pytest.mark.parametrize(
    ("value", "says"), [("70000", "less than or equal to 65535"), ("abc", "valid integer")]
)
def test_a_bad_port_names_its_variable(monkeypatch: pytest.MonkeyPatch, value: str, says: str) -> None:
    monkeypatch.setenv("SIERRA_QBO_PORT", value)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError) as caught:
            get_settings()
    finally:
        monkeypatch.delenv("SIERRA_QBO_PORT")
        get_settings.cache_clear()
    assert "SIERRA_QBO_PORT" in caught.value.message and says in caught.value.message
