"""Tiny multitask configurations shared by the multitask tests and the regularizer grid."""

SEQ2SEQ_TINY = (
    "decoder:{hidden_size:8,embedding_dim:4},attention:{size:8},decoding:{beam_size:2,max_length:6}"
)
# one head of every type on data=synthetic_multitask; weights differ so the sum is weighted
HEADS = (
    "+task.heads={label:{type:many_to_one,weight:1.0},"
    "steps:{type:many_to_many,weight:0.5},"
    f"sequence:{{type:seq2seq,weight:2.0,{SEQ2SEQ_TINY}}}}}"
)
MULTITASK = ["task=multitask", "data=synthetic_multitask", "data.num_items=32", HEADS]
