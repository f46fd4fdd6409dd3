# 깊이에 따른 기울기 소실: 역전파 때 층마다 활성화 함수의 도함수가 곱해집니다.
# sigmoid의 도함수는 최대 0.25라서 층이 깊어질수록 기울기가 지수적으로 작아집니다.
import numpy as np
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
depth, width = 20, 64


def backprop_norms(activation):
    """Forward through `depth` layers, then push a unit gradient back; norm of the gradient per layer."""
    std = np.sqrt(2 / width) if activation == "relu" else np.sqrt(1 / width)  # He vs Xavier
    weights = [rng.normal(0, std, (width, width)) for _ in range(depth)]
    h = rng.normal(size=(32, width))
    pre_activations = []
    for w in weights:
        z = h @ w
        pre_activations.append(z)
        h = 1 / (1 + np.exp(-z)) if activation == "sigmoid" else np.maximum(0, z)
    grad = np.ones_like(h)
    norms = []
    for w, z in zip(reversed(weights), reversed(pre_activations)):
        if activation == "sigmoid":
            s = 1 / (1 + np.exp(-z))
            grad = grad * s * (1 - s)
        else:
            grad = grad * (z > 0)
        grad = grad @ w.T
        norms.append(np.linalg.norm(grad))
    return norms[::-1]


sig = backprop_norms("sigmoid")
rel = backprop_norms("relu")
print("첫 층까지 전달된 기울기 크기 / 마지막 층의 기울기 크기")
print(f"  sigmoid: {sig[0] / sig[-1]:.2e}")
print(f"  ReLU:    {rel[0] / rel[-1]:.2e}")

plt.semilogy(range(1, depth + 1), sig, "o-", label="sigmoid")
plt.semilogy(range(1, depth + 1), rel, "s-", label="ReLU")
plt.xlabel("층 번호 (1 = 입력 쪽)")
plt.ylabel("기울기 노름 (로그 축)")
plt.title("깊이에 따른 기울기 소실")
plt.legend()
