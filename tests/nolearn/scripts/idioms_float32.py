# The float32 helper as real nolearn scripts spell it: five one-line helpers, each unwrapped.
import numpy
import numpy as np
import theano
import theano.tensor as T
from lasagne import layers
from lasagne.updates import nesterov_momentum
from nolearn.lasagne import NeuralNet


def float32(k):
    return np.cast['float32'](k)


def cast_theano(k):
    return theano.tensor.cast(k, 'float32')


def cast_t(k):
    return T.cast(k, 'float32')


def as_array(k):
    return numpy.asarray(k, dtype='float32')


def np_float(k):
    return np.float32(k)


net = NeuralNet(
    layers=[('input', layers.InputLayer), ('hidden', layers.DenseLayer), ('output', layers.DenseLayer)],
    input_shape=(None, 64),
    hidden_num_units=cast_t(32),
    output_num_units=as_array(10),
    output_nonlinearity=None,
    update=nesterov_momentum,
    update_learning_rate=theano.shared(cast_theano(0.01)),
    update_momentum=theano.shared(np_float(0.9)),
    max_epochs=float32(3),
)
