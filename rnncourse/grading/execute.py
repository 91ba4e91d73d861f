"""nbgrader's Execute preprocessor, made to finish every hand-in.

Plain nbgrader stops grading a notebook when its kernel dies (os._exit, a
crash): it records nothing for the student. And when a cell ignores the
interrupt sent at the time limit, every later cell waits behind it and times
out too. This subclass counts such a cell as an error, starts a fresh kernel,
re-runs the cells before it (their outputs discarded) and goes on, so tests
that pass before or after it keep their points.

Every message of the kernel's output channel passes outputs.bounded before
nbclient sees it, so no output can fill the grader's memory or make the
notebook one that nbformat cannot write; widgets' messages are not kept at all.
Where the hand-in's control group counts its CPU time (cpu_usage_file), a cell
is not run once the hand-in has used cpu_seconds: the hand-in's time is up.

nbgrader loads it from the grading folder's nbgrader_config.py in place of
its own Execute.
"""
from __future__ import annotations

import copy
from pathlib import Path
from queue import Empty
from time import monotonic

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode

from rnncourse.grading import cgroups, outputs

KERNEL_DIED = "KernelDied"
TIMED_OUT = "CellTimeoutError"  # the ename nbgrader's Execute gives a cell cut at the time limit
NOT_RUN = "NotRun"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GradingExecute(Execute):
    """Execute that survives a dead or stuck kernel and caps each cell's output."""

    max_restarts = Integer(8, help="Fresh kernels allowed per notebook before the rest is not run").tag(config=True)
    max_output_chars = Integer(100_000, help="Characters of stdout/stderr kept per cell").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Bytes of displays and results kept per cell").tag(config=True)
    max_notebook_output_bytes = Integer(20_000_000, help="Bytes of outputs kept per notebook").tag(config=True)
    responsive_timeout = Integer(10, help="Seconds an interrupted kernel has to answer").tag(config=True)
    cpu_usage_file = Unicode("", help="The hand-in's control group file of CPU time used").tag(config=True)
    cpu_seconds = Float(0.0, help="CPU seconds the hand-in may use (0: no bound)").tag(config=True)
    store_widget_state = Bool(False, help="Widgets' state is not kept: nothing grades it").tag(config=True)
    # One output per run of text, however the kernel's messages were cut: the same
    # notebook (and feedback) from the same hand-in, whatever the machine's load.
    coalesce_streams = Bool(True, help="Merge each cell's stream outputs").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._restarts = 0
        self._stopped: set[int] = set()  # cells never re-run: they killed or blocked the kernel
        self._room = outputs.Room(self.max_output_chars, self.max_output_bytes, self.max_notebook_output_bytes)
        return super().preprocess(nb, resources, km)

    def cpu_spent(self) -> bool:
        """Whether the hand-in has used all the CPU time it may."""
        if not (self.cpu_usage_file and self.cpu_seconds):
            return False
        return cgroups.cpu_seconds(Path(self.cpu_usage_file)) >= self.cpu_seconds

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._restarts > self.max_restarts:
            cell.outputs = [error_output(NOT_RUN, f"not run: the kernel stopped {self._restarts} times")]
            return cell
        if self.cpu_spent():
            cell.outputs = [error_output(TIMED_OUT, f"not run: the hand-in has used its {self.cpu_seconds:g} s "
                                                    "of CPU time")]
            return cell
        self._room.new_cell()
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            cell.outputs.append(error_output(
                KERNEL_DIED,
                "the kernel stopped while running this cell (os._exit, a crash, or no memory left); "
                "the cells after it ran in a fresh kernel, after the cells before it were run again",
            ))
            await self._fresh_kernel(cell_index)
            return cell
        except CellTimeoutError:
            # nbclient raises this when, after the interrupt, the kernel still
            # sends no end to the cell's output: it ignored the interrupt.
            cell.outputs.append(error_output(
                TIMED_OUT, "the cell ignored the interrupt: the cells after it ran in a fresh kernel"))
            await self._fresh_kernel(cell_index)
            return cell
        timed_out = any(out.get("ename") == TIMED_OUT for out in cell.outputs)
        if timed_out:
            self._stopped.add(cell_index)
        if timed_out and not await self._responsive():
            cell.outputs.append(error_output(
                TIMED_OUT, "the cell ignored the interrupt: the cells after it ran in a fresh kernel"))
            await self._fresh_kernel(cell_index)
        return cell

    execute_cell = run_sync(async_execute_cell)

    async def _responsive(self) -> bool:
        """Whether the kernel answers a kernel_info request within responsive_timeout."""
        msg_id = await ensure_async(self.kc.kernel_info())
        deadline = monotonic() + self.responsive_timeout
        while (left := deadline - monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    async def _fresh_kernel(self, failed_index: int) -> None:
        """Restart the kernel and re-run the code cells before FAILED_INDEX."""
        self._stopped.add(failed_index)
        while True:
            self._restarts += 1
            if self._restarts > self.max_restarts:
                return
            await ensure_async(self.km.restart_kernel(now=True))
            self.kc.stop_channels()
            await self.async_start_new_kernel_client()
            died = None
            room = copy.copy(self._room)  # what the re-runs show is not kept, nor counted
            for index, earlier in enumerate(self.nb.cells[:failed_index]):
                if index in self._stopped or earlier.cell_type != "code" or not earlier.source.strip():
                    continue
                try:
                    await super().async_execute_cell(copy.deepcopy(earlier), index, store_history=False)
                except DeadKernelError:
                    died = index
                    break
                finally:
                    self.nb.cells[index] = earlier  # nbclient puts the re-run's copy in its place
            self._room = room
            if died is None:
                return
            # It ran before, so the kernel's death is not its doing every time: go again without it.
            self._stopped.add(died)

    def process_message(self, msg, cell, cell_index):
        """nbclient's process_message for MSG bounded; a message it cannot take is
        noted in the cell's outputs instead of failing the hand-in."""
        if str(msg.get("msg_type", "")).startswith("comm"):
            return None
        bounded = outputs.bounded(msg, self._room)
        if bounded is None:
            return None
        try:
            return super().process_message(bounded, cell, cell_index)
        except CellExecutionComplete:
            raise
        except Exception as error:  # noqa: BLE001 (a message made by hand: anything can go wrong)
            self.log.warning("A kernel message was not kept: %r", error)
            text = outputs.note(f"a {bounded.get('msg_type')} message nbclient cannot take")
            kept = outputs.bounded({"msg_type": "stream", "content": {"name": "stdout", "text": text + "\n"}},
                                   self._room)
            if kept is not None:
                cell.outputs.append(NotebookNode(output_type="stream", **kept["content"]))
            return None
