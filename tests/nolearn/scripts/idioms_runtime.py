# A net built inside a function: the sizes are its arguments, known only when the script runs.
from alphabet import load_alphabet
from lasagne import layers
from lasagne.nonlinearities import rectify, softmax
from lasagne.updates import adam
from nolearn.lasagne import NeuralNet

ALPHABET = load_alphabet()


def build(num_features, num_classes, hidden=64):
    return NeuralNet(
        layers=[('input', layers.InputLayer), ('hidden', layers.DenseLayer),
                ('output', layers.DenseLayer)],
        input_shape=(None, num_features),
        hidden_num_units=hidden,
        hidden_nonlinearity=rectify,
        output_num_units=len(ALPHABET) if num_classes is None else num_classes,
        output_nonlinearity=softmax,
        update=adam,
        update_learning_rate=0.01,
        max_epochs=1,
    )
