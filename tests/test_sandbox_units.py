"""The sandbox's parts one at a time: outputs bounded and validated, feedback
sanitised, control groups found and bounded (v2 on a tree made here), the bounds
reported, the kernel's command, the probe that refuses a sandbox not in force,
and feedback redone per student when a shared run fails."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rnncourse import cli, grading
from rnncourse.grading import (
    autograde,
    bounds,
    cgroup_place,
    cgroups,
    course,
    feedback,
    isolation,
    outputs,
    sandbox,
    sandbox_view,
)
from rnncourse.grading.bounds import GiB, Limits, MiB

NO_BWRAP = shutil.which("bwrap") is None


def message(msg_type: str, **content) -> dict:
    return {"msg_type": msg_type, "header": {"msg_type": msg_type}, "parent_header": {}, "content": content}


# ---- outputs -------------------------------------------------------------------------------------------

def test_a_stream_is_cut_once_then_dropped():
    room = outputs.Room(stream_chars=50)
    first = outputs.bounded(message("stream", name="stdout", text="x" * 30), room)["content"]
    second = outputs.bounded(message("stream", name="stdout", text="y" * 30), room)["content"]
    assert first["text"] == "x" * 30 and second["text"].startswith("y" * 20 + "\n[output cut by the grader")
    assert outputs.bounded(message("stream", name="stdout", text="z"), room) is None
    room.new_cell()
    assert outputs.bounded(message("stream", name="stdout", text="z"), room)["content"]["text"] == "z"


def test_a_stream_nbformat_cannot_hold_becomes_a_note():
    kept = outputs.bounded(message("stream", name="elsewhere", text=5), outputs.Room())["content"]
    assert kept["name"] == "stdout" and "nbformat cannot hold" in kept["text"]


@pytest.mark.parametrize("data", [{"text/plain": {"not": "text"}}, {"image/png": 5}, "not a bundle", None])
def test_a_display_nbformat_cannot_hold_becomes_a_note(data):
    kept = outputs.bounded(message("display_data", data=data, metadata={}), outputs.Room())["content"]
    assert kept["data"] == {"text/plain": "[a display nbformat cannot hold: removed by the grader]"}


def test_an_oversized_display_becomes_a_note_and_the_cell_shows_no_more():
    room = outputs.Room(cell_bytes=1000)
    small = outputs.bounded(message("display_data", data={"text/plain": "ok"}, metadata={}), room)
    assert small["content"]["data"] == {"text/plain": "ok"}
    big = outputs.bounded(message("display_data", data={"image/png": "A" * 5000}, metadata={},
                                  transient={"display_id": "d"}), room)["content"]
    assert "more than the room left" in big["data"]["text/plain"] and big["transient"] == {"display_id": "d"}
    assert outputs.bounded(message("display_data", data={"text/plain": "later"}, metadata={}), room) is None


def test_a_cell_shows_at_most_so_many_displays():
    room = outputs.Room(displays=3)
    kept = [outputs.bounded(message("display_data", data={"text/plain": str(i)}, metadata={}), room)
            for i in range(5)]
    assert [k and k["content"]["data"]["text/plain"] for k in kept[:2]] == ["0", "1"]
    assert "more displays" in kept[2]["content"]["data"]["text/plain"] and kept[3:] == [None, None]
    update = outputs.bounded(message("update_display_data", data={"text/plain": "u"}, metadata={}), room)
    assert update is None  # the cell's room for displays is spent


def test_a_result_with_a_count_made_by_hand_gets_none():
    kept = outputs.bounded(message("execute_result", data={"text/plain": "x"}, metadata={}, execution_count="7"),
                           outputs.Room())["content"]
    assert kept["execution_count"] is None and kept["data"] == {"text/plain": "x"}


def test_an_error_is_cut_never_dropped_until_the_cell_has_many():
    room = outputs.Room(error_chars=100, traceback_lines=10, errors=2)
    kept = outputs.bounded(message("error", ename="ValueError", evalue="e" * 1000, traceback=["t"] * 50),
                           room)["content"]
    assert kept["ename"] == "ValueError" and kept["evalue"].startswith("e" * 100 + "\n[cut at 100")
    assert len(kept["traceback"]) == 11 and "[traceback cut by the grader]" in kept["traceback"]
    odd = outputs.bounded(message("error", ename=3, evalue=None, traceback="x"), room)["content"]
    assert odd["ename"] == "Error" and isinstance(odd["evalue"], str) and isinstance(odd["traceback"], list)
    assert outputs.bounded(message("error", ename="E", evalue="", traceback=[]), room) is None


def test_messages_made_by_hand_cannot_confuse_the_grader():
    assert outputs.bounded({"msg_type": "stream", "header": {"msg_type": "stream"}, "content": "x"},
                           outputs.Room()) is None
    assert outputs.bounded({"msg_type": "stream", "header": {"msg_type": "error"}, "content": {}},
                           outputs.Room()) is None
    status = outputs.bounded(message("status", execution_state="idle", execution_count="x"), outputs.Room())
    assert status["content"] == {"execution_state": "idle"}


# ---- feedback ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dangerous, kept_out", [
    ('<script>alert(1)</script>', "<script"),
    ('<img src="x" onerror="alert(1)">', "onerror"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<iframe src="https://evil.example/"></iframe>', "<iframe"),
    ('<style>@import url(https://evil.example/s.css);</style>', "<style"),
    ('<p style="background: url(https://evil.example/p.png)">x</p>', "evil.example"),
    ('<img src="https://evil.example/t.png">', "evil.example"),
    ('<svg onload="alert(1)"></svg>', "<svg"),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "data:text"),
])
def test_clean_html_keeps_out_what_runs_or_loads(dangerous, kept_out):
    assert kept_out not in feedback.clean_html(dangerous)


def test_clean_html_keeps_what_a_page_may_show():
    text = ('<h2 id="x">Title</h2><p><b>bold</b> <a href="https://example.org/">link</a></p>'
            '<img alt="pic" src="data:image/png;base64,AAAA">'
            '<table><tbody><tr><td colspan="2">1</td></tr></tbody></table>'
            '<div class="highlight"><pre><span class="n">x</span></pre></div>')
    assert feedback.clean_html(text) == text


def render(source: str, attachments: dict | None = None) -> str:
    """markdown2html as the template calls it, with the cell in its context."""
    cell = {"cell_type": "markdown", "source": source, "attachments": attachments or {}}
    return feedback.markdown2html({"cell": cell}, source)


def test_markdown_images_from_elsewhere_load_nothing_and_links_stay():
    html = render("![tracker](https://evil.example/t.png) and [page](https://example.org/)")
    assert "evil.example" not in html and '<img alt="tracker"' in html
    assert '<a href="https://example.org/">page</a>' in html


def test_a_pasted_image_is_shown_and_a_missing_one_is_a_note():
    html = render("![a](attachment:a.png) ![b](attachment:b.png)", {"a.png": {"image/png": "AAAA"}})
    assert 'src="data:image/png;base64,AAAA"' in html
    assert f'src="data:image/svg+xml;base64,{feedback.MISSING_IMAGE}"' in html


def test_markdown_that_cannot_be_rendered_is_shown_as_text(monkeypatch):
    def broken(self, source):
        raise RecursionError("too deep")

    monkeypatch.setattr(feedback.MarkdownWithMath, "render", broken)
    html = render("<b>x</b> & y")
    assert "could not be shown as formatted text" in html and "&lt;b&gt;x&lt;/b&gt; &amp; y" in html


# ---- control groups ------------------------------------------------------------------------------------

V1_MOUNTS = """25 30 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
27 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
"""


def test_v1_groups_go_under_this_process_own_group_of_each_controller(monkeypatch):
    monkeypatch.setattr(cgroup_place, "_can_make_groups", lambda base: None)
    own = "4:memory:/box/me\n3:pids:/\n2:cpu,cpuacct:/box\n1:name=systemd:/\n"
    place = cgroup_place.find_place(V1_MOUNTS, own)
    assert place.version == 1
    assert place.bases == {"memory": Path("/sys/fs/cgroup/memory/box/me"), "pids": Path("/sys/fs/cgroup/pids"),
                           "cpu": Path("/sys/fs/cgroup/cpu,cpuacct/box"),
                           "cpuacct": Path("/sys/fs/cgroup/cpu,cpuacct/box")}
    assert "no v1 hierarchy" in place.missing["freezer"]


def fake_v2(tmp_path: Path) -> tuple[str, str]:
    """A cgroup2 tree: root gives cpu, memory and pids; this process sits in a.slice/me.scope,
    whose parent gives only memory and pids."""
    (tmp_path / "a.slice" / "me.scope").mkdir(parents=True)
    (tmp_path / "cgroup.subtree_control").write_text("cpu memory pids io\n")
    (tmp_path / "a.slice" / "cgroup.subtree_control").write_text("memory pids\n")
    (tmp_path / "a.slice" / "me.scope" / "cgroup.subtree_control").write_text("\n")
    return f"40 30 0:40 / {tmp_path} rw - cgroup2 cgroup2 rw\n", "0::/a.slice/me.scope\n"


def test_v2_groups_go_under_the_nearest_ancestor_that_gives_the_controllers(tmp_path):
    place = cgroup_place.find_place(*fake_v2(tmp_path))
    assert place.version == 2 and set(place.bases.values()) == {tmp_path} and not place.missing


def test_a_v2_group_is_bounded_by_its_files(tmp_path):
    place = cgroup_place.find_place(*fake_v2(tmp_path))
    limits = Limits(processes=50, memory_bytes=300 * MiB, cpus=0.5)
    group = cgroups.create(place, limits, name="rnncourse-1-test")
    folder = tmp_path / "rnncourse-1-test"
    assert group.dirs == dict.fromkeys(["cpu", "memory", "pids"], folder)
    assert (folder / "pids.max").read_text() == "50\n"
    assert (folder / "memory.max").read_text() == f"{300 * MiB}\n"
    assert (folder / "cpu.max").read_text() == "50000 100000\n"
    assert not (folder / "memory.swap.max").exists()  # written only where the kernel has it
    assert group.procs_files() == [folder / "cgroup.procs"] and group.cpu_usage_file() == folder / "cpu.stat"


def test_cpu_time_is_read_from_either_version(tmp_path):
    (tmp_path / "cpuacct.usage").write_text("2500000000\n")
    (tmp_path / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert cgroups.cpu_seconds(tmp_path / "cpuacct.usage") == 2.5
    assert cgroups.cpu_seconds(tmp_path / "cpu.stat") == 1.5


def test_a_machine_without_cgroups_says_which_bounds_do_not_hold(monkeypatch):
    monkeypatch.setenv(isolation.CGROUPS_SWITCH, "off")
    isolation.machine.cache_clear()
    try:
        report = bounds.report(isolation.bounds(Limits(), True, 30, 900))
    finally:
        monkeypatch.delenv(isolation.CGROUPS_SWITCH)
        isolation.machine.cache_clear()
    for name in ("processes", "memory", "CPU time", "CPU share"):
        line = next(line for line in report.splitlines() if line.strip().startswith(name))
        assert "NOT BOUNDED" in line and "RNNCOURSE_CGROUPS=off" in line, line
    assert "Not bounded here: processes, memory, CPU time, CPU share" in report


@pytest.mark.parametrize("wrong, says", [
    ({"memory_bytes": 0}, "memory_bytes should be a positive whole number, got 0"),
    ({"cpus": -1}, "cpus should be a positive number, got -1"),
    ({"scratch_bytes": 4 * GiB, "memory_bytes": GiB}, "should not exceed memory_bytes"),
])
def test_limits_say_what_was_expected(wrong, says):
    with pytest.raises(ValueError, match=says):
        Limits(**wrong)


# ---- the kernel's command and the probe ----------------------------------------------------------------

def test_the_kernel_command_drops_every_privilege(tmp_path):
    run = sandbox.RunDir(tmp_path, on_tmpfs=True)
    command = sandbox.kernel_command(run, Limits(), [tmp_path / "cgroup.procs"], sandboxed=True)
    settings = json.loads(command[4])
    assert settings["procs"] == [str(tmp_path / "cgroup.procs")]
    bwrap = command[command.index(shutil.which("bwrap") or "bwrap"):]
    for option in (["--unshare-user"], ["--uid", "65534"], ["--gid", "65534"], ["--cap-drop", "ALL"],
                   ["--remount-ro", "/"], ["--die-with-parent"], ["--unshare-all"], ["--clearenv"]):
        assert any(bwrap[i:i + len(option)] == option for i in range(len(bwrap))), option
    masked = [bwrap[i + 2] for i, arg in enumerate(bwrap) if arg == "--ro-bind" and bwrap[i + 1] == "/dev/null"]
    assert masked == sandbox_view.privileged_files(tuple(sandbox_view.bound_paths()))
    if os.geteuid() == 0:
        assert command[command.index("--reuid=65534") - 1].endswith("setpriv")
        assert settings["owner"] == [65534, 65534]


def test_the_graders_package_is_masked_where_the_sandbox_would_see_it():
    repo = str(Path(grading.__file__).parents[2])
    masked = sandbox_view.grader_package_paths([repo])
    assert masked and all(Path(p).name == "rnncourse" for p in masked)
    assert sandbox_view.grader_package_paths(["/usr"]) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="the guard's refusal of root needs a test run as root")
def test_the_kernel_refuses_to_run_as_root():
    done = subprocess.run([sys.executable, "-c", sandbox.GUARD], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "refusing to run a kernel as root" in done.stderr


@pytest.mark.sandbox
@pytest.mark.skipif(NO_BWRAP, reason="needs bubblewrap (bwrap)")
def test_the_probe_refuses_a_sandbox_that_leaves_root_or_capabilities(monkeypatch):
    limits = Limits(memory_bytes=512 * MiB, scratch_bytes=16 * MiB, scratch_files=200)
    assert isolation.run_probe(limits) is None
    weak = sandbox.bwrap_command

    def without_uid_and_cap_drop(run, limits, binds):
        command = [arg for arg in weak(run, limits, binds) if arg != "--disable-userns"]
        for option in ("--uid", "--gid", "--cap-drop"):
            at = command.index(option)
            del command[at:at + 2]
        return command

    monkeypatch.setattr(sandbox, "bwrap_command", without_uid_and_cap_drop)
    monkeypatch.setattr(sandbox, "drops_to_sandbox_user", lambda run: False)
    problem = isolation.run_probe(limits)
    assert problem and "root inside the sandbox" in problem and "capabilities" in problem, problem
    assert "could mount" in problem  # root with capabilities in its own namespace remounts: the measured escape


@pytest.mark.sandbox
@pytest.mark.skipif(NO_BWRAP, reason="needs bubblewrap (bwrap)")
def test_a_python_installed_under_tmp_is_seen_in_the_sandbox(monkeypatch):
    """The sandbox's /tmp is a scratch folder of its own; a virtual environment under
    the host's /tmp must be bound onto it, not hidden by it (bubblewrap then could not
    even start the kernel's Python)."""
    limits = Limits(memory_bytes=512 * MiB, scratch_bytes=16 * MiB, scratch_files=200)
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        venv = Path(folder) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        paths = sandbox_view.python_paths() + [str(venv)]
        monkeypatch.setattr(sandbox_view, "python_paths", lambda: paths)
        for module in (sandbox, sandbox_view):
            monkeypatch.setattr(module, "python_executable", lambda: str(venv / "bin" / "python"))
        assert isolation.run_probe(limits) is None


