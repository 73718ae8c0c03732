"""IPython syntax in %%python cells, side by side with ipykernel in one run.

The same sequence of cells runs in warden and in Debian's ipykernel (both through jupyter_client,
each in a notebook directory holding the same files), and for every cell the text a person reads
must match in substance: streams, results, errors (ename: evalue), the pager, the next cell's text
(%load) and the request to leave, with ANSI colours, timings, addresses and the notebook
directory's path masked. Then what only warden has to say: %pip in a jail without network,
%%writefile in a read-only notebook directory, other matplotlib backends.
"""

import os
import re
import uuid

import pytest

from e2e_helpers import warden_only
from harness import Kernel, make_workdir

pytestmark = warden_only

SCRATCH = "/tmp/warden-side-by-side-%s.txt" % uuid.uuid4().hex[:8]

# (name, cell). Cells run in order in each kernel: later ones use what earlier ones defined.
CELLS = [
    ("timeit with options", "%timeit -n 5 -r 2 sum(range(100))"),
    ("time a statement", "%time x = 1"),
    ("what %time defined", "x"),
    ("shell escape", "!echo hi"),
    ("who", "x = 5\n%who"),
    ("whos", "%whos"),
    ("help at the end of a multi-line cell", "def f(a):\n    'Adds nothing.'\n    return a\nf?"),
    ("help on a method of a DataFrame",
     "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\ndf.head?"),
    ("set and read an environment variable", "%env WARDEN_SIDE=by-side"),
    ("env one variable", "%env WARDEN_SIDE"),
    ("pwd", "%pwd"),
    ("cd into the notebook directory's subfolder", "%cd sub"),
    ("cd back", "%cd .."),
    ("shell output into a variable", "files = !ls\nsorted(files)"),
    ("ls in the notebook directory", "!ls"),
    ("run a file", "%run script.py"),
    ("what %run defined", "y * 2"),
    ("load a file into the next cell", "%load snippet.py"),
    ("writefile where it may write", "%%%%writefile %s\nwritten by a cell" % SCRATCH),
    ("read it back", "print(open(%r).read())" % SCRATCH),
    ("capture", "%%capture cap\nprint('quiet')"),
    ("what capture caught", "cap.stdout"),
    ("bash", "%%bash\necho from bash\necho to stderr >&2"),
    ("sh arithmetic", "%%sh\necho $((40 + 2))"),
    ("cell timeit", "%%timeit -n 3 -r 1\nsum(range(10))"),
    ("cell time", "%%time\nz = 6 * 7"),
    ("matplotlib inline", "%matplotlib inline"),
    ("inline figure format", "%config InlineBackend.figure_format = 'png'"),
    ("error inside a magic", "%timeit -n 1 -r 1 1 / 0"),
    ("unknown magic", "%no_such_magic"),
    ("Out and _", "6 * 7"),
    ("the last result", "_ + 1"),
    ("the input history", "print(_i)"),
    ("get_ipython is IPython's shell",
     "from IPython.core.interactiveshell import InteractiveShell\n"
     "isinstance(get_ipython(), InteractiveShell)"),
    ("tqdm picks its text front end", "from tqdm.auto import tqdm\ntqdm.__module__"),
    ("reset", "%reset -f"),
    ("nothing left", "'x' in dir(), 'df' in dir()"),
    ("exit keeping the kernel", "exit(keep_kernel=True)"),
]

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIME = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?\s*(?:ns|µs|us|ms|s)\b")  # IPython writes 1e+03 ns
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def readable(r, workdir):
    """What a person reads of a cell's run, normalised."""
    parts = [r.stdout, r.stderr]
    for msg_type, content in r.outputs:
        if msg_type in ("execute_result", "display_data"):
            parts.append(content["data"].get("text/plain", ""))
        elif msg_type == "error":
            parts.append("%s: %s" % (content["ename"], content["evalue"]))
    for payload in r.reply.get("payload", []):
        if payload["source"] == "page":
            parts.append(payload["data"]["text/plain"])
        elif payload["source"] == "set_next_input":
            parts.append("next cell: " + payload["text"])
        elif payload["source"] == "ask_exit":
            parts.append("leave (keep kernel: %s)" % payload["keepkernel"])
    text = ANSI.sub("", "\n".join(p for p in parts if p))
    text = text.replace(os.path.realpath(workdir), "<nb>").replace(workdir, "<nb>")
    text = ADDRESS.sub("0x…", TIME.sub("<t>", text))
    lines = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line or "slowest run took" in line or line.startswith("File:"):
            continue  # timing noise; where a function's source lives differs by kernel
        if "IProgress not found" in line or "TqdmWarning" in line or "autonotebook" in line:
            continue  # ipykernel's tqdm looks for ipywidgets first (none in either kernel)
        lines.append(line)
    return "\n".join(lines)


