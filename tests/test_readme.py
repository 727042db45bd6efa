"""The README's example encoder is the shipped one, which the contract tests train."""

import inspect
import re
from pathlib import Path

from seqlab.models.conv import ConvEncoder

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_encoder_is_the_shipped_file() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert inspect.getsource(ConvEncoder) in blocks


def test_readme_stays_a_short_guide() -> None:
    assert len(README.read_text().splitlines()) <= 300
