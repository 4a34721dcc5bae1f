"""notebooks/indicators.ipynb runs top to bottom against a fixture warehouse (IMS_WAREHOUSE)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from ims_indicators import warehouse
from ims_indicators.benchmark import compute_benchmarks, load_peer_sets
from ims_indicators.indicators import compute_indicators

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "indicators.ipynb"


def test_notebook_executes(network_file, catalogue, tmp_path):
    with warehouse.open_warehouse(network_file) as con:
        compute_indicators(con, catalogue)
        compute_benchmarks(con, load_peer_sets(NOTEBOOK.parents[1] / "catalogue" / "peer_sets.yaml"), catalogue)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert f"warehouse: {network_file}" in text
    assert "school alpha, year 2023/24, peer set network" in text
    assert "mob_outgoing_per_100_graduates" in text and "middle" in text
