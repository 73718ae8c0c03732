"""nbclient executes a notebook on the kernel (what `jupyter nbconvert --execute` and papermill do)
and the saved outputs hold an HTML table and a PNG plot."""

import base64
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import harness
from harness import KERNEL_NAME, python


def test_notebook_with_table_and_plot(workdir):
    reason = harness.warden_missing_reason()
    if reason:
        pytest.fail(reason, pytrace=False)
    tmp_path = Path(workdir)
    (tmp_path / "data.csv").write_text("city,people\nLyon,522\nNantes,320\nLille,236\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME,
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(python(
            "import pandas as pd\ndf = pd.read_csv('data.csv')\ndf")),
        nbformat.v4.new_code_cell(python(
            "import matplotlib.pyplot as plt\n"
            "plt.bar(df['city'], df['people'])\nplt.title('people')\nplt.show()")),
        nbformat.v4.new_code_cell(python("print(int(df['people'].sum()))")),
    ]
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=180, startup_timeout=60,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, str(path))

    saved = nbformat.read(str(path), as_version=4)
    nbformat.validate(saved)
    table, plot, total = saved.cells

    results = [o for o in table.outputs if o.output_type == "execute_result"]
    assert len(results) == 1, table.outputs
    assert "<table" in results[0].data["text/html"]
    assert "Nantes" in results[0].data["text/html"]
    assert table.execution_count == 1

    images = [o for o in plot.outputs
              if o.output_type == "display_data" and "image/png" in o.data]
    assert len(images) == 1, plot.outputs
    assert base64.b64decode(images[0].data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "text/plain" in images[0].data

    assert [o.text for o in total.outputs if o.output_type == "stream"] == ["1078\n"]
