"""The fidelity harness runs a foreign pytest suite with its plugins and reads back every test's outcome."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.fidelity.__main__ import main
from bench.fidelity.runner import HarnessError, check_checkout, run_suite

SUITE = """
import os
import pytest

def test_passes():
    assert os.environ["FIDELITY_PROBE"] == "on"

def test_fails():
    assert 1 == 2, "one is not two"

@pytest.fixture
def broken():
    raise RuntimeError("setup broke")

def test_errors(broken):
    pass

@pytest.mark.skip(reason="not here")
def test_skipped():
    pass
"""


def test_outcomes_and_reasons_are_collected(tmp_path: Path):
    (tmp_path / "test_probe.py").write_text(SUITE)
    result = run_suite(
        "probe", Path(sys.executable), tmp_path, ["test_probe.py"], [], {"FIDELITY_PROBE": "on"}
    )
    by_name = {o.nodeid.split("::")[-1]: o for o in result.outcomes}
    assert {k: v.outcome for k, v in by_name.items()} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_errors": "error",
        "test_skipped": "skipped",
    }
    assert "one is not two" in by_name["test_fails"].reason
    assert "setup broke" in by_name["test_errors"].reason
    assert result.summary() == "probe: 1 passed, 1 failed, 1 error, 1 skipped"
    assert not (tmp_path / ".pytest_cache").exists()


def test_a_folder_that_is_not_the_checkout_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(HarnessError, match="not a checkout of ej2/python-quickbooks"):
        check_checkout(tmp_path, "tests/integration/test_base.py", "ej2/python-quickbooks")
    assert main(["--quickbooks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "git clone https://github.com/ej2/python-quickbooks" in err
    assert "Traceback" not in err


def test_stripe_suite_is_pointed_at_the_sandbox_and_keeps_its_own_requirements(tmp_path: Path):
    from bench.fidelity import stripe as stripe_suite

    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "test-requirements.txt").write_text(
        '# comment\npytest-mock >= 2.0.0\nhttpx >= 0.27.0; python_version >= "3.8"\npytest >= 6.0.0,<9.0.0\n'
    )
    wanted = stripe_suite.requirements(tmp_path)
    assert 'httpx >= 0.27.0; python_version >= "3.8"' in wanted and "pytest-mock >= 2.0.0" in wanted
    assert "pytest>=8,<9" in wanted and "pytest >= 6.0.0,<9.0.0" not in wanted
    assert any(r.startswith("requests") for r in wanted)
    env = stripe_suite.suite_env("http://127.0.0.1:43111")
    assert env == {
        "STRIPE_MOCK_HOST": "127.0.0.1",
        "STRIPE_MOCK_PORT": "43111",
        "SIERRA_FIDELITY_STRIPE_URL": "http://127.0.0.1:43111",
    }
    with pytest.raises(HarnessError, match="not a checkout of stripe/stripe-python"):
        stripe_suite.run(tmp_path, tmp_path / "cache")
