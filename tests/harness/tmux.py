"""A terminal program run in a private tmux server, driven as a person would: keys in through
``send-keys``, the screen read back through ``capture-pane`` (the whole scrollback, lines joined).

::

    with Tmux(["/usr/bin/python3", "-m", "jupyter_console"], env={...}, cwd=path) as t:
        t.expect(r"In \\[1\\]: ")
        t.type_line("%agent")
        t.expect(r"provider: openai")
        t.keys("C-c")

``expect`` polls the screen until a regex matches after the previous match (a deadline, never a
fixed sleep) and fails with the screen in the message. ``type_line`` sends a line literally, then
Enter, and waits until the program has taken the Enter (the screen changes): typing ahead of
jupyter console's is_complete round trip trips prompt_toolkit's nested event loop ("Unhandled
exception in event loop ... is already entered"), which no person typing sees. ``save(path)``
keeps the screen as a test artifact; ``wait_exit()`` returns the program's exit status. Leaving the ``with`` kills the tmux server and its panes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from typing import Optional, Sequence

from .processes import describe, process_tree


class Tmux:
    def __init__(self, argv: Sequence[str], env: Optional[dict] = None,
                 cwd: Optional[str] = None, width: int = 160, height: int = 50):
        self.dir = tempfile.mkdtemp(prefix="warden-tmux-")
        self.socket = os.path.join(self.dir, "socket")
        self._status = os.path.join(self.dir, "status")
        self.pos = 0  # offset in the screen text up to which matches were consumed
        environ = dict(os.environ)
        environ.update(env or {})
        # The pane runs a script that sets the environment itself: a tmux server started from
        # here hands new panes its own global environment, not this process's.
        script = os.path.join(self.dir, "run")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n")
            if cwd:
                f.write("cd %s || exit 1\n" % shlex.quote(cwd))
            for key, value in environ.items():
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                    f.write("export %s=%s\n" % (key, shlex.quote(value)))
            # The shell waits for the program and records how it ended: tmux 3.3a sometimes
            # marks a pane dead without its exit status. Its trap keeps the shell alive through
            # a Ctrl-C meant for the program, which gets the signal as usual (a trapped signal
            # is back to its default in a child).
            f.write("trap : INT QUIT\n%s\n" % " ".join(shlex.quote(a) for a in argv))
            f.write('echo "$?" > %s.new && mv %s.new %s\n' % ((shlex.quote(self._status),) * 3))
        os.chmod(script, 0o700)
        # no user configuration; options set before the pane exists; a pane that exited stays,
        # so that its last screen can be read
        self._tmux("-f", "/dev/null", "start-server", ";", "set-option", "-g", "history-limit",
                   "50000", ";", "set-option", "-g", "remain-on-exit", "on", ";", "new-session",
                   "-d", "-x", str(width), "-y", str(height), script)
        self.pid = int(self._tmux("display-message", "-p", "#{pane_pid}").strip())

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True,
                              timeout=30)
        if done.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (" ".join(args), done.stderr.strip()))
        return done.stdout

    def screen(self) -> str:
        """Everything the pane has shown, scrollback included, wrapped lines joined."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-")

    def expect(self, pattern: str, timeout: float = 60) -> re.Match:
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            m = regex.search(text, self.pos)
            if m:
                self.pos = m.end()
                return m
            if time.monotonic() > deadline:
                raise AssertionError("no %r on the screen within %ss; screen:\n%s"
                                     % (pattern, timeout, text[-4000:]))
            time.sleep(0.1)  # polling the screen: the condition is awaited with a deadline

    def keys(self, *keys: str) -> None:
        """tmux key names (``Enter``, ``C-c``, ``C-d``)."""
        self._tmux("send-keys", *keys)

    def type_line(self, text: str, timeout: float = 60) -> None:
        """Type ``text`` and Enter, and wait until the program has answered the Enter."""
        if text:
            self._tmux("send-keys", "-l", text)
        self.expect(re.escape(text) if text else "", timeout)
        before = self.screen().rstrip()
        self.keys("Enter")
        deadline = time.monotonic() + timeout
        while self.screen().rstrip() == before:
            if time.monotonic() > deadline:
                raise AssertionError("the Enter after %r was not taken; screen:\n%s"
                                     % (text, before[-4000:]))
            time.sleep(0.05)

    def exit_status(self) -> Optional[int]:
        """The program's exit status once it has exited (128 + N for signal N); None before."""
        try:
            with open(self._status) as f:
                return int(f.read())
        except FileNotFoundError:
            return None

    def wait_exit(self, timeout: float = 60) -> int:
        """Wait until the program has exited; its exit status."""
        deadline = time.monotonic() + timeout
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                raise AssertionError("the program did not exit; still running:\n%s\nscreen:\n%s"
                                     % (describe(process_tree(self.pid)), self.screen()[-4000:]))
            time.sleep(0.1)  # polling for the status file, with a deadline
        return status

    def kill_session(self) -> None:
        """``tmux kill-session``: the terminal goes away (its processes get SIGHUP), as when a
        person closes it; the program is not asked to exit first."""
        self._tmux("kill-session")

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            f.write(self.screen())

    def close(self) -> None:
        try:
            self._tmux("kill-server")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Tmux":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
