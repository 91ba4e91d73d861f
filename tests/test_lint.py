"""Code quality of the package, the tests and the master notebooks, and the
validity of the maintainers' configuration files."""

from __future__ import annotations

import subprocess
import sys

from rnncourse import config


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=config.REPO_ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing():
    done = run(sys.executable, "-m", "ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_pre_commit_configuration_is_valid():
    done = run(sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_github_workflow_matches_githubs_schema():
    workflows = sorted(str(p) for p in (config.REPO_ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    done = run(
        sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows
    )
    assert done.returncode == 0, done.stdout + done.stderr
