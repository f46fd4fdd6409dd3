# 미니배치 기울기는 전체 기울기의 잡음 섞인 추정치입니다. 배치가 작을수록 잡음(분산)이 크고,
# 표준편차는 대략 1/sqrt(배치 크기)로 줄어듭니다. 작은 배치: 빠르고 잡음이 많음(정규화 효과, 불안정).
import numpy as np
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
N = 5000
X = rng.normal(size=(N, 5))
y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(0, 1, N)
w = np.zeros(5)

full_grad = 2 * X.T @ (X @ w - y) / N
sizes = [1, 4, 16, 64, 256, 1024]
noise = []
for b in sizes:
    errors = []
    for _ in range(200):
        idx = rng.choice(N, b, replace=False)
        g = 2 * X[idx].T @ (X[idx] @ w - y[idx]) / b
        errors.append(np.linalg.norm(g - full_grad))
    noise.append(np.mean(errors))
    print(f"배치 {b:5d}: 전체 기울기와의 평균 오차 {noise[-1]:.3f}")

plt.loglog(sizes, noise, "o-", label="측정")
plt.loglog(sizes, noise[0] / np.sqrt(sizes), "--", label="1/sqrt(B)")
plt.xlabel("배치 크기 B")
plt.ylabel("기울기 잡음")
plt.title("배치 크기와 SGD 잡음")
plt.legend()
