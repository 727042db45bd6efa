"""A causal 1-D convolution encoder: the smallest complete example of the encoder contract."""

import torch
from torch import Tensor, nn

from seqlab.models.base import Encoder, EncoderOutput
from seqlab.models.fused import last_steps, step_mask


class ConvEncoder(Encoder):
    """One causal convolution over time + ReLU (one layer: no between-layer `dropout`)."""

    def __init__(self, input_size: int, hidden_size: int = 64, kernel_size: int = 3, dropout=None):
        super().__init__()
        self.input_size, self.output_size = input_size, hidden_size
        self.conv = nn.Conv1d(input_size, hidden_size, kernel_size, padding=kernel_size - 1)

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        """Step t sees steps t-k+1..t (the first T of the padded convolution's outputs)."""
        steps = self.conv(inputs.transpose(1, 2))[..., : inputs.shape[1]].transpose(1, 2)
        outputs = torch.relu(steps) * step_mask(lengths, inputs)
        return EncoderOutput(outputs, lengths, last_steps(outputs, lengths))
