"""Tiny multitask configurations shared by the multitask tests and the regularizer grid."""

SEQ2SEQ_TINY = [
    "task.heads.sequence.decoder.hidden_size=8",
    "task.heads.sequence.decoder.embedding_dim=4",
    "task.heads.sequence.attention.size=8",
    "task.heads.sequence.decoding.beam_size=2",
    "task.heads.sequence.decoding.max_length=6",
]
# one head of every type on data=synthetic_multitask; weights differ so the sum is weighted
HEADS = [
    "+head@task.heads.label=sequence",
    "+head@task.heads.steps=per_step",
    "+head@task.heads.sequence=seq2seq",
    "task.heads.label.weight=1.0",
    "task.heads.label.pooling=last",  # the tests recompute its loss from the final vector
    "task.heads.steps.weight=0.5",
    "task.heads.sequence.weight=2.0",
    *SEQ2SEQ_TINY,
]
MULTITASK = ["task=multitask", "data=synthetic_multitask", "data.num_items=32", *HEADS]
