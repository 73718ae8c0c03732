"""The IPython shell of the worker: IPython's InteractiveShell over the worker's namespace, with
what a jailed notebook kernel does differently from a terminal routed to the worker (as
ipykernel's ZMQInteractiveShell routes it to ZeroMQ):

- displays go to the worker's publisher; %%capture (which swaps the shell's display publisher)
  still captures them;
- the pager (`obj?`, %pinfo, %page) becomes a `page` frame, `set_next_input` (%load) a
  `next_input` frame, exit/quit an `exit` frame;
- `run_cell` (what %%capture and friends call) runs through the worker's own cell machinery;
- %matplotlib accepts inline (what warden does anyway: warden_mpl.py) and explains that other
  backends cannot open windows; %config InlineBackend.* sets the figure formats, savefig keyword
  arguments (dpi) and rc of warden's inline figures;
- %pip, %conda, !pip install and friends answer at once that the jail has no network, with what is
  importable (INSTALL_HOOK is where an allowlisted local wheelhouse would go);
- %reset keeps the worker's own names (In, Out, get_ipython, exit) working.

Only imported when something needs the shell (warden_ipython.py): it imports IPython.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import builtins
import os
import sys

import warden_context
import warden_display
import warden_ipython

# An allowlisted local wheelhouse would install here: INSTALL_HOOK(tool, args) -> True when it
# handled the request. None: every install is answered with why it cannot be done.
INSTALL_HOOK = None

_INSTALL_TOOLS = ("pip", "pip3", "conda", "mamba", "micromamba", "uv")
_MAX_LISTED = 60


def make_shell(worker):
    """Create the shell (the IPython singleton) over worker.executor's namespace."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    cls = _shell_class(worker)
    config = Config()
    config.HistoryManager.enabled = False  # the kernel keeps history; no sqlite in the jail
    config.InteractiveShell.autocall = 0
    ns = worker.executor.ns
    kept = {name: ns.get(name) for name in ("In", "Out", "_", "__", "___")}
    ip = cls.instance(config=config, user_module=worker.executor.main)
    assert isinstance(ip, InteractiveShell)
    _adopt(ip, worker, kept)
    ip.set_hook("show_in_pager", _pager(worker), 99)
    ip.register_magics(_magics_class(worker))
    ip.configurables.append(_inline_backend_class()(parent=ip))
    own = ip.display_pub
    # %%capture swaps the shell's display publisher: the worker's displays then go to that one.
    worker.publisher.divert = lambda: ip.display_pub if ip.display_pub is not own else None
    return ip


def _adopt(ip, worker, kept):
    """After IPython's init_user_ns: its In/Out lists hold the cells run so far, and the worker's
    names (exit, _, display) are the worker's again."""
    ns = ip.user_ns
    hist = ip.history_manager
    if isinstance(kept["In"], list):
        hist.input_hist_parsed[:] = kept["In"]
        hist.input_hist_raw[:] = kept["In"]
    if isinstance(kept["Out"], dict):
        hist.output_hist.update(kept["Out"])
    for name in ("_", "__", "___"):
        if kept[name] is not None:
            ns[name] = kept[name]
    _worker_names(ip)
    ip.execution_count = max(1, len(hist.input_hist_parsed))


def _worker_names(ip):
    ns = ip.user_ns
    ns["exit"] = ns["quit"] = warden_ipython.EXIT
    builtins.display = warden_display.display
    for name in warden_context.RUNTIME_NAMES:
        if name in ns:
            ip.user_ns_hidden[name] = ns[name]


def _shell_class(worker):
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type

    class WardenDisplayPublisher(DisplayPublisher):
        """Displays published through the shell (IPython's own display machinery, %%capture's
        replay) go to the worker's publisher."""

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                    **kwargs):
            worker.publisher.send_display(data, metadata, transient, update)

        def clear_output(self, wait=False):
            worker.publisher.send_clear(wait)

    class WardenShell(InteractiveShell):
        display_pub_class = Type(WardenDisplayPublisher)
        keepkernel_on_exit = False

        def init_virtualenv(self):
            pass  # the jail's Python is the system's: no virtualenv to warn about

        def ask_exit(self):
            worker.ask_exit(self.keepkernel_on_exit)

        def set_next_input(self, text, replace=False):
            worker.set_next_input(text, replace)

        def run_cell(self, raw_cell, store_history=False, silent=False, shell_futures=True,
                     cell_id=None):
            """What cell magics (%%capture, ...) call: the worker runs it as a cell."""
            return worker.run_nested_cell(raw_cell, silent)

        def enable_gui(self, gui=None):
            if gui not in (None, "inline"):
                raise UsageError(_NO_GUI % gui)

        def enable_matplotlib(self, gui=None):
            """%matplotlib: inline is what warden does already (warden_mpl.py)."""
            if gui not in (None, "inline", "auto"):
                raise UsageError(_NO_GUI % gui)
            import matplotlib.pyplot  # noqa: F401  (as IPython's activation does)
            return "inline", "inline (warden: figures are shown as images)"

        def reset(self, new_session=True, aggressive=False):
            super().reset(new_session, aggressive)
            worker.executor.forget_outputs()
            _worker_names(self)

        def system_piped(self, cmd):
            if not _install_request(cmd, self.var_expand):
                return super().system_piped(cmd)

        system = system_piped

        def getoutput(self, cmd, split=True, depth=0):
            if _install_request(cmd, self.var_expand):
                return [] if split else ""
            return super().getoutput(cmd, split, depth + 1)

    return WardenShell


_READ_ONLY = ("%s is read-only in warden's jail, so %s cannot be written there. Write under /tmp "
              "or the home directory (both the jail's own), or let cells write the notebook "
              "directory: \"sandbox\": {\"workdir_writable\": true} in the config file.")

