"""The course's settings: the one place to change where it is published."""
from __future__ import annotations

from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

# The GitHub repository ("owner/name") that Colab badges open notebooks from.
# Change it here, then run `python -m rnncourse build` to refresh every badge.
GITHUB_REPOSITORY = "rnn-from-scratch/rnn-from-scratch"
GITHUB_BRANCH = "main"

REPO_ROOT = Path(__file__).resolve().parent.parent
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