def test_grading_refuses_a_sandbox_not_in_force(tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "sandbox_problem", lambda limits: "the kernel would run as root")
    with pytest.raises(RuntimeError, match="the sandbox is not in force here: the kernel would run as root"):
        grading.grade(grading.GradingRun(tmp_path, tmp_path / "out", log=lambda *args: None))


def test_the_command_reports_the_bounds(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: None)
    monkeypatch.setattr(grading, "grade", lambda run: grading.Report([]))
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    shown = capsys.readouterr().out
    assert "Bounds of each hand-in" in shown
    for name in ("processes", "memory", "CPU time", "CPU share", "wall time", "scratch bytes", "privileges"):
        assert f"  {name} " in shown, name


# ---- feedback, one student at a time when a shared run fails -------------------------------------------

def test_a_failed_shared_feedback_run_is_redone_one_student_at_a_time(tmp_path, monkeypatch):
    calls = []

    def fake_run(out, assignment, students, others, db_url):
        calls.append(students)
        if len(students) > 1 or students == ["bad"]:
            return autograde.nbgrader_run.Run(("generate_feedback",), "failed", "ERROR bad notebook", 1.0)
        path = course.feedback_path(out, students[0], assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("feedback")
        return autograde.nbgrader_run.Run(("generate_feedback",), "done", "", 1.0)

    monkeypatch.setattr(autograde, "_feedback_run", fake_run)
    stale = course.feedback_path(tmp_path, "bad", "01_forward")
    stale.parent.mkdir(parents=True)
    stale.write_text("from an earlier hand-in")
    problem = autograde.write_feedback(tmp_path, ("01_forward", ["ann", "bad", "cid"], ["zoe"]), "sqlite:///x")
    assert calls == [["ann", "bad", "cid"], ["ann"], ["bad"], ["cid"]]
    assert problem.startswith("no feedback for bad / 01_forward")
    assert course.feedback_path(tmp_path, "ann", "01_forward").is_file() and not stale.exists()
