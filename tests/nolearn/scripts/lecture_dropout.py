# ruff: noqa
# The lecture's facial-keypoints net (reference 002): three conv/pool/dropout stages, two
# 1000-unit dense layers with dropout, 30 linear outputs; flips, AdjustVariable and
# EarlyStopping. Layer classes come from module attributes and an alias; numbers are wrapped
# the three ways nolearn scripts wrap them. Only parsed, never run.
import lasagne
import numpy as np
import theano
from lasagne import layers
from nolearn.lasagne import BatchIterator, NeuralNet

Conv2DLayer = layers.cuda_convnet.Conv2DCCLayer
MaxPool2DLayer = lasagne.layers.MaxPool2DLayer
HIDDEN = 1000
float32 = np.float32


class FlipBatchIterator(BatchIterator):
    flip_indices = ((0, 2), (1, 3), (4, 8), (5, 9), (6, 10), (7, 11),
                    (12, 16), (13, 17), (14, 18), (15, 19), (22, 24), (23, 25))


class AdjustVariable(object):
    def __init__(self, name, start=0.03, stop=0.001):
        self.name, self.start, self.stop = name, start, stop


class EarlyStopping(object):
    def __init__(self, patience=100):
        self.patience = patience


net = NeuralNet(
    layers=[
        ('input', layers.InputLayer),
        ('conv1', Conv2DLayer),
        ('pool1', MaxPool2DLayer),
        ('dropout1', layers.DropoutLayer),
        ('conv2', Conv2DLayer),
        ('pool2', MaxPool2DLayer),
        ('dropout2', layers.DropoutLayer),
        ('conv3', Conv2DLayer),
        ('pool3', MaxPool2DLayer),
        ('dropout3', layers.DropoutLayer),
        ('hidden4', layers.DenseLayer),
        ('dropout4', layers.DropoutLayer),
        ('hidden5', layers.DenseLayer),
        ('output', layers.DenseLayer),
    ],
    input_shape=(None, 1, 96, 96),
    conv1_num_filters=32, conv1_filter_size=(3, 3), pool1_pool_size=(2, 2),
    dropout1_p=0.1,
    conv2_num_filters=64, conv2_filter_size=(2, 2), pool2_pool_size=(2, 2),
    dropout2_p=0.2,
    conv3_num_filters=128, conv3_filter_size=(2, 2), pool3_pool_size=(2, 2),
    dropout3_p=0.3,
    hidden4_num_units=HIDDEN,
    dropout4_p=0.5,
    hidden5_num_units=HIDDEN,
    output_num_units=30, output_nonlinearity=None,

    update_learning_rate=theano.shared(float32(0.03)),
    update_momentum=theano.shared(np.cast['float32'](0.9)),
    update_nesterov=True,
    regression=True,
    batch_iterator_train=FlipBatchIterator(batch_size=48),
    on_epoch_finished=[
        AdjustVariable('update_learning_rate', start=0.02, stop=0.0001),
        AdjustVariable('update_momentum', start=0.9, stop=0.999),
        EarlyStopping(patience=250),
    ],
    max_epochs=10000,
    verbose=1,
)
