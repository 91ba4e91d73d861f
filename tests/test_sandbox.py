"""The sandbox against a hostile batch, through `grade` itself: the attacks of
tests/hostile_corpus.py in one batch graded two at a time, beside honest
hand-ins that were also graded alone.

For each attack: the batch finishes; every honest student's score and feedback
equal those they got alone; the hostile hand-in gets its twin's score; the
attack went no further than its bound (it says how far it got); the grader's
Python is as it was, byte for byte; nothing is left running, mounted or written
outside the scratch folders; the host's shared memory and disk are back where
they were. Small limits keep it quick.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import html.parser
import multiprocessing.util
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import nbformat
import pytest

from rnncourse import config, grading
from rnncourse.grading import cgroups, course, isolation, sandbox, sandbox_view
from rnncourse.grading.bounds import GiB, Limits, MiB
from tests import handin_corpus as corpus
from tests import hostile_corpus as hostile

LIMITS = Limits(processes=128, memory_bytes=384 * MiB, scratch_bytes=32 * MiB, scratch_files=500,
                cpu_seconds=120, cpus=1.0, process_address_space=2 * GiB)
CELL_TIMEOUT = 20
MEMORY_BLOCKS = 8  # four children of 128 MiB each: each fits the per-process bound, together not the hand-in's
NO_SANDBOX = sandbox.bwrap_problem(LIMITS)
MACHINE = isolation.machine()

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(corpus.ASSIGNMENT not in config.assignments(), reason="01_forward is not in source/"),
    pytest.mark.skipif(NO_SANDBOX is not None, reason=f"needs the bubblewrap sandbox: {NO_SANDBOX}"),
]


def why_not(controller: str) -> str | None:
    if MACHINE.place.has(controller):
        return None
    return f"no {controller} cgroup here: {MACHINE.place.missing.get(controller, 'none')}"


# An attack whose bound does not hold here is left out of the batch (it would harm the
# machine, or its neighbours by design), and its test skips saying why.
UNBOUNDED = {"fork_flood": why_not("pids"), "aa_cpu_hog": why_not("cpu"), "memory_children": why_not("memory"),
             "disk_flood": MACHINE.mount_problem and f"no tmpfs for the scratch folder: {MACHINE.mount_problem}"}


def skip_unless_bounded(student: str):
    return pytest.mark.skipif(UNBOUNDED[student] is not None, reason=f"{student}: {UNBOUNDED[student]}")


def grade(handins: dict, tmp: Path, workers: int) -> dict:
    corpus.write(handins, tmp / "handins")
    rows = grading.grade(grading.GradingRun(
        tmp / "handins", tmp / "out", cell_timeout=CELL_TIMEOUT, timeout=300, assignments=[corpus.ASSIGNMENT],
        workers=workers, limits=LIMITS, log=lambda *args: None)).rows
    return {row.student: row for row in rows}


def python_digest() -> str:
    """The grader's Python installation and environment: the content of every file in
    their site-packages folders, and of every file Python runs at start-up (.pth,
    sitecustomize, usercustomize) anywhere in them; and every other file's and folder's
    path, size, mode, inode and change time (which any write changes and no user can
    set back)."""
    digest = hashlib.sha256()
    for root in sorted(set(sandbox_view.python_paths())):
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files) + dirs:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                digest.update(f"{path} {info.st_size} {info.st_mode} {info.st_ino} {info.st_mtime_ns} "
                              f"{info.st_ctime_ns}\n".encode())
                if name in files and stat.S_ISREG(info.st_mode) and (
                        "/site-packages/" in path or name.endswith((".pth", "customize.py"))):
                    with open(path, "rb") as stream:
                        for block in iter(lambda: stream.read(2**20), b""):
                            digest.update(block)
    return digest.hexdigest()


def shared_memory() -> int:
    """Bytes in the host's tmpfs mounts and shared memory (/proc/meminfo's Shmem)."""
    line = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("Shmem:"))
    return int(line.split()[1]) * 1024


def traces(base: Path) -> dict[str, list[str]]:
    """What grading under BASE (this test's temporary folder) could leave behind."""
    processes = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and str(base) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                processes.append(entry.name)
    groups = [str(g) for b in set(MACHINE.place.bases.values()) for g in b.glob(f"{cgroups.PREFIX}{os.getpid()}-*")]
    mounts = [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(base) in line]
    return {"processes": processes, "groups": groups, "mounts": mounts, "files": sorted(os.listdir(base))}


@pytest.fixture(scope="module")
def private_tmp():
    """Grading's temporary folders (the hand-ins' run folders) in a folder of this test's
    own, which the sandbox's user may walk through, as it may through /tmp."""
    multiprocessing.util.get_temp_dir()  # multiprocessing's own folder stays where it was, for the process's life
    base = Path(tempfile.mkdtemp(prefix="rnncourse-sandbox-test-", dir="/tmp"))
    base.chmod(0o711)
    saved, tempfile.tempdir = tempfile.tempdir, str(base)
    yield base
    tempfile.tempdir = saved
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def alone(tmp_path_factory, private_tmp):
    """The honest hand-ins graded one at a time."""
    tmp = tmp_path_factory.mktemp("alone")
    return grade(hostile.honest(), tmp, workers=1), tmp / "out"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, private_tmp, alone):
    """The hostile hand-ins and the honest ones in one batch, two at a time; the
    host's state before and after."""
    tmp = tmp_path_factory.mktemp("batch")
    outside = [str(tmp / "out" / hostile.MARKER), str(config.REPO_ROOT / hostile.MARKER),
               str(Path.home() / hostile.MARKER), f"/var/tmp/{hostile.MARKER}"]
    attacks = {student: nb for student, nb in hostile.hostile(outside, MEMORY_BLOCKS).items()
               if UNBOUNDED.get(student) is None}
    before = {"python": python_digest(), "shmem": shared_memory(), "disk": shutil.disk_usage(tmp).used,
              "traces": traces(private_tmp)}
    rows = grade({**hostile.honest(), **attacks}, tmp, workers=2)
    after = {"python": python_digest(), "shmem": shared_memory(), "disk": shutil.disk_usage(tmp).used,
             "traces": traces(private_tmp)}
    return rows, tmp / "out", outside, before, after


