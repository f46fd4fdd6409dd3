# 학습률이 너무 크면 loss가 오히려 커집니다: f(w) = w^2 에서 w ← w − η·2w = (1 − 2η)w.
# |1 − 2η| > 1, 즉 η > 1 이면 매 step 최솟값을 건너뛰며 발산합니다.
import numpy as np
import matplotlib.pyplot as plt

for lr in [0.1, 0.5, 0.9, 1.1]:
    w = 3.0
    losses = [w ** 2]
    for _ in range(15):
        w = w - lr * 2 * w
        losses.append(w ** 2)
    trend = "감소" if losses[-1] < losses[0] else "증가(발산)"
    print(f"η={lr:<4} 마지막 loss {losses[-1]:.3g} → {trend}")
    plt.semilogy(losses, "o-", markersize=3, label=f"lr={lr}")

plt.xlabel("step")
plt.ylabel("loss (로그 축)")
plt.title("학습률에 따른 loss 변화")
plt.legend()
