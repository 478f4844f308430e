# Older Lasagne and nolearn spellings: filter_length, ds, border_mode, batch_norm wrappers in an
# instance chain, layers= given as a module-level variable, TrainSplit, adadelta.

from lasagne import updates
from lasagne.layers import (
    Conv1DLayer,
    Conv2DLayer,
    DenseLayer,
    InputLayer,
    MaxPool1DLayer,
    MaxPool2DLayer,
    batch_norm,
)
from lasagne.nonlinearities import softmax
from lasagne.objectives import categorical_crossentropy
from nolearn.lasagne import NeuralNet, TrainSplit

LAYERS = [
    (InputLayer, {'shape': (None, 1, 8, 8)}),
    (Conv2DLayer, {'num_filters': 8, 'filter_size': 3, 'border_mode': 'same'}),
    (MaxPool2DLayer, {'ds': 2}),
    (DenseLayer, {'num_units': 10, 'nonlinearity': softmax}),
]

net = NeuralNet(
    layers=LAYERS,
    update=updates.adadelta,
    objective_loss_function=categorical_crossentropy,
    train_split=TrainSplit(eval_size=0.25),
    use_label_encoder=True,
    max_epochs=2,
)

layer = InputLayer((None, 1, 16))
layer = Conv1DLayer(layer, num_filters=4, filter_length=3)
layer = MaxPool1DLayer(layer, ds=2)
layer = batch_norm(Conv1DLayer(layer, num_filters=4, filter_length=3, border_mode='valid'))
layer = DenseLayer(layer, num_units=2, nonlinearity=softmax)
seq = NeuralNet(layers=layer, update=updates.adam, max_epochs=1)