def autograded(out: Path, student: str) -> nbformat.NotebookNode:
    return nbformat.read(course.autograded_path(out, student, corpus.ASSIGNMENT), as_version=4)


def printed(out: Path, student: str, start: str) -> str:
    """The line of STUDENT's graded notebook that starts with START."""
    for cell in autograded(out, student).cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(start):
                    return line
    errors = [f"{o.ename}: {o.evalue}" for cell in autograded(out, student).cells
              for o in cell.get("outputs", []) if o.output_type == "error"]
    raise AssertionError(f"{student} printed no line starting with {start!r}; its errors: {errors}")


def feedback(out: Path, student: str) -> str:
    return course.feedback_path(out, student, corpus.ASSIGNMENT).read_text()


def test_the_batch_finishes(batch):
    rows, *_ = batch
    assert set(hostile.honest()) <= set(rows)
    for student, row in rows.items():
        assert row.max_score > 0, (student, row.note)


@pytest.mark.parametrize("student", sorted(hostile.honest()))
def test_honest_handin_scores_and_gets_feedback_as_alone(alone, batch, student):
    (rows_alone, out_alone), (rows, out, *_) = alone, batch
    row, by_itself = rows[student], rows_alone[student]
    assert (row.score, row.max_score, row.status, row.note) == (
        by_itself.score, by_itself.max_score, by_itself.status, by_itself.note)
    assert by_itself.score == by_itself.max_score, by_itself.note
    assert feedback(out, student) == feedback(out_alone, student)


