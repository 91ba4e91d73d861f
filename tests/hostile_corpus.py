"""Hostile hand-ins of 01_forward for the sandbox's tests, built as handin_corpus
builds its hand-ins: the committed student notebook answered from the reference,
with cells of a student's own added. Every attack measures itself and prints what
it got, so a test reads from the graded notebook how far it went.

Each hostile hand-in holds the full answers, so its twin (the score it must get)
is "full"; the attacks are in cells of their own, after the exercises or at the
end, and cost no points when they fail.
"""
from __future__ import annotations

import copy
import hashlib

import nbformat

from tests import handin_corpus as corpus

LAST_TEST = "test_simple_rnn_forward_hidden"
MARKER = "rnncourse-escape-marker"

# Everything the kernel must not do to the grader: remount, write into its Python
# (a .pth or sitecustomize runs in the grader itself), make a namespace of its own,
# use a setuid program, write outside its scratch folder, import the grader's code.
ESCAPE = '''import ctypes, ctypes.util, os, site, subprocess, sys, sysconfig
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
targets = sorted({{*site.getsitepackages(), sysconfig.get_paths()["stdlib"], sys.prefix, sys.base_prefix}})
escaped = []
for target in targets:
    if libc.mount(None, target.encode(), None, 32 | 4096, None) == 0:  # MS_REMOUNT | MS_BIND
        escaped.append("remounted " + target)
    for name in ("rnncourse_escape.pth", "sitecustomize.py", "usercustomize.py"):
        try:
            with open(os.path.join(target, name), "w") as stream:
                stream.write("import os; os.environ['RNNCOURSE_ESCAPED'] = '1'\\n")
            escaped.append("wrote " + os.path.join(target, name))
        except OSError:
            pass
if libc.unshare(0x10000000 | 0x00020000) == 0:  # a user and mount namespace of its own
    escaped.append("unshared")
for command in (["mount", "-o", "remount,rw", targets[0]], ["unshare", "-Ur", "true"], ["su", "-c", "true"]):
    try:
        if subprocess.run(command, capture_output=True, timeout=10).returncode == 0:
            escaped.append(" ".join(command))
    except OSError:
        pass
for path in {outside!r}:
    try:
        with open(path, "w") as stream:
            stream.write("escaped\\n")
        escaped.append("wrote " + path)
    except OSError:
        pass
try:
    import rnncourse.grading
    escaped.append("imported rnncourse.grading from " + str(rnncourse.grading.__file__))
except ImportError:
    pass
with open("/tmp/{marker}", "w") as stream:  # the sandbox's own /tmp: allowed, and gone afterwards
    stream.write("inside\\n")
print("escaped:", escaped)
'''

# Each child becomes `sleep` at once. Children that stayed Pythons copied pages they
# share with the kernel as they ran: some runs met the hand-in's memory bound first (the
# kernel was killed for memory), not the process bound this attack is about.
FORK_FLOOD = '''import os
children, refused = 0, None
while children < 5000:
    try:
        pid = os.fork()
    except OSError as error:
        refused = type(error).__name__
        break
    if pid == 0:
        try:
            os.execv("/bin/sleep", ["sleep", "2"])
        finally:
            os._exit(1)
    children += 1
for _ in range(children):
    os.wait()
print(f"fork flood: {children} children, then {refused}")
'''

# 64 busy processes for a while, beside the honest neighbour's slow cell; it says how
# much CPU they got in how long.
CPU_HOG = '''import os, time
started = time.monotonic()
for _ in range(64):
    if os.fork() == 0:
        while time.monotonic() < started + 10:
            pass
        os._exit(0)
used = 0.0
for _ in range(64):
    _, _, usage = os.wait4(-1, 0)
    used += usage.ru_utime + usage.ru_stime
print(f"cpu hog: {used:.1f} CPU seconds in {time.monotonic() - started:.1f} s")
'''

# An honest cell that needs a few seconds of one core (about 2 s here), started when
# the hog beside it is busy.
SLOW_WORK = '''import time
time.sleep(2)
total = 0
for i in range(6_000_000):
    total += i * i % 7
print("slow work done:", total)
'''

# Children that each stay under the per-process bound but together exceed the hand-in's memory.
MEMORY_CHILDREN = '''import os, time
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        with open("/proc/self/oom_score_adj", "w") as stream:
            stream.write("1000")  # the children go first, not the kernel
        blocks = [bytearray(16 * 2**20) for _ in range({blocks})]  # touched: zeroed by Python
        time.sleep(3)
        os._exit(0)
    pids.append(pid)
killed = sum(os.WIFSIGNALED(status) for _, status in (os.waitpid(pid, 0) for pid in pids))
print(f"memory flood: {{killed}} of 4 children killed")
'''

# Files in every writable place until the sandbox says no: bytes, then numbers of files.
DISK_FLOOD = '''import os, sys
written = 0
places = ["/scratch", "/tmp", "/dev/shm", os.path.dirname(sys.argv[sys.argv.index("-f") + 1])]
for place in places:
    for number in range(64):
        try:
            with open(os.path.join(place, f"flood{{number}}"), "wb") as stream:
                for _ in range(64):
                    stream.write(bytes(2**20))
                    written += 2**20
        except OSError:
            break
print(f"disk flood: {{written // 2**20}} MiB in {{places}}")
files = 0
try:
    while files < 1_000_000:
        open(f"/scratch/empty{{files}}", "w").close()
        files += 1
except OSError as error:
    print(f"file flood: {{files}} files, then {{type(error).__name__}}")
'''

def through_a_file(name: str, code: str) -> str:
    """A cell that runs CODE from a file of its own, as a student gets past the
    static guard (which reads the cell, not what it runs): the sandbox must hold anyway."""
    return (f"import runpy\nwith open('/scratch/{name}.py', 'w') as stream:\n    stream.write({code!r})\n"
            f"runpy.run_path('/scratch/{name}.py', run_name='__main__')")


