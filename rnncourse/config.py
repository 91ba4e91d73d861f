"""The course's settings: the one place to change where it is published."""
from __future__ import annotations

import os
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

# The GitHub repository ("owner/name") that Colab badges open notebooks from.
# Change it here, then run `python -m rnncourse build` to refresh every badge.
GITHUB_REPOSITORY = "rnn-from-scratch/rnn-from-scratch"
GITHUB_BRANCH = "main"



def course_root() -> Path:
    """The course repository the commands work on: $RNNCOURSE_ROOT when set, else the
    current folder when it is one (it holds source/ and nbgrader_config.py), else the
    checkout this package lives in (an editable install)."""
    if os.environ.get("RNNCOURSE_ROOT"):
        return Path(os.environ["RNNCOURSE_ROOT"]).resolve()
    here = Path.cwd()
    if (here / "source").is_dir() and (here / "nbgrader_config.py").is_file():
        return here.resolve()
    return Path(__file__).resolve().parent.parent


REPO_ROOT = course_root()
SOURCE_DIR = REPO_ROOT / "source"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
README = REPO_ROOT / "README.md"
NBGRADER_CONFIG = REPO_ROOT / "nbgrader_config.py"


def assignments() -> list[str]:
    """Every assignment that has a master notebook, in course order."""
    return sorted(p.parent.name for p in SOURCE_DIR.glob("*/*.ipynb") if p.stem == p.parent.name)


def course_directory_setting(name: str) -> str | None:
    """c.CourseDirectory.NAME as nbgrader_config.py sets it, or None where it does not."""
    loaded = PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config()
    return loaded.CourseDirectory.get(name)


def course_id() -> str:
    """The course's id in nbgrader's gradebook."""
    return course_directory_setting("course_id")


def colab_url(assignment: str) -> str:
    return (
        f"https://colab.research.google.com/github/{GITHUB_REPOSITORY}"
        f"/blob/{GITHUB_BRANCH}/notebooks/{assignment}.ipynb"
    )


def colab_badge(assignment: str) -> str:
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(assignment)})"
    )
