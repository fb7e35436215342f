# 오차역전파법: 계층을 직접 구현한다 (다른 변수 이름, 도우미 메서드)
import numpy as np
from collections import OrderedDict


def softmax(a):
    # 오버플로 방지: 각 행의 최댓값을 뺀다
    shifted = a - a.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(probs, labels):
    if labels.ndim == 2:  # 원-핫이면 정답 인덱스로
        labels = labels.argmax(axis=1)
    n = probs.shape[0]
    return -np.sum(np.log(probs[np.arange(n), labels] + 1e-7)) / n


class MultiplyLayer:
    """곱셈 노드"""

    def __init__(self):
        self.left = None
        self.right = None

    def forward(self, left, right):
        self.left, self.right = left, right
        return left * right

    def backward(self, grad_out):
        # 서로 바꾼 값을 곱한다
        return grad_out * self.right, grad_out * self.left


class AddLayer:
    def forward(self, a, b):
        return a + b

    def backward(self, grad_out):
        return grad_out, grad_out


class ReLU:
    def __init__(self):
        self.negative = None

    def forward(self, inp):
        self.negative = inp <= 0
        return np.where(self.negative, 0.0, inp)

    def backward(self, grad_out):
        return np.where(self.negative, 0.0, grad_out)  # 입력을 바꾸지 않는다


class SigmoidLayer:
    def __init__(self):
        self.y = None

    @staticmethod
    def _logistic(z):
        return 1.0 / (1.0 + np.exp(-z))

    def forward(self, z):
        self.y = self._logistic(z)
        return self.y

    def local_gradient(self):
        return self.y * (1.0 - self.y)

    def backward(self, grad_out):
        return grad_out * self.local_gradient()


class Affine_Layer:
    def __init__(self, weights, bias):
        self.weights = weights
        self.bias = bias
        self.inp = None
        self.grad_weights = None
        self.grad_bias = None

    def forward(self, inp):
        self.inp = inp
        return inp @ self.weights + self.bias

    def backward(self, grad_out):
        self.grad_weights = self.inp.T @ grad_out
        self.grad_bias = grad_out.sum(axis=0)
        return grad_out @ self.weights.T

    def describe(self):
        return f"Affine {self.weights.shape}"


class SoftmaxWithLossLayer:
    def __init__(self):
        self.probs = None
        self.labels = None

    def forward(self, scores, labels):
        self.labels = labels
        self.probs = softmax(scores)
        return cross_entropy(self.probs, labels)

    def backward(self, dout=1):
        n = self.probs.shape[0]
        grad = self.probs.copy()
        if self.labels.ndim == 2:
            grad -= self.labels
        else:
            grad[np.arange(n), self.labels] -= 1
        return grad * dout / n


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict(
            Affine1=Affine_Layer(self.params["W1"], self.params["b1"]),
            Relu1=ReLU(),
            Affine2=Affine_Layer(self.params["W2"], self.params["b2"]),
        )
        self.lastLayer = SoftmaxWithLossLayer()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        grad = self.lastLayer.backward(1)
        for layer in reversed(self.layers.values()):
            grad = layer.backward(grad)
        first, second = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": first.grad_weights, "b1": first.grad_bias,
                "W2": second.grad_weights, "b2": second.grad_bias}
