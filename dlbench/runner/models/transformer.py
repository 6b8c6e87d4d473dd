"""GPT-2 small (Radford et al. 2019): a decoder-only transformer language model.

12 layers, 12 heads, width 768, context 1024, vocabulary 50,257; learned token and position embeddings;
pre-LayerNorm blocks: x + attention(LN(x)), then x + MLP(LN(x)) with MLP 768 -> 3072, GELU (tanh
approximation, GPT-2's), -> 768; causal multi-head self-attention with biased q, k, v and output projections
(PyTorch: one fused q|k|v Linear and `scaled_dot_product_attention(is_causal=True)`; Keras:
`MultiHeadAttention(use_causal_mask=True)`, per-head kernels with biases: the same 4 x (768^2 + 768)
parameters); final LayerNorm (epsilon 1e-5, as GPT-2); the LM head is tied to the token embedding (logits =
x @ table^T, no parameters of its own). No dropout (nanoGPT's benchmarking setting; it has no parameters and
no FLOPs). 124,439,808 parameters.

Input: token ids (N, T), T <= 1024 (int64 in PyTorch, int32 in Keras); output: logits (N, T, 50257). A sample
is one sequence of 1024 tokens. Multiply-adds per sample: the matrix products per token (per layer
4 x 768^2 for q, k, v and the projection, 2 x 768 x 3072 for the MLP; 768 x 50257 for the head:
123,532,032 per token) x 1024, plus attention: q k^T and a v, counted as the full T x T products (what
FlopCounterMode counts for scaled_dot_product_attention, causal or not; the causal half is masked, not
skipped, by the math kernels): 2 x 1024^2 x 768 per layer. In all 145,824,153,600 multiply-adds
(291.6 GFLOPs) per sequence. 3x that for a training step is the PaLM / nanoGPT
estimate 6N + 12 L T C FLOPs per token, N being the parameters of the matrix products (the tied table counted
once, as the head's).
"""

from __future__ import annotations

from .graph import Act, CausalSelfAttention, Dense, LayerNorm, PositionEmbedding, Residual, TiedLMHead, TokenEmbedding


def gpt2(layers: int = 12, heads: int = 12, width: int = 768, context: int = 1024, vocab: int = 50257) -> tuple:
    block = (
        Residual(LayerNorm(), CausalSelfAttention(heads)),
        Residual(LayerNorm(), Dense(4 * width), Act("gelu_tanh"), Dense(width)),
    )
    return (TokenEmbedding(vocab, width), PositionEmbedding(context), *(block * layers), LayerNorm(), TiedLMHead())


GPT2_SMALL = gpt2()
GPT2_CONTEXT = 1024
GPT2_VOCAB = 50257
