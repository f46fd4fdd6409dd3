# Min-Max 정규화는 [0, 1]로 줄이지만 이상치(outlier) 하나에 나머지가 한쪽으로 몰립니다.
# 표준화(평균 0, 표준편차 1)는 이상치의 영향을 덜 받고, 특성 간 스케일을 맞춥니다.
import numpy as np

rng = np.random.default_rng(42)
age = rng.normal(35, 8, 200)
income = rng.normal(4000, 900, 200)
income[0] = 40000  # 이상치 하나

X = np.column_stack([age, income])
minmax = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
standard = (X - X.mean(axis=0)) / X.std(axis=0)

np.set_printoptions(precision=3, suppress=True)
print("원본 열별 범위:", X.min(axis=0), "~", X.max(axis=0))
print("Min-Max 후 income의 중앙값:", np.median(minmax[:, 1]).round(3), "← 이상치 때문에 0 근처로 몰림")
print("표준화 후 평균:", standard.mean(axis=0), " 표준편차:", standard.std(axis=0))
print("표준화 후 income 중앙값:", np.median(standard[:, 1]).round(3))
