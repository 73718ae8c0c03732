"""WARDEN_PRELOAD=1: the warm standby imports (and patches) the heavy libraries before ready."""

import base64
import subprocess
import sys

from wframes import WORKER, RuntimeProc


def test_preload_imports_and_patches_before_ready(tmp_path):
    with RuntimeProc(env={"WARDEN_PRELOAD": "1"}, cwd=tmp_path) as w:
        print("preload start-up to ready: %.1f ms" % (w.startup_s * 1000))
        r = w.execute("import sys\n[m in sys.modules for m in ('numpy', 'pandas', "
                      "'matplotlib.pyplot', 'IPython.display')]")
        assert r.result == {"text/plain": "[True, True, True, True]"}
        r = w.execute("import matplotlib.pyplot as plt, IPython.display as d\n"
                      "(plt.get_backend(), plt.show.__doc__.startswith('Publish'), "
                      "d.display.__module__)")
        assert r.result["text/plain"] == "('agg', True, 'warden_display')"
        r = w.execute("plt.plot([1, 2])\nplt.show()\nd.display(d.HTML('<p>x</p>'))")
        assert r.kinds == ["display", "display", "done"]
        assert base64.b64decode(r.displays[0]["data"]["image/png"]).startswith(b"\x89PNG")
        assert r.displays[1]["data"]["text/html"] == "<p>x</p>"
        assert "warden:" not in w.logtext()  # no preload failure or internal error



def test_preload_leaves_the_cell_thread_at_normal_priority(tmp_path):
    # The imports ran in a thread of their own, joined before ready; the thread that runs the
    # cells (the process's main thread, tid == pid) was never lowered.
    with RuntimeProc(env={"WARDEN_PRELOAD": "1"}, cwd=tmp_path) as w:
        r = w.execute("import os, sys, threading\n"
                      "(os.getpriority(os.PRIO_PROCESS, 0), "
                      "os.sched_getscheduler(0) == os.SCHED_OTHER, "
                      "[t.name for t in threading.enumerate() if t.name == 'warden-preload'], "
                      "'pandas' in sys.modules)")
        assert r.result == {"text/plain": "(0, True, [], True)"}
        assert "warden:" not in w.logtext()


def test_preload_thread_runs_at_nice_19_and_sched_idle():
    # The import thread reads its own priority from /proc once the imports are done.
    probe = (
        "import os, sys, threading\n"
        "sys.path.insert(0, os.path.dirname(sys.argv[1]))\n"
        "import warden_worker\n"
        "seen = []\n"
        "def run():\n"
        "    warden_worker._preload_at_low_priority([])\n"
        "    stat = open('/proc/thread-self/stat').read().rsplit(')', 1)[1].split()\n"
        "    seen.append((stat[16], stat[38]))\n"
        "t = threading.Thread(target=run); t.start(); t.join()\n"
        "main = open('/proc/thread-self/stat').read().rsplit(')', 1)[1].split()\n"
        "print(seen[0], (main[16], main[38]))\n")
    out = subprocess.run([sys.executable, "-I", "-c", probe, WORKER], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # (nice, policy): 19 and SCHED_IDLE (5) in the import thread; 0 and SCHED_OTHER in main
    assert out.stdout.split("\n")[0] == "('19', '5') ('0', '0')"


def test_the_big_libraries_objects_are_frozen_out_of_the_collectors_walks(tmp_path):
    # Preloaded: frozen before ready. Imported by a cell: frozen once the import is done, so
    # a full collection no longer walks numpy's, pandas' and matplotlib's objects.
    with RuntimeProc(env={"WARDEN_PRELOAD": "1"}, cwd=tmp_path) as w:
        r = w.execute("import gc\ngc.get_freeze_count() > 50000")
        assert r.result == {"text/plain": "True"}
    with RuntimeProc(cwd=tmp_path) as w:
        r = w.execute("import gc\nbefore = gc.get_freeze_count()\nimport pandas\n"
                      "(before, gc.get_freeze_count() > 50000, "
                      "gc.collect() >= 0 and gc.get_count()[2] < 1000)")
        assert r.result == {"text/plain": "(0, True, True)"}
        # what the user makes after the import is collected as usual
        r = w.execute("import weakref\nclass Node: pass\nn = Node(); n.me = n\n"
                      "ref = weakref.ref(n)\ndel n\ngc.collect()\nref() is None")
        assert r.result == {"text/plain": "True"}
