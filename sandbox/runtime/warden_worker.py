"""warden's Python worker: runs cells for the kernel over the frame channel on fd 3.

Run as `/usr/bin/python3 -I warden_worker.py`. The protocol is docs/design.md, "Worker channel".
Start-up is kept lean (the kernel waits for `ready`): IPython, numpy, pandas and matplotlib are
only imported by user code, and patched by import hooks when they are, unless WARDEN_PRELOAD=1
(the warm standby), which imports them before `ready`.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import os
import sys

# Before anything can import matplotlib: no GUI backend exists in the jail.
os.environ["MPLBACKEND"] = "Agg"
# Python 3.11's -I implies -P: the script's directory is not on sys.path, so the sibling
# warden_* modules need it put there.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# All runtime modules are bound here, once: user code may `del sys.modules[...]`, and a lazy
# re-import would then give the runtime a second, uninitialised copy of a module.
import builtins  # noqa: E402

import warden_complete  # noqa: E402
import warden_context  # noqa: E402
import warden_display  # noqa: E402
import warden_errors  # noqa: E402
import warden_exec  # noqa: E402
import warden_hooks  # noqa: E402
import warden_input  # noqa: E402
import warden_inspect  # noqa: E402
import warden_ipython  # noqa: E402
import warden_mpl  # noqa: E402
import warden_outbuf  # noqa: E402
import warden_streams  # noqa: E402
from warden_channel import Channel, ChannelClosed  # noqa: E402
from warden_signals import INTERRUPTS  # noqa: E402

CHANNEL_FD = 3
_COMPILE_ERRORS = (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError)
_PRELOAD = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot", "IPython.display")
# The runtime's own lazy imports, done at once by the warm standby.
_WARM = ("traceback", "inspect", "tokenize", "codeop", "pprint", "pkgutil", "ctypes")
# A syntax check compiles under this name: no cell of that name exists, so nothing recorded
# (In, Out, the cell sources tracebacks show) can be confused with it.
CHECK_FILENAME = "Cell In[check]"
# describe's limits (the kernel asks within them; anything else is clamped).
_DESCRIBE_BOUNDS = {"budget": (0, 200000, 20000), "sample_rows": (0, 20, 0),
                    "max_files": (0, 1000, 200)}


def _preload_at_low_priority(failures):
    """Import _PRELOAD and _WARM in the calling thread after making it nice 19 and SCHED_IDLE
    (each best effort: a refusal only costs the user's cells some CPU)."""
    import importlib
    import threading
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except OSError:
        pass
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread
    except (OSError, AttributeError):
        pass
    for name in _PRELOAD + _WARM:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failures.append((name, exc))


class Worker:
    def __init__(self, fd):
        self.log_fd = os.dup(2)  # the supervisor's stderr, for the runtime's own diagnostics
        os.set_inheritable(fd, False)  # children of user code must not write frames
        self.channel = Channel(fd)
        self.outbox = warden_streams.Outbox(self.channel, self.log_fd)
        self.captures = (warden_streams.FdCapture(self.outbox, 1, "stdout"),
                         warden_streams.FdCapture(self.outbox, 2, "stderr"))
        self.stdout = warden_streams.OutStream(self.outbox, "stdout", 1)
        self.stderr = warden_streams.OutStream(self.outbox, "stderr", 2)

    # ---- start-up ------------------------------------------------------------------------
    def start(self):
        for cap in self.captures:
            cap.start()
        self.outbox.captures = self.captures
        self.outbox.pipes_changed()
        sys.stdout, sys.stderr = self.stdout, self.stderr
        # print() with one pipe check a call, not one a write (warden_outbuf.c says why the
        # order is kept); every call it does not handle is the builtin's.
        builtins.print = warden_outbuf.make_print(builtins.print)
        self.outbox.start()
        self.channel.watch_hangup()
        os.register_at_fork(after_in_child=self._after_fork_in_child)
        INTERRUPTS.install()

        self.executor = warden_exec.Executor(warden_exec.make_main_module())
        self.executor.ensure_main()
        self.publisher = warden_display.Publisher(self.outbox)
        warden_display.set_publisher(self.publisher, self.stderr)
        builtins.display = warden_display.display  # IPython puts display() in builtins too
        self.broker = warden_input.install(self.outbox, self.channel)
        warden_ipython.configure(self)
        self.executor.ns.update(get_ipython=warden_ipython.get_ipython, exit=warden_ipython.EXIT,
                                quit=warden_ipython.EXIT)
        warden_hooks.install()
        sys.path.insert(0, "")  # the notebook's directory (cwd) first, as in IPython
        if os.environ.get("WARDEN_PRELOAD") == "1":
            self._preload()
        self.outbox.send({"t": "ready", "python": sys.version.split()[0]})

    def _preload(self):
        """The heavy imports, in a thread at the lowest priority: the standby starts while the
        user's first cells run and must not take the 2 CPUs from them. Nice and SCHED_IDLE are
        per-thread on Linux and an unprivileged thread cannot undo them, so the main thread
        (which runs the cells once promoted) never lowers itself; it waits here, before ready,
        so no import lock is shared with a later cell."""
        import threading
        failures = []
        worker = threading.Thread(target=_preload_at_low_priority, args=(failures,),
                                  name="warden-preload", daemon=True)
        worker.start()
        worker.join()
        for name, exc in failures:
            self._log("warden: preload of %s failed: %r\n" % (name, exc))

    def _after_fork_in_child(self):
        # A forked child (multiprocessing, os.fork) shares the channel fd: it must never write
        # frames. Its prints go to fds 1/2, i.e. into the parent's pipes.
        self.outbox.forked = True
        try:
            os.close(self.channel.fd)
        except OSError:
            pass

    def _log(self, text):
        try:
            os.write(self.log_fd, text.encode("utf-8", "replace"))
        except OSError:
            pass

    # ---- main loop -----------------------------------------------------------------------
    def loop(self):
        # type -> (handler, whether the frame must carry a string "code")
        handlers = {"execute": (self.on_execute, True), "complete": (self.on_complete, True),
                    "inspect": (self.on_inspect, True), "is_complete": (self.on_is_complete, True),
                    "check": (self.on_check, True), "describe": (self.on_describe, False)}
        while True:
            try:
                frame = self.channel.recv()
                handler, needs_code = handlers.get(frame["t"], (None, False))
                if handler is not None and _is_id(frame.get("id")) \
                        and (not needs_code or isinstance(frame.get("code"), str)):
                    INTERRUPTS.new_request()
                    handler(frame)
            except ChannelClosed:
                os._exit(0)  # the kernel is gone: exit at once, whatever user threads do
            except BaseException as exc:  # the loop must survive anything
                self._log("warden: internal error: %r\n" % (exc,))

    def on_execute(self, f):
        self.outbox.flush()  # earlier background output belongs to the previous id
        self.outbox.start_cell(f["id"], f.get("output"))
        ok = False
        try:
            ok = self._execute(f)
        except BaseException as exc:  # e.g. no fd left for a new pipe: still end the cell
            INTERRUPTS.end_user()
            self._log("warden: internal error in execute: %r\n" % (exc,))
            self._send_error(exc)
        finally:
            # `done` is always the last frame of an execute, whatever happened before it.
            self.outbox.send({"t": "done", "id": f["id"], "status": "ok" if ok else "error"})

    def _execute(self, f):
        """Run the cell, send its error if any, flush its figures; True when it succeeded."""
        self.broker.allow_stdin = f.get("allow_stdin") is True
        for cap in self.captures:
            try:
                cap.ensure()
            except OSError as exc:  # e.g. the cells used up every fd: run without fd capture
                self._log("warden: cannot restore fd %d capture: %r\n" % (cap.fd, exc))
        self.executor.ensure_main()
        count = f.get("count") if _is_id(f.get("count")) else 0
        try:
            exc = self._run_cell(f["code"], count, f.get("silent") is True)
        except BaseException as stray:  # e.g. a SIGINT landing just as user code finished
            INTERRUPTS.end_user()
            exc = stray
        self._flush_native()
        if exc is not None:
            self._send_error(exc)
        fig_exc = self._user(warden_mpl.flush_figures)
        if fig_exc is not None and exc is None:
            exc = fig_exc
            self._send_error(fig_exc)
        self._flush_native()
        return exc is None

    def _run_cell(self, code, count, silent):
        """Runs one cell; returns the exception that ended it, or None."""
        ex = self.executor
        help_wanted = warden_inspect.help_request(code)
        if help_wanted is not None:
            return self._user(lambda: self._page_help(*help_wanted))
        if warden_ipython.bare_exit(code, ex.ns):
            return self._user(warden_ipython.EXIT)
        filename = ex.register_source(code, count)
        warden_ipython.set_count(count)
        compiled = []
        exc = self._user(lambda: compiled.append(self._compile(code, filename)))
        # exc first: a SIGINT may land once the append is done, before _user returns; the cell
        # then ran on with its KeyboardInterrupt spent, and the next ones were ignored
        source, parts = (code, exc) if exc is not None else compiled[0]
        if not silent:
            ex.record_input(source, count)
        if isinstance(parts, BaseException):
            return parts
        events = warden_ipython.begin_cell(code, silent, not silent)
        exc = self._user(lambda: self._run_and_show(parts, count, silent))
        warden_ipython.end_cell(events, silent, exc)
        return exc

    def _compile(self, code, filename, quiet=False):
        """(the Python that runs, (body, last) or the exception compiling it raised). Python
        first; IPython's transformation only for what Python rejects and looks like IPython.
        Cells and syntax checks both compile here, so a check says what the cell would; `quiet`
        (a check) keeps compile-time warnings back: they are the cell's output when it runs."""
        compile_cell = _quietly(self.executor.compile_cell) if quiet else self.executor.compile_cell
        try:
            return code, compile_cell(code, filename)
        except _COMPILE_ERRORS as exc:
            if not isinstance(exc, SyntaxError) or not warden_ipython.looks_like_ipython(code):
                return code, exc
            python = warden_ipython.transform(code)
            if python == code:
                return code, exc
        try:
            return python, compile_cell(python, filename)
        except _COMPILE_ERRORS as exc:
            return python, exc

    def _run_and_show(self, parts, count, silent):
        body, last = parts
        value = self.executor.run(body, last)
        if value is warden_ipython.EXIT:
            value()  # a bare `exit` / `quit`: IPython calls it (autocall)
            return
        if last is None or value is None or silent:
            return
        self._flush_native()  # C-level prints of the cell come before its result
        self.executor.record_output(value, count)
        data, md = warden_display.format_object(value)
        if data:
            self.publisher.result(data, md)

    def run_nested_cell(self, raw, silent=False):
        """A cell that user code runs (IPython's run_cell, as %%capture calls it): transformed
        and run like a cell, its result shown; an exception ends the outer cell."""
        from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult
        filename = self.executor.register_source(raw, self.executor.nested_count())
        python, parts = self._compile(raw, filename)
        if isinstance(parts, BaseException):
            raise parts
        result = ExecutionResult(ExecutionInfo(raw, False, silent, True, None))
        body, last = parts
        value = self.executor.run(body, last)
        if last is not None and value is not None and not silent:
            data, md = warden_display.format_object(value)
            if data:
                self.publisher.result(data, md)
        result.result = value
        return result

    # ---- what IPython's shell hands the kernel ---------------------------------------------
    def page(self, bundle):
        """The pager (IPython's `name?`, %page): a reply payload."""
        self.outbox.send({"t": "page", "id": self.outbox.exec_id, "data": bundle})

    def set_next_input(self, text, replace=False):
        """IPython's set_next_input (%load): the frontend's next cell holds `text`."""
        if isinstance(text, str):
            self.outbox.send({"t": "next_input", "id": self.outbox.exec_id, "text": text,
                              "replace": bool(replace)})

    def ask_exit(self, keep_kernel=False):
        """exit / quit: the client leaves (and shuts the kernel down unless keep_kernel)."""
        self.outbox.send({"t": "exit", "id": self.outbox.exec_id, "keep_kernel": keep_kernel})

    def _page_help(self, name, detail):
        """IPython's `name?`: the description goes to the frontend's pager (a reply payload)."""
        text = warden_inspect.help_text(name, detail, self.executor.ns)
        if text is None:
            self.outbox.write("stdout", "Object `%s` not found.\n" % name)
        else:
            self.page({"text/plain": text})

    def _user(self, func):
        """Run func as user code (SIGINT raises); return the exception it raised, or None."""
        INTERRUPTS.begin_user()
        try:
            func()
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are cell errors too
            INTERRUPTS.end_user()
            return exc
        finally:
            INTERRUPTS.end_user()
        return None

    def _send_error(self, exc):
        try:
            ename, evalue, tb = warden_errors.format_exception(exc)
        except BaseException as fail:  # formatting ran user code (__str__) that failed
            ename, evalue, tb = type(exc).__name__, "", ["(traceback unavailable: %r)" % fail]
        self.outbox.send({"t": "error", "id": self.outbox.exec_id, "ename": ename,
                          "evalue": evalue, "traceback": tb})

    _fflush = None

    def _flush_native(self):
        """Flush C stdio and the original Python streams, which buffer when fd 1 is a pipe."""
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass
        if self._fflush is None:
            try:
                import ctypes
                fflush = ctypes.CDLL(None).fflush
                fflush.argtypes = [ctypes.c_void_p]
                Worker._fflush = fflush
            except Exception:
                return  # e.g. no fd left to load it: try again after the next cell
        self._fflush(None)

    # ---- introspection -------------------------------------------------------------------
    def on_complete(self, f):
        cursor = f.get("cursor") if _is_id(f.get("cursor")) else len(f["code"])
        try:
            if warden_ipython.wants_ipython_completion(f["code"], cursor):
                reply = warden_ipython.complete(f["code"], cursor)  # magics, !paths
            else:
                reply = warden_complete.complete(f["code"], cursor, self.executor.ns)
                if not reply["matches"] and warden_ipython.shell_if_loaded() is not None:
                    reply = warden_ipython.complete(f["code"], cursor)  # jedi, where installed
        except Exception as exc:
            self._log("warden: complete failed: %r\n" % (exc,))
            reply = {"matches": [], "cursor_start": cursor, "cursor_end": cursor}
        reply.update(t="completions", id=f["id"], metadata={})
        self.outbox.send(reply)

    def on_inspect(self, f):
        cursor = f.get("cursor") if _is_id(f.get("cursor")) else len(f["code"])
        detail = 1 if f.get("detail") in (1, True) else 0
        try:
            found, text = warden_inspect.inspect_object(f["code"], cursor, detail,
                                                        self.executor.ns)
        except Exception as exc:
            self._log("warden: inspect failed: %r\n" % (exc,))
            found, text = False, ""
        self.outbox.send({"t": "inspection", "id": f["id"], "found": found,
                          "data": {"text/plain": text} if found else {}, "metadata": {}})

    def on_is_complete(self, f):
        try:
            if warden_ipython.looks_like_ipython(f["code"]):
                status, indent = warden_ipython.check_complete(f["code"])
            else:
                status, indent = warden_inspect.is_complete(f["code"])
        except Exception as exc:
            self._log("warden: is_complete failed: %r\n" % (exc,))
            status, indent = "unknown", ""
        self.outbox.send({"t": "completeness", "id": f["id"], "status": status,
                          "indent": indent})

    # ---- what the agent asks between cells ------------------------------------------------
    def on_check(self, f):
        """Compiles the code as its cell would be compiled; runs nothing, records nothing."""
        try:
            _, parts = self._compile(f["code"], CHECK_FILENAME, quiet=True)
        except Exception as exc:  # e.g. IPython syntax without IPython: the cell would fail so
            parts = exc
        error = parts if isinstance(parts, BaseException) else None
        reply = warden_context.check_reply(error)
        reply.update(t="checked", id=f["id"])
        self.outbox.send(reply)

    def on_describe(self, f):
        """The namespace, the importable libraries and the notebook directory, for the agent."""
        opts = {key: _bounded(f.get(key), *bounds) for key, bounds in _DESCRIBE_BOUNDS.items()}
        try:
            reply = warden_context.describe(self.executor.ns, **opts)
        except Exception as exc:
            self._log("warden: describe failed: %r\n" % (exc,))
            reply = {"variables": [], "omitted": 0, "libraries": [], "files": [],
                     "files_omitted": 0, "cwd": ""}
        reply.update(t="described", id=f["id"])
        self.outbox.send(reply)


def _is_id(value):
    return type(value) is int


def _bounded(value, low, high, default):
    return min(high, max(low, value)) if _is_id(value) else default


def _quietly(compile_cell):
    """compile_cell with the warnings it raises recorded and dropped (filters still apply: a
    warning the user made an error is still the SyntaxError it would be in the cell)."""
    def compile_quietly(code, filename):
        import warnings
        with warnings.catch_warnings(record=True):
            return compile_cell(code, filename)
    return compile_quietly


def main():
    worker = Worker(CHANNEL_FD)
    worker.start()
    worker.loop()


if __name__ == "__main__":
    main()
