# Sigmoid, tanh, ReLU와 그 도함수: sigmoid의 기울기는 최대 0.25, 입력이 크면 거의 0이 됩니다 (포화).
import numpy as np
import matplotlib.pyplot as plt

x = np.linspace(-6, 6, 241)
sigmoid = 1 / (1 + np.exp(-x))
tanh = np.tanh(x)
relu = np.maximum(0, x)

d_sigmoid = sigmoid * (1 - sigmoid)
d_tanh = 1 - tanh ** 2
d_relu = (x > 0).astype(float)

for name, grad in [("sigmoid", d_sigmoid), ("tanh", d_tanh), ("ReLU", d_relu)]:
    print(f"{name:8s} 기울기 최댓값 {grad.max():.3f}, x=5에서의 기울기 {grad[np.argmin(abs(x - 5))]:.4f}")
print("x<0에서 ReLU의 기울기는 0 → 계속 음수 입력만 받는 뉴런은 학습이 멈춥니다 (dying ReLU).")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.plot(x, sigmoid, label="sigmoid")
left.plot(x, tanh, label="tanh")
left.plot(x, relu, label="ReLU")
left.set_ylim(-1.5, 3)
left.set_title("활성화 함수")
left.legend()
right.plot(x, d_sigmoid, label="sigmoid'")
right.plot(x, d_tanh, label="tanh'")
right.plot(x, d_relu, label="ReLU'")
right.set_title("도함수 (기울기)")
right.legend()
plt.tight_layout()
