"""Write the sample hand-ins in examples/handins/ from the committed notebooks.

    .venv/bin/python -m examples.make_examples

Then see the whole grading flow with `python -m rnncourse grade examples/handins`
(README, For instructors). The hand-ins are made as the grading tests make
theirs (tests/handin_corpus.py):

- 01_forward, downloaded one by one: ada (complete), ben (the forward pass
  ignores h0), cleo (a syntax error), and kimriley from Canvas, marked late;
- 02_small_array, Moodle's "Download all submissions" zip: two students named
  Sam Lee (participants 4811 and 4812), and Dana Doe, who uploaded a draft on
  8 October, a complete copy saved by Colab on 13 October, and a PDF.

The zip's times are fixed (in its entries' UTC timestamps), so the demo grades
alike everywhere.
"""
from __future__ import annotations

import io
import struct
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from tests import handin_corpus as corpus

HERE = Path(__file__).resolve().parent / "handins"
MOODLE_ZIP = "moodle_02_small_array.zip"
# A student's own words for 02's two written answers, graded by hand.
WRITTEN = {
    "answer_order": "With B = 1 the bias is most of every a_t and the inputs are tiny next to it, so their order "
                    "hardly moves the state. With B = 0 only the inputs are left, and the last one counts most.",
    "answer_saturation": "With B = 3 tanh is flat, its slope is near 0, so the gradients of W_x and B are tiny "
                         "and they learn slowly. Through several saturated steps the gradient shrinks each time.",
}


def utc(day: int, hour: int, minute: int) -> datetime:
    return datetime(2025, 10, day, hour, minute, tzinfo=timezone.utc)


def zip_entry(name: str, when: datetime) -> zipfile.ZipInfo:
    """An entry stamped WHEN, in local time and in an extended-timestamp field in UTC."""
    info = zipfile.ZipInfo(name, when.replace(tzinfo=None).timetuple()[:6])
    info.extra = struct.pack("<HHBi", 0x5455, 5, 1, int(when.timestamp()))
    info.compress_type = zipfile.ZIP_STORED  # the same bytes on every zlib
    info.external_attr = 0o644 << 16
    return info


def first_course_handins() -> dict[str, nbformat.NotebookNode]:
    """01_forward, one file per student."""
    reference = corpus.reference_answers("01_forward")
    h0_ignored = reference["simple_rnn"].replace("if h0 is None else h0", "if True else h0")
    syntax_error = reference["rnn_step_forward"].replace("return np.tanh(a_t)", "return np.tanh(a_t")
    if h0_ignored == reference["simple_rnn"] or syntax_error == reference["rnn_step_forward"]:
        raise SystemExit("the reference answers changed: update this script")
    return {
        "ada_01_forward.ipynb": corpus.answered("01_forward"),  # complete
        "ben_01_forward.ipynb": corpus.answered("01_forward", simple_rnn=h0_ignored),  # partial
        "cleo_01_forward.ipynb": corpus.answered("01_forward", rnn_step_forward=syntax_error),  # broken
        "kimriley_LATE_20417_880133_01_forward.ipynb": corpus.answered("01_forward"),  # Canvas, late
    }


def moodle_zip() -> bytes:
    """Moodle's zip of 02_small_array's submissions."""
    def answered(**answers: str) -> nbformat.NotebookNode:
        return corpus.answered("02_small_array", **WRITTEN, **answers)

    draft = corpus.colab(corpus.answered("02_small_array", skip=("forward_trace", "forward_one_by_one",
                                                                  *WRITTEN)))
    complete = corpus.colab(answered())
    scratch = nbformat.v4.new_code_cell("# trying it out\nprint(forward_trace(x, W_x, W_h, B)[1][:, -1])")
    scratch["id"] = "scratch"
    complete.cells.insert(corpus.index_by_source(complete, "def forward_trace") + 1, scratch)
    files = {
        ("Sam Lee_4811_assignsubmission_file_02_small_array.ipynb", utc(12, 21, 40)): answered(),
        ("Sam Lee_4812_assignsubmission_file_/Copy of 02_small_array.ipynb", utc(13, 9, 15)):
            corpus.colab(corpus.answered("02_small_array", skip=("forward_one_by_one",), **WRITTEN)),
        ("Dana Doe_4711_assignsubmission_file_/Copy of 02_small_array.ipynb", utc(8, 17, 2)): draft,
        ("Dana Doe_4711_assignsubmission_file_/02_small_array.ipynb", utc(13, 22, 51)): complete,
        ("Dana Doe_4711_assignsubmission_file_/notes.pdf", utc(13, 22, 50)): b"%PDF-1.4\n% notes\n%%EOF\n",
    }
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        for (name, when), content in files.items():
            data = content if isinstance(content, bytes) else nbformat.writes(content).encode()
            archive.writestr(zip_entry(name, when), data)
    return stream.getvalue()


def samples() -> dict[str, bytes]:
    """file name in examples/handins -> its bytes."""
    found = {name: nbformat.writes(nb).encode() for name, nb in first_course_handins().items()}
    found[MOODLE_ZIP] = moodle_zip()
    return found


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, data in samples().items():
        (HERE / name).write_bytes(data)
        print(f"wrote examples/handins/{name}")


if __name__ == "__main__":
    main()
