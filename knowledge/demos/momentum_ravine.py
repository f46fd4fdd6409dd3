# 좁고 긴 골짜기 f(x, y) = 0.5 * (x^2 + 25 y^2): 일반 GD는 y 방향으로 진동하며 느리게 가고,
# 모멘텀 v = βv + ∇f, w = w − ηv 는 진동을 상쇄하고 x 방향 속도를 누적합니다.
import numpy as np
import matplotlib.pyplot as plt

scales = np.array([1.0, 25.0])


def grad(w):
    return scales * w


def loss(w):
    return 0.5 * np.sum(scales * w ** 2)


def run(lr, beta, steps=60):
    w = np.array([-10.0, 1.0])
    v = np.zeros(2)
    path = [w.copy()]
    for _ in range(steps):
        v = beta * v + grad(w)
        w = w - lr * v
        path.append(w.copy())
    return np.array(path)


plain = run(lr=0.075, beta=0.0)
momentum = run(lr=0.03, beta=0.8)
print(f"60 step 후 loss — 일반 GD: {loss(plain[-1]):.4f}, 모멘텀(β=0.8, 더 작은 η): {loss(momentum[-1]):.5f}")

xs, ys = np.meshgrid(np.linspace(-11, 2, 200), np.linspace(-1.6, 1.6, 200))
plt.contour(xs, ys, 0.5 * (xs ** 2 + 25 * ys ** 2), levels=20, alpha=0.4)
plt.plot(plain[:, 0], plain[:, 1], "o-", markersize=3, label="GD")
plt.plot(momentum[:, 0], momentum[:, 1], "s-", markersize=3, label="Momentum")
plt.title("골짜기에서의 GD vs 모멘텀")
plt.legend()