# Messages made by hand reach the grader as the kernel's own would.
SEND = "from IPython import get_ipython\nk = get_ipython().kernel\nparent = k.get_parent('shell')\n"
OUTPUT_FLOODS = {
    "stream": 'print("x" * 5_000_000)',
    "lines": "for i in range(300_000):\n    print(i)",
    "display": 'from IPython.display import display\ndisplay({"text/plain": "y" * 5_000_000}, raw=True)',
    "result": 'class Big:\n    def _repr_html_(self):\n        return "<b>" + "z" * 5_000_000 + "</b>"\nBig()',
    "error": 'raise ValueError("e" * 3_000_000)',
    "image": ('import base64, os\nfrom IPython.display import display\n'
              'display({"image/png": base64.b64encode(os.urandom(3_000_000)).decode()}, raw=True)'),
    "many": "from IPython.display import display\nfor i in range(2_000):\n    display(i)",
    "update": ('from IPython.display import display\nhandle = display("a", display_id=True)\n'
               'for i in range(300):\n    handle.update("b" * 20_000)'),
    "traceback": through_a_file("traceback", SEND + 'k.session.send(k.iopub_socket, "error", {"ename": "Flood", '
                                '"evalue": "t", "traceback": ["t" * 1000] * 10_000}, parent=parent)\n'),
}

INVALID_OUTPUTS = SEND + '''from IPython.display import display, publish_display_data
publish_display_data({"text/plain": {"not": "text"}})
display({"image/png": 5}, raw=True)
k.session.send(k.iopub_socket, "execute_result", {"data": {"text/plain": "x"}, "metadata": {},
               "execution_count": "seven"}, parent=parent)
k.session.send(k.iopub_socket, "stream", {"name": "elsewhere", "text": 5}, parent=parent)
k.session.send(k.iopub_socket, "error", {"ename": 3, "evalue": None, "traceback": "not a list"}, parent=parent)
k.session.send(k.iopub_socket, "status", {"no": "state"}, parent=parent)
k.session.send(k.iopub_socket, "display_data", {"data": {"text/plain": "no metadata"}}, parent=parent)
print("invalid outputs sent")
'''

# What a student's markdown and outputs could do to whoever opens the feedback.
MARKDOWN_ATTACK = """# My notes <script>document.title = "owned"</script>

<img src="x" onerror="alert('onerror')"> <iframe src="https://evil.example/frame"></iframe>

![tracker](https://evil.example/track.png)

[a link](https://example.org/page) and [a trap](javascript:alert('link'))

<style>@import url(https://evil.example/style.css);</style><a href="#" onclick="alert(1)">click</a>
"""
HTML_OUTPUTS = '''from IPython.display import HTML, SVG, Javascript, display
display(HTML('<b>bold</b><script>alert("html")</script><img src="https://evil.example/o.png" onload="alert(2)">'))
display(Javascript('alert("javascript")'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("svg")</script></svg>'))
'''
# A pasted image (a 1x1 PNG), as Jupyter and Colab store one in a markdown cell.
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
PASTED = "My sketch of the unrolled network:\n\n![sketch](attachment:sketch.png)\n"


def with_markdown(nb: nbformat.NotebookNode, after: str, source: str,
                  attachments: dict | None = None) -> nbformat.NotebookNode:
    """NB with a markdown cell of the student's (no metadata) after the cell AFTER."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_markdown_cell(source)
    if attachments:
        cell.attachments = attachments
    cell["id"] = hashlib.sha1(source.encode()).hexdigest()[:8]
    nb.cells.insert(corpus.index_of(nb, after) + 1, cell)
    return nb


def with_cells(nb: nbformat.NotebookNode, after: str, sources: list[str]) -> nbformat.NotebookNode:
    for source in reversed(sources):
        nb = corpus.with_cell(nb, after, source)
    return nb


def honest() -> dict[str, nbformat.NotebookNode]:
    """The honest hand-ins, graded alone and in the hostile batch."""
    full = corpus.answered()
    return {
        "full": full,
        "aa_slow_honest": corpus.with_cell(full, LAST_TEST, SLOW_WORK),
        "pasted_image": with_markdown(full, "rnn_step_forward", PASTED, {"sketch.png": {"image/png": PIXEL}}),
    }


def hostile(outside: list[str], memory_blocks: int) -> dict[str, nbformat.NotebookNode]:
    """The hostile hand-ins: OUTSIDE, paths the escape tries to write; MEMORY_BLOCKS, the
    16 MiB blocks each of four children holds."""
    full = corpus.answered()
    return {
        "aa_cpu_hog": corpus.with_cell(full, LAST_TEST, CPU_HOG),
        "escape": corpus.with_cell(full, "rnn_step_forward",
                                   through_a_file("escape", ESCAPE.format(outside=outside, marker=MARKER))),
        "fork_flood": corpus.with_cell(full, "rnn_step_forward", FORK_FLOOD),
        "memory_children": corpus.with_cell(full, "rnn_step_forward", MEMORY_CHILDREN.format(blocks=memory_blocks)),
        "disk_flood": corpus.with_cell(full, LAST_TEST, DISK_FLOOD.format()),
        "output_flood": with_cells(full, "rnn_step_forward", list(OUTPUT_FLOODS.values())),
        "invalid_output": corpus.with_cell(full, "rnn_step_forward", through_a_file("invalid", INVALID_OUTPUTS)),
        "markdown_attack": corpus.with_cell(with_markdown(full, "rnn_step_forward", MARKDOWN_ATTACK),
                                            "rnn_step_forward", HTML_OUTPUTS),
    }
