"""Hand-ins in, without an nbgrader run: whose each file is (the LMS's names first), what
is read and what is refused (links, special files, files that are not notebooks), zips in
zips, which copy is the newest, the time nbgrader's late penalties read, encodings."""
from __future__ import annotations

import os
import stat
import unicodedata
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest

from rnncourse import config
from rnncourse.grading import course, files, intake, names, repair
from tests import handin_corpus as corpus
from tests.conftest import ASSIGNMENTS, read_notebook, student_notebook_path

PATTERNS = names.default_patterns(ASSIGNMENTS)
UTC = timezone.utc


def whose(path: str, others: tuple[str, ...] = ()) -> tuple:
    folders = names.nbgrader_folders([path, *others], ASSIGNMENTS)
    who = names.identify(path, PATTERNS, ASSIGNMENTS, folders)
    return None if who is None else (who.student, who.name, who.lms, who.assignment)


@pytest.mark.parametrize("path, expected", [
    ("doejane_01_forward.ipynb", ("doejane", "doejane", "", "01_forward")),
    ("doe_jane_01_forward (1).ipynb", ("doe_jane", "doe_jane", "", "01_forward")),
    ("Jane Doe_12345_assignsubmission_file_01_forward.ipynb", ("12345", "Jane Doe", "moodle", "01_forward")),
    ("Jane Doe_12345_assignsubmission_file_/Copy of 01_forward.ipynb", ("12345", "Jane Doe", "moodle", "01_forward")),
    ("Jane Doe_12345_assignsubmission_file_my rnn.ipynb", ("12345", "Jane Doe", "moodle", None)),
    ("Participant_4711_assignsubmission_file_03_bptt.ipynb", ("4711", "Participant 4711", "moodle", "03_bptt")),
    ("María José García_77_assignsubmission_file_/02_small_array.ipynb",
     ("77", "María José García", "moodle", "02_small_array")),
    ("doejane_12345_67890_02_small_array.ipynb", ("12345", "doejane", "canvas", "02_small_array")),
    ("doejane_12345_67890_01_forward-1.ipynb", ("12345", "doejane", "canvas", "01_forward")),
    ("anon_Xy7Qp_67890_01_forward.ipynb", ("anon_Xy7Qp", "anon_Xy7Qp", "canvas", "01_forward")),
    ("bob_1_01_forward.ipynb", ("bob_1", "bob_1", "", "01_forward")),  # not Canvas user 1
    ("doejane/01_forward/01_forward.ipynb", ("doejane", "doejane", "nbgrader", "01_forward")),
    ("submitted/doe_jane/03_bptt/03_bptt.ipynb", ("doe_jane", "doe_jane", "nbgrader", "03_bptt")),
    ("01_forward/doejane_01_forward.ipynb", ("doejane", "doejane", "", "01_forward")),
    ("course/01_forward/doejane_01_forward.ipynb", ("doejane", "doejane", "", "01_forward")),
    ("doejane/Copy of 04_classifier.ipynb", ("doejane", "doejane", "", "04_classifier")),
    ("doejane/work.zip/01_forward.ipynb", ("doejane", "doejane", "", "01_forward")),
    ("doejane_homework.ipynb", ("doejane", "doejane", "", None)),
    ("doejane/homework.ipynb", ("doejane", "doejane", "", None)),
    ("María García_01_forward.ipynb", ("maría_garcía", "María García", "", "01_forward")),
])
def test_whose_and_which_assignment(path, expected):
    assert whose(path) == expected


def test_canvas_marks_late_hand_ins_and_numbers_uploads():
    who = names.identify("doejane_LATE_12345_67890_03_bptt.ipynb", PATTERNS, ASSIGNMENTS, set())
    assert (who.student, who.lms, who.late, who.upload, who.assignment) == ("12345", "canvas", True, 67890, "03_bptt")


@pytest.mark.parametrize("path", [
    "Bob Stone_222_assignsubmission_file_/alice_smith_01_forward (9).ipynb",
    "Bob Stone_222_assignsubmission_file_/alice/01_forward/01_forward.ipynb",
    "Bob Stone_222_assignsubmission_file_alice_smith_12_34_01_forward.ipynb",
    "stonebob_222_9001_alice_smith_01_forward.ipynb",
])
def test_the_lms_name_outside_wins_over_any_name_inside(path):
    assert whose(path)[0] == "222"


def test_a_file_planted_in_a_students_nbgrader_folder_is_theirs():
    layout = ("submitted/bob/01_forward/01_forward.ipynb", "submitted/bob/01_forward/timestamp.txt")
    for planted in ["submitted/bob/01_forward/alice_01_forward.ipynb",
                    "submitted/bob/01_forward/alice/01_forward/01_forward.ipynb"]:
        assert whose(planted, layout)[:3] == ("bob", "bob", "nbgrader")


