"""jupyter console with the fix of jupyter/jupyter_console#296 (PR #295, not in Debian's 6.4.4),
for the tests that press Ctrl-C on a running cell.

The bug is the client's, whatever the kernel (ipykernel too): prompt_toolkit installs a SIGINT
handler while it reads a cell and, on leaving, restores Python's default handler instead of the
console's, so Ctrl-C during a cell raises KeyboardInterrupt in the console ("KeyboardInterrupt
escaped interact()") and the kernel is never interrupted. Reading a cell without that handler
keeps the console's, which interrupts the kernel; at the prompt Ctrl-C is a key press anyway
(the terminal is in raw mode there). Everything else is the console as shipped.

    python3 tests/harness/console_sigint_fix.py --kernel warden ...
"""

import functools
import sys

from prompt_toolkit.shortcuts import PromptSession

_prompt_async = PromptSession.prompt_async


@functools.wraps(_prompt_async)
async def _prompt_async_keeping_sigint(self, *args, **kwargs):
    kwargs["handle_sigint"] = False
    return await _prompt_async(self, *args, **kwargs)


PromptSession.prompt_async = _prompt_async_keeping_sigint

if __name__ == "__main__":
    from jupyter_console.app import main

    sys.exit(main())
