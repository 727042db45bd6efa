"""Export a checkpoint: `python export.py ckpt_path=... format=onnx|torchscript`."""

from seqlab.export import main

if __name__ == "__main__":
    main()
