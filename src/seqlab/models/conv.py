"""A causal 1-D convolution encoder: the smallest complete example of the encoder contract."""

import torch
from torch import Tensor, nn

from seqlab.data.batch import length_mask
from seqlab.models.base import Encoder, EncoderOutput


class ConvEncoder(Encoder):
    """One causal convolution over time + ReLU; step t sees steps t-k+1..t, never padding."""

    def __init__(self, input_size: int, hidden_size: int = 64, kernel_size: int = 3, dropout=None):
        super().__init__()
        self.input_size, self.output_size, self.pad = input_size, hidden_size, kernel_size - 1
        self.conv = nn.Conv1d(input_size, hidden_size, kernel_size)

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        mask = length_mask(lengths, inputs.shape[1], inputs.device)[..., None]
        x = nn.functional.pad(inputs.transpose(1, 2), (self.pad, 0))
        outputs = torch.relu(self.conv(x)).transpose(1, 2) * mask
        final = outputs[torch.arange(len(lengths)), lengths.to(inputs.device) - 1]
        return EncoderOutput(outputs, lengths, final)