@pytest.mark.parametrize("student", sorted(hostile.hostile([], 1)))
def test_hostile_handin_gets_its_twins_score(batch, student):
    if UNBOUNDED.get(student):
        pytest.skip(f"{student}: {UNBOUNDED[student]}")
    rows, *_ = batch
    assert rows[student].score == rows["full"].score, rows[student].note
    assert course.feedback_path(batch[1], student, corpus.ASSIGNMENT).is_file()


def test_no_escape_and_the_graders_python_is_unchanged(batch):
    rows, out, outside, before, after = batch
    assert printed(out, "escape", "escaped:") == "escaped: []"
    assert after["python"] == before["python"]
    for path in [*outside, f"/tmp/{hostile.MARKER}"]:
        assert not os.path.exists(path), path


@skip_unless_bounded("fork_flood")
def test_fork_flood_stops_at_the_process_bound(batch):
    _, out, *_ = batch
    found = re.fullmatch(r"fork flood: (\d+) children, then (\w+)", printed(out, "fork_flood", "fork flood:"))
    assert found, "the fork flood's line"
    assert int(found.group(1)) < LIMITS.processes and found.group(2) == "BlockingIOError"


@skip_unless_bounded("aa_cpu_hog")
def test_cpu_hog_gets_its_share_and_leaves_its_neighbour_its_time(batch):
    rows, out, *_ = batch
    found = re.fullmatch(r"cpu hog: ([\d.]+) CPU seconds in ([\d.]+) s", printed(out, "aa_cpu_hog", "cpu hog:"))
    assert found, "the hog's line"
    used, wall = float(found.group(1)), float(found.group(2))
    assert 0 < used <= LIMITS.cpus * wall * 1.1 + 0.5  # 64 processes, at most the hand-in's cores
    # The honest neighbour, graded at the same time, finished its slow cell within the cell's time limit.
    assert printed(out, "aa_slow_honest", "slow work done:").startswith("slow work done: ")
    assert rows["aa_slow_honest"].status == "graded", rows["aa_slow_honest"].note


@skip_unless_bounded("memory_children")
def test_memory_flood_through_children_is_stopped(batch):
    _, out, *_ = batch
    found = re.fullmatch(r"memory flood: (\d) of 4 children killed", printed(out, "memory_children", "memory flood:"))
    assert found and int(found.group(1)) >= 1  # 4 x 128 MiB do not fit in 384 MiB


@skip_unless_bounded("disk_flood")
def test_disk_flood_stops_at_the_scratch_bounds(batch):
    _, out, *_ = batch
    written = int(re.match(r"disk flood: (\d+) MiB", printed(out, "disk_flood", "disk flood:")).group(1))
    assert 0 < written <= (LIMITS.scratch_bytes + isolation.RUNTIME_BYTES) // MiB
    found = re.fullmatch(r"file flood: (\d+) files, then (\w+)", printed(out, "disk_flood", "file flood:"))
    assert found and int(found.group(1)) <= LIMITS.scratch_files + isolation.RUNTIME_FILES


def test_every_output_flood_is_cut_and_the_notebook_stays_valid(batch):
    _, out, *_ = batch
    path = course.autograded_path(out, "output_flood", corpus.ASSIGNMENT)
    assert path.stat().st_size < 25_000_000
    nb = autograded(out, "output_flood")
    nbformat.validate(nb)
    for kind, source in hostile.OUTPUT_FLOODS.items():
        cell = next(c for c in nb.cells if c.source == source)
        shown = nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))
        assert len(shown) < 2_500_000, kind
        if kind not in ("lines", "traceback"):  # those nbgrader's LimitOutput cuts shorter still, after
            assert "by the grader" in shown, kind
    assert "... Output truncated ..." in str(next(c for c in nb.cells if c.source == hostile.OUTPUT_FLOODS["lines"]))
    flood = next(c for c in nb.cells if c.source == hostile.OUTPUT_FLOODS["traceback"])
    assert [len(o.traceback) <= 200 for o in flood.outputs if o.output_type == "error"] == [True]


