"""`python tests/silent_wandb_server.py SAVE_DIR TIMEOUT`: start an online W&B logger against a
server that accepts connections and never answers; print how long the failure took."""

import os
import socket
import sys
import threading
import time

import wandb  # noqa: F401 (imported before the clock starts)

from seqlab.loggers import wandb_logger

server = socket.create_server(("127.0.0.1", 0))
accepted = []
threading.Thread(
    target=lambda: [accepted.append(server.accept()) for _ in iter(int, 1)], daemon=True
).start()
os.environ |= {
    "WANDB_API_KEY": "0" * 40,
    "WANDB_BASE_URL": f"http://127.0.0.1:{server.getsockname()[1]}",
}
start = time.monotonic()
try:
    wandb_logger(project="p", save_dir=sys.argv[1], init_timeout=float(sys.argv[2]))
except TimeoutError as error:
    print(f"failed after {time.monotonic() - start:.1f} s: {error}")
