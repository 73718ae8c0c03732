"""input() and getpass.getpass() over the channel.

When the execute allows stdin, the prompt goes to the kernel as an `input` (after all
pending output) and the worker reads frames until the `input_value` that answers it; anything
else arriving meanwhile is dropped. Otherwise a clear error is raised, as ipykernel does.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import builtins
import os

from warden_channel import ChannelClosed


class StdinNotImplementedError(NotImplementedError):
    """The frontend cannot answer input requests."""


class InputBroker:
    def __init__(self, outbox, channel):
        self.outbox = outbox
        self.channel = channel
        self.allow_stdin = False
        self._next_id = 0

    def input(self, prompt=""):
        """Read a line from the notebook user (warden's replacement for input())."""
        return self.request(str(prompt), False, "input()")

    def getpass(self, prompt="Password: ", stream=None):
        """Read a password from the notebook user (warden's replacement for getpass())."""
        return self.request(str(prompt), True, "getpass()")

    def request(self, prompt, password, what):
        if not self.allow_stdin:
            raise StdinNotImplementedError(
                "%s is not available: the frontend does not support input requests" % what)
        self._next_id += 1
        input_id = self._next_id
        exec_id = self.outbox.exec_id
        self.outbox.send({"t": "input", "id": exec_id, "input_id": input_id,
                          "prompt": prompt, "password": bool(password)})
        reply = self._wait(exec_id, input_id)
        if reply.get("cancelled") is True:
            raise KeyboardInterrupt("input cancelled")
        value = reply.get("value")
        return value if isinstance(value, str) else ""

    def _wait(self, exec_id, input_id):
        while True:
            try:
                frame = self.channel.recv()
            except ChannelClosed:
                os._exit(0)  # the kernel is gone; nobody will ever answer
            if (frame.get("t") == "input_value" and _int_eq(frame.get("id"), exec_id)
                    and _int_eq(frame.get("input_id"), input_id)):
                return frame


def _int_eq(value, expected):
    return type(value) is int and value == expected


BROKER = None  # the worker's InputBroker, set by install()


def install(outbox, channel):
    global BROKER
    BROKER = InputBroker(outbox, channel)
    builtins.input = BROKER.input
    return BROKER


def patch_getpass(module):
    """Import hook for getpass: its getpass() asks the notebook user."""
    module.getpass = BROKER.getpass
