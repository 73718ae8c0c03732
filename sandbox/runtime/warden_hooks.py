"""Patches applied when user code imports certain modules, so start-up imports none of them.

A finder at the front of sys.meta_path asks the other finders for the spec of a watched module
and wraps its loader's exec_module: the module runs normally, then its patch runs. The hook stays
installed, so a module re-imported after `del sys.modules[...]` is patched again.

Once one of the big libraries (FREEZE_AFTER) has been imported, everything the collector
tracks is moved to its permanent generation (gc.freeze): numpy, pandas, matplotlib and IPython
leave 60 000 to 130 000 tracked objects that live as long as the worker, and each full
collection walked them all. Measured in a worker that imported pyplot, 60 line plots: 3 full
collections in each run of 60, 43-47 ms each, 22-27 ms frozen (the rest is freeing the closed
figures); the slowest plot 72 ms, 54 ms frozen, for a median of 26-27 ms. Frozen objects are
still freed by their reference counts; what a freeze costs is that a reference cycle tracked at
that moment and dropped later is never collected. At the standby's preload no user object
exists yet; in a worker that imports them in a cell, objects the user made before the import
are frozen with the libraries' (a notebook imports first).
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import gc
import sys

import warden_display
import warden_exec
import warden_input
import warden_ipython
import warden_mpl
import warden_pandas

_DISPLAY_NAMES = ("display", "update_display", "clear_output", "publish_display_data")


def patch_display_functions(module):
    """IPython.core.display_functions (and IPython.display's re-exports): use our publisher."""
    for name in _DISPLAY_NAMES:
        if hasattr(module, name):
            setattr(module, name, getattr(warden_display, name))


PATCHES = {
    "IPython.core.display_functions": patch_display_functions,
    "IPython.display": patch_display_functions,
    "matplotlib": warden_mpl.seed_font_cache,
    "matplotlib.figure": warden_mpl.on_figure_module,
    "matplotlib.pyplot": warden_mpl.on_pyplot,
    "pandas": warden_pandas.on_pandas,
    "getpass": warden_input.patch_getpass,
    "linecache": warden_exec.fill_linecache,
    "IPython": warden_ipython.on_ipython_imported,
}

# After these imports the tracked objects are frozen (see the module's docstring).
FREEZE_AFTER = frozenset(("numpy", "pandas", "matplotlib.pyplot", "IPython"))


class PostImportFinder:
    """Meta path finder that runs PATCHES[name](module) right after a watched module executes."""

    def find_spec(self, name, path=None, target=None):
        patch = PATCHES.get(name)
        if name in FREEZE_AFTER:
            patch = _then_freeze(patch)
        if patch is None:
            return None
        spec = _find_with_others(self, name, path, target)
        loader = getattr(spec, "loader", None) if spec is not None else None
        if loader is None or isinstance(loader, type) or not hasattr(loader, "__dict__"):
            return spec  # shared or built-in loaders are left alone
        original = loader.exec_module

        def exec_module(module):
            try:
                original(module)
            finally:
                loader.__dict__.pop("exec_module", None)
            _apply(patch, module)

        loader.exec_module = exec_module
        return spec


def _then_freeze(patch):
    def patch_then_freeze(module):
        if patch is not None:
            _apply(patch, module)
        gc.freeze()
    return patch_then_freeze


def _find_with_others(me, name, path, target):
    for finder in list(sys.meta_path):
        if finder is me:
            continue
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec = find(name, path, target)
        if spec is not None:
            return spec
    return None


def _apply(patch, module):
    try:
        patch(module)
    except Exception as exc:  # a patch must never break the user's import
        warden_display._note("patching %s" % module.__name__, exc)


def install():
    sys.meta_path.insert(0, PostImportFinder())
    for name, patch in PATCHES.items():
        module = sys.modules.get(name)
        if module is not None:
            _apply(patch, module)
