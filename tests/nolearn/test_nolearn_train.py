"""A converted nolearn script trains as it says: AdjustVariable moves the learning rate,
BatchIterator sets the batch size, the net learns sklearn's digits."""

from __future__ import annotations

import textwrap

import pytest

from kerasbuild.nolearn import from_nolearn
from kerasbuild.spec.loader import load_spec

SCRIPT = textwrap.dedent("""\
    import theano
    from lasagne import layers
    from lasagne.nonlinearities import softmax
    from lasagne.updates import nesterov_momentum
    from nolearn.lasagne import BatchIterator, NeuralNet
    from tutorial import AdjustVariable, EarlyStopping, float32

    net = NeuralNet(
        layers=[
            ('input', layers.InputLayer),
            ('conv1', layers.Conv2DLayer),
            ('pool1', layers.MaxPool2DLayer),
            ('hidden', layers.DenseLayer),
            ('output', layers.DenseLayer),
        ],
        input_shape=(None, 1, 8, 8),
        conv1_num_filters=16, conv1_filter_size=(3, 3), pool1_pool_size=(2, 2),
        hidden_num_units=64,
        output_num_units=10, output_nonlinearity=softmax,
        update=nesterov_momentum,
        update_learning_rate=theano.shared(float32(0.05)),
        update_momentum=theano.shared(float32(0.9)),
        batch_iterator_train=BatchIterator(batch_size=32),
        on_epoch_finished=[
            AdjustVariable('update_learning_rate', start=0.05, stop=0.01),
            EarlyStopping(patience=10),
        ],
        max_epochs=5,
        verbose=1,
    )
    """)


@pytest.mark.slow
def test_converted_net_trains_on_digits(tmp_path):
    from kerasbuild.runs.runner import train

    result = from_nolearn(SCRIPT, "digits_net.py")
    assert result.problems == []
    document = result.nets[0].document
    # conv1 3*3*1*16 + 16 = 160 (6x6x16, pool -> 3x3x16 = 144); hidden 144*64 + 64 = 9,280;
    # output 64*10 + 10 = 650
    assert result.nets[0].param_count == 160 + 9_280 + 650
    document["data"] = {"source": "builtin:digits", "test_size": 0.2, "seed": 0}
    document["train"]["seed"] = 0
    run = train(load_spec(document), tmp_path / "run")
    assert run.epochs_completed == 5
    rates = [round(epoch["learning_rate"], 6) for epoch in run.history]
    assert rates == [0.05, 0.04, 0.03, 0.02, 0.01]  # AdjustVariable: linear over max_epochs
    assert run.test_metrics["test_accuracy"] > 0.85
