"""Every output a kernel sends, bounded and validated before nbgrader keeps it.

A kernel can send anything on its output channel: text without end, a display
of tens of megabytes, an exception whose message is longer still, data that
nbformat cannot hold (which fails the hand-in when nbgrader writes it, and
anyone's feedback run that reads it), or messages made by hand. Each message
passes `bounded` first: what is valid and fits the cell's and the notebook's
room goes on as it came; what is not is replaced by a short note of the same
kind, once, and what comes after the room is spent is dropped. An error is
never dropped (a failing test must stay failing): it is cut to size instead.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from nbformat.v4 import output_from_msg

OUTPUT_TYPES = ("stream", "display_data", "execute_result", "update_display_data", "error")
STREAMS = ("stdout", "stderr")


@dataclass
class Room:
    """What is left for outputs, in this cell and in the notebook; `new_cell` refills the first."""

    stream_chars: int = 100_000  # text one cell prints
    cell_bytes: int = 2_000_000  # displays and results of one cell, as JSON
    notebook_bytes: int = 20_000_000  # everything every cell shows
    error_chars: int = 10_000  # an exception's message, and each line of its traceback
    traceback_lines: int = 200
    errors: int = 10  # errors kept in one cell (a kernel sends one; more are made by hand)
    displays: int = 1_000  # displays and results kept in one cell

    def __post_init__(self) -> None:
        self.per_cell = (self.stream_chars, self.cell_bytes, self.errors, self.displays)

    def new_cell(self) -> None:
        self.stream_chars, self.cell_bytes, self.errors, self.displays = self.per_cell


def note(what: str) -> str:
    return f"[{what}: removed by the grader]"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n[cut at {limit} characters by the grader]"


def _stream(content: dict, room: Room) -> dict | None:
    if content.get("name") not in STREAMS or not isinstance(content.get("text"), str):
        content = {"name": "stdout", "text": note("an output stream nbformat cannot hold") + "\n"}
    text, left = content["text"], min(room.stream_chars, room.notebook_bytes)
    if left <= 0:
        return None  # the cut was announced when the room ran out
    if len(text) > left:
        text = text[:left] + "\n[output cut by the grader: too much printed]\n"
        room.stream_chars = 0
    room.stream_chars -= len(text)
    room.notebook_bytes -= len(text)
    return {"name": content["name"], "text": text}


def _error(content: dict, room: Room) -> dict | None:
    if room.errors <= 0:
        return None  # the cell holds errors already: it fails either way
    room.errors -= 1
    ename, evalue, traceback = content.get("ename"), content.get("evalue"), content.get("traceback")
    if not isinstance(ename, str) or not ename.isidentifier():
        ename = "Error"
    if not isinstance(evalue, str):
        evalue = note("an exception message nbformat cannot hold")
    if not (isinstance(traceback, list) and all(isinstance(line, str) for line in traceback)):
        traceback = [f"{ename}: {note('a traceback nbformat cannot hold')}"]
    half = room.traceback_lines // 2
    if len(traceback) > room.traceback_lines:
        traceback = traceback[:half] + ["[traceback cut by the grader]"] + traceback[-half:]
    return {"ename": ename[:200], "evalue": _cut(evalue, room.error_chars),
            "traceback": [_cut(line, room.error_chars) for line in traceback]}


def _valid(kind: str, shown: dict) -> bool:
    """Whether nbformat can hold the output (output_from_msg checks it against the schema)."""
    if not isinstance(shown["data"], dict) or not isinstance(shown["metadata"], dict):
        return False
    try:
        return bool(output_from_msg({"header": {"msg_type": kind}, "content": shown}))
    except Exception:  # noqa: BLE001 (nbformat's ValidationError, a missing field...)
        return False


def _display(msg_type: str, content: dict, room: Room) -> dict | None:
    shown = {"data": content.get("data"), "metadata": content.get("metadata", {})}
    if msg_type == "execute_result":
        count = content.get("execution_count")
        shown["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    kind = "display_data" if msg_type == "update_display_data" else msg_type
    left = min(room.cell_bytes, room.notebook_bytes)
    if left <= 0 or room.displays <= 0:
        return None
    if msg_type != "update_display_data":  # an update replaces an output, it adds none
        room.displays -= 1
        if room.displays == 0:
            return {**content, "data": {"text/plain": note("more displays than one cell may show")},
                    "metadata": {}}
    try:
        size = len(json.dumps(shown))
    except (TypeError, ValueError, RecursionError):
        size = None
    what = {"display_data": "display", "execute_result": "cell result"}[kind]
    if size is not None and size > left:
        shown.update(data={"text/plain": note(f"a {what} of {size:,} bytes, more than the room left for "
                                              "outputs")}, metadata={})
        room.cell_bytes = 0  # the cell's later displays are dropped
    elif size is None or not _valid(kind, shown):
        shown.update(data={"text/plain": note(f"a {what} nbformat cannot hold")}, metadata={})
    kept = len(json.dumps(shown))
    room.cell_bytes -= kept
    room.notebook_bytes -= kept
    return {**content, **shown}


def bounded(msg: dict, room: Room) -> dict | None:
    """MSG with its content bounded and valid (see the module's docstring), or None
    to drop it; ROOM is charged for what is kept."""
    msg_type = msg.get("msg_type")
    content = msg.get("content")
    if not isinstance(content, dict) or msg.get("header", {}).get("msg_type", msg_type) != msg_type:
        return None
    if msg_type not in OUTPUT_TYPES:
        if "execution_count" in content and not isinstance(content["execution_count"], (int, type(None))):
            content = {key: value for key, value in content.items() if key != "execution_count"}
        return {**msg, "content": content}
    if msg_type == "stream":
        content = _stream(content, room)
    elif msg_type == "error":
        content = _error(content, room)
    else:
        content = _display(msg_type, content, room)
    return None if content is None else {**msg, "content": content}
