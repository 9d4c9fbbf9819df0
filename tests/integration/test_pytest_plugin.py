"""The pytest plugin a user gets with the package: a test suite in a temporary folder, with no
conftest and no import of ours but the script under test, passes using only the plugin's
fixtures and markers (loaded through the ``pytest11`` entry point, as in a user's project)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_SCRIPT = '''
"""A user's cleanup script: it builds its Client from the environment."""
import pandas as pd
import mailtrap_pandas as mtp


def subscribe_all(emails):
    df = pd.DataFrame({"email": emails})
    return df.mailtrap.import_contacts(list_ids=[1], progress=False, journal=False,
                                       poll_interval=0.02)
'''

USER_TESTS = """
import pytest

import cleanup


def test_client_fixture_reaches_the_emulator(mailtrap_client):
    assert mailtrap_client.lists.create("Newsletter")["id"] == 1


def test_each_test_starts_from_an_empty_account(mailtrap_client):
    assert mailtrap_client.lists.list() == []


@pytest.mark.mailtrap_seed(lists=[{"name": "Newsletter"}])
def test_script_under_test_via_the_environment(mailtrap_env, mailtrap_client):
    result = cleanup.subscribe_all(["a@x.io", "b@x.io"])
    assert result.ok and result.created == 2
    assert mailtrap_env.state()["contacts"] == 2


@pytest.mark.mailtrap_seed(lists=[{"name": "Newsletter"}])
@pytest.mark.mailtrap_fault(method="POST", path="imports$", status=503, times=2)
def test_faults_are_retried(mailtrap_env, mailtrap_emulator):
    result = cleanup.subscribe_all(["a@x.io"])
    assert result.ok
    assert mailtrap_emulator.state()["responses"]["503"] == 2


@pytest.mark.mailtrap_fault(method="GET", path="lists", status=401)
def test_faults_that_stop_the_script(mailtrap_client):
    import mailtrap_pandas as mtp

    with pytest.raises(mtp.AuthenticationError):
        mailtrap_client.lists.list()
"""


def test_a_users_suite_passes_with_only_the_plugins_fixtures(tmp_path: Path) -> None:
    (tmp_path / "cleanup.py").write_text(textwrap.dedent(USER_SCRIPT))
    (tmp_path / "test_cleanup.py").write_text(textwrap.dedent(USER_TESTS))
    # Its own rootdir and ini: none of this repository's conftest, options or markers.
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error::pytest.PytestUnknownMarkWarning"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5 passed" in out.stdout