def notebook_dir():
    d = make_workdir()
    os.mkdir(os.path.join(d, "sub"))
    with open(os.path.join(d, "data.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    with open(os.path.join(d, "script.py"), "w") as f:
        f.write("print('script ran')\ny = 21\n")
    with open(os.path.join(d, "snippet.py"), "w") as f:
        f.write("answer = 42\n")
    return d


@pytest.fixture(scope="module")
def side_by_side():
    """{name: (warden's run, ipykernel's run, warden's dir, ipykernel's dir)}."""
    runs = {}
    wdir, idir = notebook_dir(), notebook_dir()
    with Kernel(cwd=wdir) as warden, Kernel(cwd=idir, kernel_name="python3") as ipy:
        for name, code in CELLS:
            w = warden.run("%%python\n" + code, timeout=120)
            i = ipy.run(code, timeout=120)
            if i.status == "aborted":
                # ipykernel aborts what arrives before its stop-on-error window closes (it ends
                # at its event loop's next turn, late on a loaded machine); the cell never ran
                i = ipy.run(code, timeout=120)
            runs[name] = (w, i, wdir, idir)
    try:
        os.unlink(SCRATCH)
    except OSError:
        pass
    return runs


def test_enough_snippets():
    assert len(CELLS) >= 25


@pytest.mark.parametrize("name", [name for name, _ in CELLS])
def test_reads_like_ipykernel(side_by_side, name):
    w, i, wdir, idir = side_by_side[name]
    assert w.status == i.status, "%s: warden %s, ipykernel %s\n%s\n%s" % (
        name, w.status, i.status, w.summary(), i.summary())
    assert readable(w, wdir) == readable(i, idir), "%s\nwarden:\n%s\nipykernel:\n%s" % (
        name, readable(w, wdir), readable(i, idir))


def test_the_texts_say_something(side_by_side):
    """The comparison is not of two empty strings: what each cell must show."""
    expect = {
        "timeit with options": "per loop (mean ± std. dev. of 2 runs, 5 loops each)",
        "shell escape": "hi",
        "who": "x",
        "help at the end of a multi-line cell": "Docstring: Adds nothing.",
        "help on a method of a DataFrame": "Return the first `n` rows.",
        "pwd": "'<nb>'",
        "cd into the notebook directory's subfolder": "<nb>/sub",
        "shell output into a variable": "'data.csv'",
        "run a file": "script ran",
        "what %run defined": "42",
        "load a file into the next cell": "next cell: # %load snippet.py\nanswer = 42",
        "read it back": "written by a cell",
        "what capture caught": "'quiet\\n'",
        "bash": "from bash\nto stderr",
        "sh arithmetic": "42",
        "error inside a magic": "ZeroDivisionError: division by zero",
        "unknown magic": "UsageError: Line magic function `%no_such_magic` not found.",
        "the last result": "43",
        "the input history": "_ + 1",
        "get_ipython is IPython's shell": "True",
        "tqdm picks its text front end": "'tqdm.asyncio'",
        "nothing left": "(False, False)",
        "exit keeping the kernel": "leave (keep kernel: True)",
    }
    for name, words in expect.items():
        w, _, wdir, _ = side_by_side[name]
        assert words in readable(w, wdir), (name, readable(w, wdir))


# ---- what only warden has to say ---------------------------------------------------------


@pytest.fixture(scope="module")
def warden_kernel():
    with Kernel(cwd=notebook_dir()) as k:
        yield k


@pytest.mark.parametrize("code", ["%pip install polars pandas", "!pip install polars pandas",
                                  "%conda install polars", "!python3 -m pip install polars pandas"])
def test_package_installs_are_answered_at_once(warden_kernel, code):
    r = warden_kernel.run("%%python\n" + code, timeout=30)
    assert r.status == "ok", r.summary()
    assert "the jail has no network" in r.stderr, r.summary()
    assert "Importable libraries" in r.stderr and "numpy" in r.stderr
    if "pandas" in code:
        assert "pandas: already importable" in r.stderr
        assert "polars: not available in this jail" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_writefile_in_a_read_only_notebook_directory_says_so(warden_kernel):
    r = warden_kernel.run("%%python\n%%writefile notes.txt\nhello", timeout=30)
    assert r.status == "error" and r.error["ename"] == "UsageError", r.summary()
    assert "read-only" in r.error["evalue"] and "workdir_writable" in r.error["evalue"]
    assert "Writing" not in r.stdout


def test_other_matplotlib_backends_are_explained(warden_kernel):
    r = warden_kernel.run("%%python\n%matplotlib qt", timeout=30)
    assert r.status == "error" and r.error["ename"] == "UsageError", r.summary()
    assert "inline" in r.error["evalue"] and "qt" in r.error["evalue"]


def test_inline_figure_formats(warden_kernel):
    plot = "%%python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()"
    r = warden_kernel.run("%%python\n%config InlineBackend.figure_format = 'svg'", timeout=60)
    assert r.status == "ok", r.summary()
    r = warden_kernel.run(plot, timeout=60)
    assert r.displays and "image/svg+xml" in r.displays[0], r.summary()
    warden_kernel.run("%%python\n%config InlineBackend.figure_format = 'retina'")
    r = warden_kernel.run(plot, timeout=60)
    png_md = r.outputs[-1][1]["metadata"].get("image/png", {})
    assert "image/png" in r.displays[0] and png_md.get("width"), r.summary()
    warden_kernel.run("%%python\n%config InlineBackend.figure_format = 'png'")
    small = warden_kernel.run("%%python\n%config InlineBackend.print_figure_kwargs = "
                              "{'dpi': 20}\n" + plot.split("\n", 1)[1], timeout=60)
    big = warden_kernel.run("%%python\n%config InlineBackend.print_figure_kwargs = "
                            "{'dpi': 200}\n" + plot.split("\n", 1)[1], timeout=60)
    assert len(small.displays[0]["image/png"]) < len(big.displays[0]["image/png"])


def test_completion_knows_magics(warden_kernel):
    reply = warden_kernel.complete("%%python\n%tim")
    assert "%timeit" in reply["matches"] and "%time" in reply["matches"], reply
    assert reply["cursor_end"] == len("%%python\n%tim")


def test_completion_of_shell_paths_and_through_ipython(warden_kernel):
    reply = warden_kernel.complete("%%python\n!ls /us")
    assert "/usr/" in reply["matches"], reply
    # Once IPython is loaded, what warden's own completer cannot see (the type of an expression)
    # comes from IPython's (jedi, where installed).
    warden_kernel.run("%%python\n%time 1")
    reply = warden_kernel.complete("%%python\n'abc'.up")
    assert reply["matches"] == ["upper"], reply
    assert reply["cursor_start"] == len("%%python\n'abc'.")
