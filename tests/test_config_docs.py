"""docs/configuration.md is generated from the schemas and must match them."""

from seqlab.config.docs import PATH, render


def test_configuration_reference_is_current() -> None:
    assert PATH.read_text() == render(), "stale: run `python -m seqlab.config.docs`"


def test_reference_lists_every_group_and_a_signature_default() -> None:
    text = render()
    for group in ("## data", "## model", "## head", "## optimizer", "## scheduler", "## task"):
        assert group in text
    assert "| `hidden_size` | int | `128` |" in text  # RecurrentEncoder's signature default
