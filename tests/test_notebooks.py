"""Every lab notebook runs from its jupytext source at the small size and draws its figures,
so a change to seqlab that breaks a tutorial fails here."""

import os
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9]*.py"))


def test_every_notebook_is_collected() -> None:
    assert [p.stem[:2] for p in SOURCES] == ["01", "02", "03"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_runs_and_draws_its_figures(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEQLAB_LAB_SIZE", "small")
    monkeypatch.setenv("SEQLAB_LAB_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    pythonpath = [str(NOTEBOOKS), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, pythonpath)))
    notebook = jupytext.read(source)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}
    )
    client.execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "a code cell did not run"
    saved = sorted(p.stem for p in (tmp_path / "figures").glob("*.png"))
    prefix = source.stem[:2]
    assert saved and all(name.startswith(prefix) for name in saved)
    assert all((tmp_path / "figures" / f"{name}.png").stat().st_size > 10_000 for name in saved)
    drawn = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(drawn) == len(saved), "every saved figure is also shown in the notebook"