_NO_GUI = ("warden shows plots inline only: the jail has no display, so the %s backend cannot "
           "open windows. %%matplotlib inline (the default) works; so does plt.show().")


def _pager(worker):
    def show_in_pager(shell, data, start=0, screen_lines=0, pager_cmd=None):
        if isinstance(data, dict):
            bundle = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        else:
            bundle = {"text/plain": str(data)}
        worker.page(bundle)

    return show_in_pager


# ---- package installs ----------------------------------------------------------------------

def _install_request(cmd, expand=None):
    """True when `cmd` (a shell escape) asks a package manager to install: it is answered."""
    try:
        words = (expand(cmd, depth=2) if expand else cmd).split()
    except Exception:
        words = cmd.split()
    if len(words) >= 3 and os.path.basename(words[0]).startswith("python") and words[1] == "-m":
        words = words[2:]
    if not words or os.path.basename(words[0]) not in _INSTALL_TOOLS:
        return False
    tool = os.path.basename(words[0])
    if tool.startswith("pip") and (len(words) < 2 or words[1] not in ("install", "download")):
        return False  # pip list, pip show, pip freeze work offline
    answer_install(tool, words[1:])
    return True


def answer_install(tool, args):
    if INSTALL_HOOK is not None and INSTALL_HOOK(tool, args):
        return
    wanted = [a for a in args[1:] if not a.startswith("-")] if args[:1] in (["install"],
                                                                             ["add"]) else []
    lines = ["warden: %s cannot install packages here: the jail has no network, and its /usr "
             "(where Debian's packages live) is read-only." % tool]
    for name in wanted[:20]:
        lines.append("  " + _availability(name))
    listed = warden_context.importable_libraries()
    shown = ", ".join(listed[:_MAX_LISTED]) + (", ..." if len(listed) > _MAX_LISTED else "")
    lines.append("Importable libraries (%d): %s" % (len(listed), shown))
    sys.stderr.write("\n".join(lines) + "\n")


def _availability(requirement):
    import importlib.util
    name = requirement
    for sep in "<>=!~[;@ ":
        name = name.split(sep, 1)[0]
    module = {"scikit-learn": "sklearn", "pillow": "PIL", "beautifulsoup4": "bs4",
              "pyyaml": "yaml", "opencv-python": "cv2"}.get(name.lower(), name.replace("-", "_"))
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return "%s: not available in this jail" % requirement
    try:
        import importlib.metadata
        return "%s: already importable (%s %s)" % (requirement, name,
                                                    importlib.metadata.version(name))
    except Exception:
        return "%s: already importable" % requirement


def _magics_class(worker):
    from IPython.core.error import UsageError
    from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

    @magics_class
    class WardenMagics(Magics):
        """Package managers answered at once (the jail has no network); %%writefile that says
        when the notebook directory is read-only."""

        @cell_magic
        def writefile(self, line, cell):
            """IPython's %%writefile, with a clear word where the jail cannot write."""
            args = line.split()
            target = [a for a in args if not a.startswith("-")]
            if target:
                path = os.path.expanduser(target[-1].strip("'\""))
                folder = os.path.dirname(os.path.abspath(path))
                if os.path.isdir(folder) and not os.access(folder, os.W_OK):
                    raise UsageError(_READ_ONLY % (folder, path))
            return self.shell.magics_manager.registry["OSMagics"].writefile(line, cell)

        @line_magic
        def pip(self, line):
            """Packages cannot be installed in warden's jail (no network): says so, and what is
            importable. `%pip list`, `%pip show` and `%pip freeze` run as usual."""
            if not _install_request("pip " + line):
                self.shell.system_piped("%s -m pip %s" % (sys.executable, line))

        @line_magic
        def conda(self, line):
            """conda is not available in warden's jail: says what is importable."""
            answer_install("conda", line.split())

    WardenMagics.magics["line"].update(mamba="conda", micromamba="conda")
    return WardenMagics


# ---- %config InlineBackend: warden's inline figures ---------------------------------------

_inline = {"formats": ("png",), "kwargs": {"bbox_inches": "tight"}}


def figure_settings():
    """(figure formats, savefig keyword arguments) of warden's inline figures."""
    return _inline["formats"], dict(_inline["kwargs"])


def _inline_backend_class():
    from traitlets import Bool, Dict, Set, Unicode, observe
    from traitlets.config import Configurable

    formats = ("png", "retina", "png2x", "jpeg", "jpg", "svg", "pdf")

    class InlineBackend(Configurable):
        """How warden shows matplotlib figures (the names of matplotlib-inline's settings)."""

        figure_formats = Set({"png"}, help="png, retina (png2x), jpeg, svg, pdf").tag(config=True)
        figure_format = Unicode(help="the same, one format (deprecated by IPython)").tag(
            config=True)
        print_figure_kwargs = Dict({"bbox_inches": "tight"},
                                   help="savefig arguments, e.g. {'dpi': 150}").tag(config=True)
        rc = Dict(help="matplotlib rcParams applied now").tag(config=True)
        close_figures = Bool(True).tag(config=True)

        @observe("figure_formats")
        def _formats(self, change):
            bad = sorted(set(change["new"]) - set(formats))
            if bad:
                raise ValueError("unknown figure format %s; known: %s" % (", ".join(bad),
                                                                          ", ".join(formats)))
            _inline["formats"] = tuple(sorted(change["new"]))

        @observe("figure_format")
        def _format(self, change):
            self.figure_formats = {change["new"]}

        @observe("print_figure_kwargs")
        def _kwargs(self, change):
            _inline["kwargs"] = dict(change["new"])

        @observe("rc")
        def _rc(self, change):
            import matplotlib
            matplotlib.rcParams.update(change["new"])

    return InlineBackend
