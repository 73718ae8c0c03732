"""The Jupyter project's own kernel test suite (Debian python3-jupyter-kernel-test 0.4.5).

Every attribute of ``jupyter_kernel_test.KernelTests`` is set, with ``%%python`` cells.

Timing the suite imposes (see its execute_helper): the execute_reply within 15 s, then the first
iopub message (``busy``, parent = the request) within 1 s, then each further iopub message within
0.1 s of the previous one until ``idle``; ``execute_input.code`` must equal the cell as sent (with
its ``%%python`` line); ``code_generate_error`` must give exactly one output message (the
``error``). Any iopub message type it has no schema for arriving mid-test fails it.

Assumptions about ``%%python`` cells (the kernel routes a cell starting with ``%%python\\n`` to
Python):

- complete_request: ``cursor_pos`` is counted in code points over the whole cell, the ``%%python``
  line included (the suite sends ``cursor_pos = len(text)``).
- is_complete_request: ``%%python`` alone, or a cell whose last line is not blank, is
  ``incomplete``; a cell ending with a blank line (a trailing newline counts: that is what a console
  sends when Enter is pressed on an empty line) is ``complete`` when Python agrees the body is
  complete (``for i in x:`` + newline still wants its block), and ``invalid`` when the body is not
  valid Python.
- history stores each cell as sent, ``%%python`` line included; ``search`` uses IPython's glob
  semantics (``fnmatch``: the pattern must match the whole cell, ``*`` crosses newlines).
- code_page_something needs a ``page`` payload in the execute_reply
  (``payload == [{"source": "page", "data": {"text/plain": ...}, "start": 0}]``): the worker sends
  a ``page`` frame for IPython's ``len?`` help syntax (docs/design.md).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import harness  # noqa: E402
from harness import IS_WARDEN, KERNEL_NAME, python  # noqa: E402

harness.setup_environment()  # JUPYTER_PATH must name the kernelspec before setUpClass

import jupyter_kernel_test  # noqa: E402
from jupyter_client.manager import start_new_kernel  # noqa: E402

P = "%%python\n"

# A 1x1 red PNG
_PNG_B64 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAA"
            "AAAElFTkSuQmCC")


class WardenKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "python"
    file_extension = ".py"

    @classmethod
    def setUpClass(cls):
        reason = harness.warden_missing_reason()
        if reason:
            raise RuntimeError(reason)
        # as the suite does, but started in a notebook directory of its own rather than in
        # whatever directory pytest runs from
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, cwd=harness.make_workdir())

    code_hello_world = python("print('hello, world')")

    code_stderr = python("import sys\nprint('test', file=sys.stderr)")

    # The suite sends cursor_pos = len(text) and compares the set of matches exactly, so only
    # plain names: for "obj.attr" kernels differ on whether a match is "attr" or "obj.attr" (both
    # right, with the matching cursor_start), and the completion text itself is never executed.
    completion_samples = [
        {"text": python("zi"), "matches": {"zip"}},
        {"text": python("isinst"), "matches": {"isinstance"}},
        {"text": python("x = 1\nissubcl"), "matches": {"issubclass"}},
    ]

    complete_code_samples = [P + "x = 1\n"] * IS_WARDEN + [  # IPython wants one more blank line
        P + "x = 1\n\n",
        P + "print('hello')\n\n",
        P + "for i in range(3):\n    print(i)\n\n",
    ]
    incomplete_code_samples = [
        "%%python",
        P,
        P + "x = 1",
        P + "for i in range(3):\n",
        P + "x = [1,\n",
    ]
    invalid_code_samples = [
        python("1 = 2\n\n"),
        python("for\n\n"),
        python("del 1\n\n"),
    ]

    # Pager: `name?` in a %%python cell gives one {"source": "page"} payload.
    code_page_something = python("len?")

    code_generate_error = python("raise ValueError('boom')")

    code_execute_result = [
        {"code": python("1+2+3"), "result": "6"},
        {"code": python("[n * n for n in range(4)]"), "result": "[0, 1, 4, 9]"},
        {"code": python("'a' * 3"), "result": "'aaa'"},
    ]

    code_display_data = [
        {"code": python("from IPython.display import HTML, display\n"
                        "display(HTML('<b>bold</b>'))"), "mime": "text/html"},
        {"code": python("from IPython.display import Image, display\nimport base64\n"
                        f"display(Image(data=base64.b64decode('{_PNG_B64}')))"),
         "mime": "image/png"},
        {"code": python("import matplotlib\nimport matplotlib.pyplot as plt\n"
                        "plt.plot([1, 2, 3], [1, 4, 9])\nplt.show()"), "mime": "image/png"},
    ]

    # Must match exactly one distinct cell (the "unique" subtest) and, as a glob, the whole
    # stored cell: "%%python\n1+2+3" for warden, "1+2+3" for ipykernel.
    code_history_pattern = "*1?2?3*"
    # ipykernel answers a range request for its own session number with session 0 (IPython's
    # "current session"), which the suite rejects: range is checked against warden only.
    supported_history_operations = ("tail", "range", "search") if IS_WARDEN else ("tail", "search")

    code_inspect_sample = python("zip")

    code_clear_output = python("from IPython.display import clear_output\n"
                               "print('soon gone')\nclear_output()")
