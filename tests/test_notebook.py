"""The walkthrough notebook, stored without outputs, executed top to bottom on a tiny data set."""

import shutil

import nbformat
import pytest

from conftest import ROOT

NOTEBOOK = ROOT / "training" / "walkthrough.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])


@pytest.mark.slow
def test_notebook_executes_and_produces_its_figures(dataset, effnet_run, tmp_path, monkeypatch):
    """Seeded with the EfficientNet run a fixture already trained on the same data (the notebook skips
    a run whose model exists); the baseline is trained here, by the notebook itself."""
    from nbclient import NotebookClient

    shutil.copytree(effnet_run, tmp_path / "runs" / "efficientnet_b0")
    data = dataset
    env = {"HANDSIGN_DATA": str(data), "HANDSIGN_RUNS": str(tmp_path / "runs"), "HANDSIGN_IMAGE_SIZE": "48",
           "HANDSIGN_EPOCHS": "1", "HANDSIGN_FINE_TUNE_EPOCHS": "1", "HANDSIGN_BATCH_SIZE": "8",
           "HANDSIGN_WEIGHTS": "none"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()

    plot_cells = [c for c in nb.cells if "plot" in c.metadata.get("tags", [])]
    assert len(plot_cells) >= 6
    for cell in plot_cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert images, f"no figure from:\n{cell.source}"
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "parity on 32 real images" in text and "-> OK" in text
    assert "macro F1" in text
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert (tmp_path / "runs" / "handsign.onnx").is_file()
    assert (tmp_path / "runs" / "baseline" / "model.keras").is_file()  # the notebook's own training ran
