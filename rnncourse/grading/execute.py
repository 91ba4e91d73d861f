"""nbgrader's Execute preprocessor, made to finish every hand-in.

Plain nbgrader stops grading a notebook when its kernel dies (os._exit, a
crash): it records nothing for the student. And when a cell ignores the
interrupt sent at the time limit, every later cell waits behind it and times
out too. This subclass counts such a cell as an error, starts a fresh kernel,
re-runs the cells before it (their outputs discarded) and goes on, so tests
that pass before or after it keep their points. It also caps what one cell may
print, so a cell that prints without end cannot fill the grader's memory.

nbgrader loads it from the grading folder's nbgrader_config.py in place of
its own Execute.
"""
from __future__ import annotations

import copy
from queue import Empty
from time import monotonic

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

KERNEL_DIED = "KernelDied"
TIMED_OUT = "CellTimeoutError"  # the ename nbgrader's Execute gives a cell cut at the time limit
NOT_RUN = "NotRun"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GradingExecute(Execute):
    """Execute that survives a dead or stuck kernel and caps each cell's output."""

    max_restarts = Integer(8, help="Fresh kernels allowed per notebook before the rest is not run").tag(config=True)
    max_output_chars = Integer(100_000, help="Characters of stdout/stderr kept per cell").tag(config=True)
    responsive_timeout = Integer(10, help="Seconds an interrupted kernel has to answer").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._restarts = 0
        self._stopped: set[int] = set()  # cells never re-run: they killed or blocked the kernel
        self._printed = 0
        return super().preprocess(nb, resources, km)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._restarts > self.max_restarts:
            cell.outputs = [error_output(NOT_RUN, f"not run: the kernel stopped {self._restarts} times")]
            return cell
        self._printed = 0
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
            for index, earlier in enumerate(self.nb.cells[:failed_index]):
                if index in self._stopped or earlier.cell_type != "code" or not earlier.source.strip():
                    continue
                try:
                    await super().async_execute_cell(copy.deepcopy(earlier), index, store_history=False)
                except DeadKernelError:
                    died = index
                    break
            if died is None:
                return
            # It ran before, so the kernel's death is not its doing every time: go again without it.
            self._stopped.add(died)

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            text = msg["content"]["text"]
            room = self.max_output_chars - self._printed
            if room <= 0:
                return None
            if len(text) > room:
                msg["content"]["text"] = text[:room] + f"\n[output cut at {self.max_output_chars} characters]\n"
            self._printed += len(text)
        return super().output(outs, msg, display_id, cell_index)
