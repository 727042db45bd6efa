"""seqlab: a PyTorch Lightning + Hydra template for recurrent sequence models."""
