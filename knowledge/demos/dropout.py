# Inverted dropout: 학습 때 확률 p로 뉴런을 끄고 남은 값을 1/(1−p)로 키워서,
# 추론 때(드롭아웃 없음)와 출력의 기댓값이 같아지게 합니다.
import numpy as np

rng = np.random.default_rng(1)
p = 0.5
h = rng.uniform(0.5, 1.5, size=(10000, 8))

mask = rng.random(h.shape) >= p
train_out = h * mask / (1 - p)
print("마스크 예시 (첫 샘플):", mask[0].astype(int))
print(f"남은 뉴런 비율: {mask.mean():.3f} (기대값 {1 - p})")
print(f"추론 출력 평균 {h.mean():.4f} vs 학습 출력 평균 {train_out.mean():.4f} (스케일링 덕에 같음)")
print(f"스케일링 없이 끄기만 하면: {(h * mask).mean():.4f} ← 추론과 어긋남")
