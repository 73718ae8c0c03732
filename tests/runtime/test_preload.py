"""WARDEN_PRELOAD=1: the warm standby imports (and patches) the heavy libraries before ready."""

import base64

from wframes import RuntimeProc


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
