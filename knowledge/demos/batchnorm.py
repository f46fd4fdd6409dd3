# Batch Norm: 학습 때는 미니배치의 평균·분산을, 추론 때는 학습 중 누적한 이동 평균(running) 통계를 씁니다.
# 추론 때 배치 통계를 쓰면 배치 구성에 따라 같은 입력의 출력이 바뀝니다 (예: model.eval() 누락).
import numpy as np

rng = np.random.default_rng(7)
running_mean, running_var, momentum, eps = np.zeros(3), np.ones(3), 0.1, 1e-5

for _ in range(200):  # 학습: 평균 5, 표준편차 2인 데이터
    batch = rng.normal(5, 2, size=(32, 3))
    mu, var = batch.mean(axis=0), batch.var(axis=0)
    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var = (1 - momentum) * running_var + momentum * var

print("학습 후 running mean:", running_mean.round(2), " running var:", running_var.round(2))

x = np.array([[5.0, 5.0, 5.0]])
small_batch = np.vstack([x, rng.normal(9, 1, size=(3, 3))])  # 추론 때 치우친 배치
eval_out = (x - running_mean) / np.sqrt(running_var + eps)
batch_stats_out = (small_batch - small_batch.mean(axis=0)) / np.sqrt(small_batch.var(axis=0) + eps)
print("같은 입력 x=5의 출력")
print("  eval 모드 (running 통계):", eval_out[0].round(3))
print("  배치 통계를 잘못 쓴 경우:", batch_stats_out[0].round(3))