def test_invalid_outputs_are_notes_and_the_handin_is_graded(batch):
    rows, out, *_ = batch
    assert rows["invalid_output"].status != "failed", rows["invalid_output"].note
    nb = autograded(out, "invalid_output")
    nbformat.validate(nb)
    cell = next(c for c in nb.cells if "/scratch/invalid.py" in c.source)
    assert "nbformat cannot hold" in nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))
    assert any("invalid outputs sent" in o.get("text", "") for o in cell.outputs)


class Page(html.parser.HTMLParser):
    """Every tag and attribute of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def test_feedback_runs_nothing_and_loads_nothing_a_student_wrote(batch):
    _, out, *_ = batch
    page, honest_page = Page(feedback(out, "markdown_attack")), Page(feedback(out, "full"))
    scripts = sorted(str(attrs) for tag, attrs in page.tags if tag == "script")
    assert scripts == sorted(str(attrs) for tag, attrs in honest_page.tags if tag == "script")  # the template's own
    for tag, attrs in page.tags:
        assert tag not in ("iframe", "object", "embed", "form", "link") or (tag, attrs) in honest_page.tags
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        if "src" in attrs and tag != "script":
            assert attrs["src"].startswith("data:image/"), (tag, attrs)
        if "href" in attrs:
            assert not attrs["href"].lower().startswith(("javascript:", "data:")), (tag, attrs)
    text = feedback(out, "markdown_attack")
    assert "https://evil.example/track.png" not in [attrs.get("src") for _, attrs in page.tags]
    assert ("a", {"href": "https://example.org/page"}) in page.tags  # an ordinary link stays a link
    assert "&lt;script&gt;" in text  # what the student wrote is shown, as text


def test_pasted_image_does_not_cost_the_feedback(batch):
    rows, out, *_ = batch
    assert rows["pasted_image"].score == rows["full"].score
    page = Page(feedback(out, "pasted_image"))
    images = [attrs for tag, attrs in page.tags if tag == "img" and attrs.get("alt") == "sketch"]
    assert images and images[0]["src"].startswith("data:image/")


def test_nothing_is_left_running_mounted_or_written(batch, private_tmp):
    *_, before, after = batch
    assert after["traces"] == before["traces"]
    assert after["traces"]["processes"] == [] and after["traces"]["mounts"] == []
    assert after["shmem"] - before["shmem"] < 256 * MiB  # unbounded, the floods would leave gigabytes
    assert after["disk"] - before["disk"] < GiB  # (the machine is shared: others write meanwhile)


@pytest.fixture(scope="module")
def cpu_bound(tmp_path_factory, private_tmp):
    """A hand-in that spends its CPU time in its first exercise's cell, graded with little of it."""
    if why_not("cpuacct" if MACHINE.place.version == 1 else "cpu"):
        pytest.skip(why_not("cpuacct" if MACHINE.place.version == 1 else "cpu"))
    tmp = tmp_path_factory.mktemp("cpu")
    burn = "import time\nend = time.process_time() + 4\nwhile time.process_time() < end:\n    pass"
    corpus.write({"burner": corpus.with_cell(corpus.answered(), "rnn_step_forward", burn)}, tmp / "handins")
    limits = dataclasses.replace(LIMITS, cpu_seconds=3.0)
    rows = grading.grade(grading.GradingRun(tmp / "handins", tmp / "out", cell_timeout=CELL_TIMEOUT, timeout=300,
                                            assignments=[corpus.ASSIGNMENT], limits=limits, log=lambda *a: None)).rows
    return rows[0], tmp / "out"


def test_a_handin_that_spent_its_cpu_time_runs_no_more_cells(cpu_bound):
    row, out = cpu_bound
    assert row.status == "timed out" and row.score == 0, row.note
    notes = [o.evalue for c in autograded(out, "burner").cells for o in c.get("outputs", [])
             if o.get("output_type") == "error" and "CPU time" in o.get("evalue", "")]
    assert notes and all("has used its 3 s of CPU time" in n for n in notes)