def test_names_in_any_script_and_normal_form_are_ids_of_their_own():
    ids = {names.student_id(n) for n in ["张伟", "李娜", "María", "Maria", "Zoë", "Иван", "???", "!!!"]}
    assert len(ids) == 8 and "unknown" not in ids
    assert names.student_id(unicodedata.normalize("NFD", "María")) == names.student_id("María") == "maría"


def zipped(path: Path, entries: dict[str, tuple[bytes, datetime | None]], utf8_names: bool = True) -> Path:
    """A zip of ENTRIES (name -> (bytes, local time)), as an LMS writes one; without
    UTF8_NAMES, its names' bytes are UTF-8 but it does not say so (as rubyzip's zips)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, (data, when) in entries.items():
            archive.writestr(zipfile.ZipInfo(name, (when or datetime(2025, 10, 1, 12)).timetuple()[:6]), data)
    if not utf8_names:
        data = bytearray(path.read_bytes())
        for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = data.find(signature)
            while start >= 0:
                data[start + flags_at + 1] &= ~0x08  # bit 11 of the little-endian flags: names in UTF-8
                start = data.find(signature, start + 4)
        path.write_bytes(bytes(data))
    return path


def notebook(assignment: str = "01_forward", **answers: str) -> bytes:
    return nbformat.writes(corpus.answered(assignment, **answers)).encode()


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 10, day, hour)


def test_two_moodle_students_of_one_name_are_two_students(tmp_path):
    archive = zipped(tmp_path / "moodle.zip", {
        "Sam Lee_4811_assignsubmission_file_01_forward.ipynb": (notebook(), at(3)),
        "Sam Lee_4812_assignsubmission_file_/01_forward.ipynb": (notebook(), at(4)),
    })
    found, refused = intake.collect(archive, PATTERNS, ASSIGNMENTS, UTC)
    assert refused == []
    assert sorted((h.student, h.who.name) for h in found) == [("4811", "Sam Lee"), ("4812", "Sam Lee")]
    master = read_notebook(config.SOURCE_DIR / "01_forward" / "01_forward.ipynb")
    released = {"01_forward": read_notebook(student_notebook_path("01_forward"))}
    recognised, unusable = intake.recognise(found, released, ASSIGNMENTS, print)
    jobs = intake.jobs(recognised, released, {"01_forward": repair.master_context(master)})
    assert unusable == [] and sorted(job.student for job in jobs) == ["4811", "4812"]


def test_zips_in_zips_are_opened_and_take_the_time_the_lms_recorded(tmp_path):
    inner = zipped(tmp_path / "work.zip", {"work/01_forward.ipynb": (notebook(), at(30, 1))})
    archive = zipped(tmp_path / "moodle.zip", {
        "Ann Roe_31_assignsubmission_file_/work.zip": (inner.read_bytes(), at(5, 9)),
        "Ann Roe_31_assignsubmission_file_/notes.pdf": (b"%PDF-1.4", at(4, 8)),
    })
    found, refused = intake.collect(archive, PATTERNS, ASSIGNMENTS, UTC)
    assert [(h.path, h.student, h.assignment) for h in found] == [
        ("Ann Roe_31_assignsubmission_file_/work.zip/work/01_forward.ipynb", "31", "01_forward")]
    # The student's zip tool wrote 30 October inside; Moodle recorded the zip on 5 October.
    assert found[0].submitted == at(5, 9).replace(tzinfo=UTC)
    assert [(r.path, r.who.student, r.why) for r in refused] == [
        ("Ann Roe_31_assignsubmission_file_/notes.pdf", "31", "not a notebook")]


def test_zips_nested_too_deep_are_refused(tmp_path):
    data = notebook()
    for depth in range(files.MAX_DEPTH + 1):
        data = zipped(tmp_path / f"z{depth}.zip", {f"z{depth}.zip" if depth else "a_01_forward.ipynb": (data, None)}
                      ).read_bytes()
    found, refused = intake.collect(zipped(tmp_path / "top.zip", {"z.zip": (data, None)}), PATTERNS, ASSIGNMENTS)
    assert found == [] and "not opened" in refused[0].why


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and pipes as POSIX has them")
def test_links_and_special_files_are_refused_never_followed(tmp_path):
    handins = tmp_path / "handins"
    handins.mkdir()
    (handins / "eve_01_forward.ipynb").symlink_to("/etc/passwd")
    (handins / "mallory_01_forward.ipynb").symlink_to(config.SOLUTIONS_DIR / "01_forward.ipynb")
    (handins / "trudy").symlink_to(config.SOLUTIONS_DIR, target_is_directory=True)
    os.mkfifo(handins / "pipe_01_forward.ipynb")
    (handins / "ann_01_forward.ipynb").write_bytes(notebook())
    found, refused = intake.collect(handins, PATTERNS, ASSIGNMENTS)
    assert [h.path for h in found] == ["ann_01_forward.ipynb"]
    why = {r.path: r.why for r in refused}
    assert why["eve_01_forward.ipynb"] == "a symbolic link (to /etc/passwd): not followed"
    assert "symbolic link" in why["mallory_01_forward.ipynb"] and "symbolic link" in why["trudy"]
    assert "not a regular file" in why["pipe_01_forward.ipynb"]
    assert {r.who.student for r in refused if r.who} == {"eve", "mallory", "pipe"}


def test_links_in_a_zip_are_refused(tmp_path):
    archive = tmp_path / "handins.zip"
    with zipfile.ZipFile(archive, "w") as zipped_file:
        link = zipfile.ZipInfo("eve_01_forward.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped_file.writestr(link, "/etc/passwd")
        zipped_file.writestr("../escape_01_forward.ipynb", notebook())
    found, refused = intake.collect(archive, PATTERNS, ASSIGNMENTS)
    assert found == [] and sorted(r.why for r in refused) == [
        "a path that leaves the zip: not read", "a symbolic link: not followed"]


def test_a_notebook_under_another_name_is_read_and_other_files_are_reported(tmp_path):
    (tmp_path / "ann_01_forward.ipynb.txt").write_bytes(notebook())
    (tmp_path / "ann_report.pdf").write_bytes(b"%PDF-1.4")
    found, refused = intake.collect(tmp_path, PATTERNS, ASSIGNMENTS)
    assert [h.path for h in found] == ["ann_01_forward.ipynb.txt"] and found[0].assignment == "01_forward"
    assert [(r.path, r.why) for r in refused] == [("ann_report.pdf", "not a notebook")]


def newest(tmp_path: Path, entries: dict[str, tuple[bytes, datetime | None]]) -> tuple[intake.HandIn, str]:
    found, _ = intake.collect(zipped(tmp_path / "lms.zip", entries), PATTERNS, ASSIGNMENTS, UTC)
    chosen, note = intake.pick_newest(found)
    return chosen, note


def test_the_newest_copy_is_graded_by_the_time_the_lms_recorded(tmp_path):
    draft, complete = notebook("04_classifier", classifier=""), notebook("04_classifier")
    folder = "Dana Doe_4711_assignsubmission_file_/"
    chosen, note = newest(tmp_path, {folder + "Copy of 04_classifier.ipynb": (draft, at(1)),
                                     folder + "04_classifier.ipynb": (complete, at(6))})
    assert chosen.path == folder + "04_classifier.ipynb" and chosen.submitted == at(6).replace(tzinfo=UTC)
    assert note == (f"2 files handed in: graded the newest, {folder}04_classifier.ipynb (2025-10-06 12:00 UTC); "
                    f"not graded: {folder}Copy of 04_classifier.ipynb (2025-10-01 12:00 UTC)")
    # By time, not by name: the same two files, the copy the newer.
    chosen, _ = newest(tmp_path, {folder + "Copy of 04_classifier.ipynb": (draft, at(7)),
                                  folder + "04_classifier.ipynb": (complete, at(6))})
    assert chosen.path == folder + "Copy of 04_classifier.ipynb"


def test_canvas_zip_times_decide_nothing_its_upload_ids_do(tmp_path):
    same = at(9, 8)  # Canvas stamps every entry when it makes the zip
    chosen, _ = newest(tmp_path, {"roeann_8_901_01_forward.ipynb": (notebook(), same),
                                  "roeann_8_877_01_forward-1.ipynb": (notebook(), same)})
    assert chosen.path == "roeann_8_901_01_forward.ipynb" and chosen.submitted is None


def test_a_zip_whose_entries_share_one_time_records_no_submission_time(tmp_path):
    found, _ = intake.collect(zipped(tmp_path / "lms.zip", {"a_01_forward.ipynb": (notebook(), at(2)),
                                                            "b_01_forward.ipynb": (notebook(), at(2))}),
                              PATTERNS, ASSIGNMENTS, UTC)
    assert [h.submitted for h in found] == [None, None]


def test_in_a_folder_the_files_time_orders_the_copies_but_is_no_submission_time(tmp_path):
    for name, day in [("ann_01_forward.ipynb", 3), ("ann_01_forward (1).ipynb", 2)]:
        (tmp_path / name).write_bytes(notebook())
        os.utime(tmp_path / name, (at(day).timestamp(),) * 2)
    found, _ = intake.collect(tmp_path, PATTERNS, ASSIGNMENTS)
    chosen, _ = intake.pick_newest(found)
    assert chosen.path == "ann_01_forward.ipynb" and chosen.submitted is None


def test_nbgraders_timestamp_is_the_submission_time(tmp_path):
    folder = tmp_path / "submitted" / "ann" / "01_forward"
    folder.mkdir(parents=True)
    (folder / "01_forward.ipynb").write_bytes(notebook())
    (folder / "timestamp.txt").write_text("2025-10-04 17:30:00.000000 UTC")
    found, refused = intake.collect(tmp_path, PATTERNS, ASSIGNMENTS)
    assert refused == [] and found[0].submitted == datetime(2025, 10, 4, 17, 30, tzinfo=UTC)


def test_submission_time_goes_where_nbgraders_late_penalties_read_it(tmp_path):
    from nbgrader.coursedir import CourseDirectory

    when = datetime(2025, 10, 4, 17, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    course.submit(tmp_path, "ann", "01_forward", corpus.answered(), when)
    folder = tmp_path / "submitted" / "ann" / "01_forward"
    stamp = CourseDirectory(root=str(tmp_path)).get_existing_timestamp(str(folder))
    assert stamp == datetime(2025, 10, 4, 15, 30, 5)  # nbgrader's naive UTC


def test_zip_member_names_written_without_the_utf8_flag_are_read_as_written(tmp_path):
    archive = zipped(tmp_path / "canvas.zip", {"garcíamaría_5_6_01_forward.ipynb": (notebook(), None)},
                     utf8_names=False)
    found, _ = intake.collect(archive, PATTERNS, ASSIGNMENTS)
    assert found[0].who.name == "garcíamaría"


@pytest.mark.parametrize("encoding, said", [("utf-8", None), ("utf-8-sig", "UTF-8 with a byte-order mark"),
                                            ("utf-16", "UTF-16 with a byte-order mark"),
                                            ("utf-16-le", "UTF-16"), ("cp1252", "Windows-1252")])
def test_a_notebook_is_read_in_the_encoding_it_was_saved_in(encoding, said):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Überlegung: ça marche")])
    read, encoding_said = intake.read_notebook(nbformat.writes(nb).encode(encoding))
    assert read.cells[-1].source == "Überlegung: ça marche" and encoding_said == said


def test_an_unreadable_file_says_why():
    with pytest.raises(ValueError, match="not a readable notebook"):
        intake.read_notebook(b'{"cells": [')


def test_due_dates_and_the_lms_time_zone_come_from_nbgrader_config(tmp_path):
    config_file = tmp_path / "nbgrader_config.py"
    config_file.write_text('c = get_config()\nc.Term.due_dates = {"01_forward": "2025-10-06 23:59 Europe/Berlin"}\n'
                           'c.Term.lms_timezone = "Europe/Berlin"\n')
    term = course.term(config_file)
    assert term.due_dates["01_forward"].astimezone(UTC) == datetime(2025, 10, 6, 21, 59, tzinfo=UTC)
    assert term.zone.utcoffset(datetime(2025, 1, 1)) == timedelta(hours=1)
    assert course.term(config.NBGRADER_CONFIG).due_dates.keys() <= set(ASSIGNMENTS)


@pytest.mark.parametrize("setting, expected", [
    ('c.Term.due_dates = {"01_forward": "6 October"}', "expected YYYY-MM-DD HH:MM"),
    ('c.Term.due_dates = {"01_forward": "2025-10-06 23:59"}', "expected YYYY-MM-DD HH:MM"),
    ('c.Term.due_dates = {"01_forward": "2025-10-06 23:59 Mars/Olympus"}', "got '2025-10-06 23:59 Mars/Olympus'"),
    ('c.Term.due_dates = {"99_nothing": "2025-10-06 23:59 UTC"}', "names 99_nothing; expected some of: 01_forward"),
    ('c.Term.lms_timezone = "Nowhere"', "expected a time zone such as Europe/Berlin"),
])
def test_a_wrong_term_setting_says_what_is_expected(tmp_path, setting, expected):
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\n{setting}\n")
    with pytest.raises(ValueError, match=expected):
        course.term(tmp_path / "nbgrader_config.py")


def test_a_source_that_is_neither_folder_nor_zip_says_so(tmp_path):
    (tmp_path / "handins.tar").write_bytes(b"not a zip")
    with pytest.raises(FileNotFoundError, match="expected a folder or a zip file of hand-ins"):
        intake.collect(tmp_path / "handins.tar", PATTERNS, ASSIGNMENTS)
