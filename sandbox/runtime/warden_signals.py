"""SIGINT policy of the worker.

SIGINT must raise KeyboardInterrupt in user code and nowhere else: the runtime's own loop must
never die from it, and a frame must never be half-written to the channel (the kernel would see a
protocol violation and kill the worker). So:

- outside user code the signal is ignored;
- inside user code it raises, unless the main thread is in a runtime critical section (writing a
  frame, appending to the output buffer); then it is remembered and raised when the section ends.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import _signal  # not `signal`: it imports enum, a few ms of start-up for nothing
import _thread

_MAIN = _thread.get_ident()  # imported by the worker's main thread


class Interrupts:
    def __init__(self):
        self.user_mode = False  # True only while user code runs on the main thread
        self._depth = 0         # critical sections entered by the main thread
        self._pending = False   # a SIGINT arrived inside a critical section

    def install(self):
        _signal.signal(_signal.SIGINT, self._handler)

    def _handler(self, signum, frame):
        if not self.user_mode:
            return
        if self._depth:
            self._pending = True
            return
        raise KeyboardInterrupt

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
            if self.user_mode:
                raise KeyboardInterrupt

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, *exc):
        self.leave()
        return False

    def begin_user(self):
        self._pending = False
        self.user_mode = True

    def end_user(self):
        self.user_mode = False
        self._pending = False


INTERRUPTS = Interrupts()
