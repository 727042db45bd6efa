"""SpeechBrain's LiGRU for comparison, loaded from its file `speechbrain/nnet/RNN.py` alone.

Importing the `speechbrain` package would load torchaudio and other dependencies that need
not match the pinned torch; the file itself needs torch only, once its two package imports
are stubbed out. Optional: `pip install --no-deps speechbrain==1.1.2` (the `bench` extra).
"""

import importlib.util
import sys
import types
from pathlib import Path

from torch import nn


def load_speechbrain_rnn() -> tuple[types.ModuleType | None, str]:
    """speechbrain/nnet/RNN.py as a module, with its two package imports stubbed out."""
    spec = importlib.util.find_spec("speechbrain")
    if spec is None or spec.origin is None:
        return None, "speechbrain is not installed (pip install -e '.[bench]')"
    path = Path(spec.origin).parent / "nnet" / "RNN.py"
    stubs = {
        "speechbrain": types.ModuleType("speechbrain"),
        "speechbrain.nnet": types.ModuleType("speechbrain.nnet"),
        "speechbrain.nnet.attention": types.ModuleType("speechbrain.nnet.attention"),
        "speechbrain.utils": types.ModuleType("speechbrain.utils"),
        "speechbrain.utils.logger": types.ModuleType("speechbrain.utils.logger"),
    }
    for name in ("ContentBasedAttention", "KeyValueAttention", "LocationAwareAttention"):
        setattr(stubs["speechbrain.nnet.attention"], name, nn.Module)
    stubs["speechbrain.utils.logger"].get_logger = __import__("logging").getLogger
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        module_spec = importlib.util.spec_from_file_location("speechbrain_rnn", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    except Exception as error:  # any failure means: skip the comparison and say why
        return None, f"loading {path} failed: {error!r}"
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module, ""
