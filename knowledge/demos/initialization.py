# 10층을 통과한 활성값의 표준편차: tanh에는 Xavier(분산 1/n), ReLU에는 He(분산 2/n)가 크기를 유지합니다.
# 너무 작은 초기화는 신호가 0으로 사라지고, 맞지 않는 초기화는 층마다 줄어들거나 커집니다.
import numpy as np
import matplotlib.pyplot as plt

rng = np.random.default_rng(3)
n, layers = 256, 10
x = rng.normal(size=(512, n))


def activation_stds(std, act):
    h, stds = x, []
    for _ in range(layers):
        h = h @ rng.normal(0, std, (n, n))
        h = np.tanh(h) if act == "tanh" else np.maximum(0, h)
        stds.append(h.std())
    return stds


settings = {
    "N(0, 0.01) + tanh": (0.01, "tanh"),
    "Xavier + tanh": (np.sqrt(1 / n), "tanh"),
    "Xavier + ReLU": (np.sqrt(1 / n), "relu"),
    "He + ReLU": (np.sqrt(2 / n), "relu"),
}
for label, (std, act) in settings.items():
    stds = activation_stds(std, act)
    print(f"{label:18s} 1층 std {stds[0]:.3f} → 10층 std {stds[-1]:.3g}")
    plt.semilogy(range(1, layers + 1), stds, "o-", label=label)
plt.xlabel("층")
plt.ylabel("활성값 표준편차 (로그 축)")
plt.title("초기화에 따른 활성값 크기")
plt.legend()
