"""Prefect's environment as `ims run` and `ims serve` set it, checked with Prefect's own logging set-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CODE = """
import logging, sys
from pathlib import Path
from pipelines.env import prefect_env_defaults
prefect_env_defaults(Path(sys.argv[1]))
from prefect.logging.configuration import setup_logging
setup_logging()
# what a temporary server prints when it is stopped while a pooled connection rolls back (seen in `ims run`)
logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool").error("Exception during reset or similar")
logging.getLogger("prefect.server").error("a real server error")
logging.getLogger("duckdb_engine").warning("any other library's warning")
"""


def test_the_temporary_servers_shutdown_noise_is_silenced_and_nothing_else(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[2], timeout=120, check=True)
    assert "Exception during reset" not in done.stderr + done.stdout
    assert "a real server error" in done.stderr and "any other library's warning" in done.stderr
    assert (tmp_path / ".prefect" / "logging.yml").is_file()


def test_a_users_own_logging_settings_are_kept(tmp_path: Path) -> None:
    own = tmp_path / "mine.yml"
    code = ("import os, sys; from pathlib import Path; from pipelines.env import prefect_env_defaults; "
            "prefect_env_defaults(Path(sys.argv[1])); print(os.environ['PREFECT_LOGGING_SETTINGS_PATH'])")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
           "PREFECT_LOGGING_SETTINGS_PATH": str(own)}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[2], timeout=60, check=True)
    assert done.stdout.strip() == str(own)
