"""SIGINT policy of the worker.

SIGINT must raise KeyboardInterrupt in user code and nowhere else: the runtime's own loop must
never die from it, and a frame must never be half-written to the channel (the kernel would see a
protocol violation and kill the worker). So:

- outside user code the signal is ignored;
- inside user code it raises, unless the main thread is in a runtime critical section (writing a
  frame, appending to the output buffer); then it is remembered and raised when the section ends;
- it raises once per request from the kernel (a cell, a syntax check, a description). One
  interrupt may reach the worker three times: VS Code sends SIGINT to every process of the
  kernel's tree (the worker, its jail's init, which forwards it) and then to the kernel (which
  sends its own). The copies that follow the first must not land in the cell's `except
  KeyboardInterrupt:` or `finally:` clean-up. The kernel itself sends one SIGINT per cell and
  restarts a worker that has not finished the cell within its grace period, so a second
  interrupt of the same cell has nothing left to do. Counting, not timing: the copies may arrive
  any time later on a loaded machine;
- a KeyboardInterrupt that Python swallows because it landed where nothing can raise (an
  os.register_at_fork callback, as logging's around the fork of a `!cmd`, a __del__) reaches
  sys.unraisablehook: that one did not count. It is raised again at the next chance (the end of a
  critical section, as any output makes, or a copy of the signal); raising it in the hook itself
  would only be swallowed again.

The worker starts with SIGINT ignored (the jail sets that up), so one that arrives before
install() cannot kill a worker that is still starting.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import _signal  # not `signal`: it imports enum, a few ms of start-up for nothing
import _thread
import sys

_MAIN = _thread.get_ident()  # imported by the worker's main thread


class Interrupts:
    def __init__(self):
        self.user_mode = False  # True only while user code runs on the main thread
        self._depth = 0         # critical sections entered by the main thread
        self._pending = False   # a SIGINT arrived inside a critical section
        self._raised = None     # this request's KeyboardInterrupt, once raised
        self._next_unraisable_hook = None

    def install(self):
        _signal.signal(_signal.SIGINT, self._handler)
        self._next_unraisable_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable

    def _unraisable(self, unraisable):
        if self._raised is not None and unraisable.exc_value is self._raised:
            self._raised = None
            self._pending = True
            return
        self._next_unraisable_hook(unraisable)

    def _handler(self, signum, frame):
        if not self.user_mode or self._raised is not None:
            return
        if self._depth:
            self._pending = True
            return
        self._raise()

    def _raise(self):
        self._raised = KeyboardInterrupt()
        raise self._raised

    def enter(self):
        # Only the main thread receives signals, so only its sections matter.
        if _thread.get_ident() == _MAIN:
            self._depth += 1

    def leave(self):
        if _thread.get_ident() != _MAIN:
            return
        self._depth -= 1
        if self._depth == 0 and self._pending:
            self._pending = False
            if self.user_mode and self._raised is None:
                self._raise()

    def deliver_pending(self):
        """Raise a remembered interrupt now, if this is where it may be raised: for hot paths
        that test `_pending` instead of entering a section (warden_streams.Outbox.write)."""
        self.enter()
        self.leave()

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, *exc):
        self.leave()
        return False

    def new_request(self):
        """A request from the kernel begins: it may be interrupted (once)."""
        self._raised = None
        self._pending = False

    def begin_user(self):
        self._pending = False
        self.user_mode = True

    def end_user(self):
        self.user_mode = False
        self._pending = False


INTERRUPTS = Interrupts()
