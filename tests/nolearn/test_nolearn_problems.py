"""What cannot be translated is reported at its line; the rest is still converted; the
script is never executed."""

from __future__ import annotations

import textwrap

from kerasbuild.nolearn import from_nolearn

SCRIPT = textwrap.dedent("""\
    import lasagne
    from lasagne import layers
    from nolearn.lasagne import NeuralNet
    from mylib import make_schedule, MyCustomLayer


    def units():
        return 100


    net = NeuralNet(
        layers=[
            ('input', layers.InputLayer),
            ('hidden', layers.DenseLayer),
            ('odd', MyCustomLayer),
            ('output', layers.DenseLayer),
        ],
        input_shape=(None, 64),
        hidden_num_units=units(),
        output_num_units=10,
        output_nonlinearity=lasagne.nonlinearities.softmax,
        update_learning_rate=make_schedule(0.01),
        on_epoch_finished=[lambda nn, history: None],
        max_epochs=20,
    )
    """)


def problems_by_line(result) -> dict[int, str]:
    out: dict[int, str] = {}
    for line, message in result.problems:
        out[line] = out.get(line, "") + message + "\n"
    return out


def test_untranslatable_parts_are_reported_at_their_lines():
    result = from_nolearn(SCRIPT, "bad.py")
    problems = problems_by_line(result)
    assert "MyCustomLayer is not a layer kerasbuild knows" in problems[15]
    assert "units() is a function defined in the script (line 7)" in problems[19]
    assert "make_schedule(0.01)" in problems[22] and "update_learning_rate" in problems[22]
    assert "lambda" in problems[23]


def test_the_rest_is_still_converted():
    net = from_nolearn(SCRIPT, "bad.py").nets[0]
    assert [layer["name"] for layer in net.document["layers"]] == [
        "input",
        "hidden",
        "odd",
        "output",
    ]
    assert net.document["layers"][2] == {"name": "odd", "type": "MyCustomLayer"}
    assert net.document["layers"][3]["num_units"] == 10
    assert "num_units" not in net.document["layers"][1]
    assert net.document["train"]["max_epochs"] == 20
    assert "update_learning_rate" not in net.document["train"]
    # the custom layer and the missing num_units make validation fail, located at the layers
    assert net.param_count is None
    validation = [(line, m) for line, m in net.problems if "does not validate" in m]
    assert {line for line, _ in validation} <= {14, 15}
    assert any("unknown layer type 'MyCustomLayer'" in m for _, m in validation)
    assert any("num_units" in m for _, m in validation)


def test_unknown_argument_and_unresolved_name():
    result = from_nolearn(
        textwrap.dedent("""\
        from nolearn.lasagne import NeuralNet
        from lasagne.layers import InputLayer, DenseLayer
        net = NeuralNet(
            layers=[('input', InputLayer), ('out', DenseLayer)],
            input_shape=(None, 4),
            out_num_units=UNITS,
            hiden_num_units=3,
        )
        """),
        "s.py",
    )
    problems = problems_by_line(result)
    assert "'UNITS' is a Python object kerasbuild cannot translate" in problems[6]
    assert "'hiden_num_units' is neither a NeuralNet setting" in problems[7]


def test_nchw_only_parameters_are_reported():
    result = from_nolearn(
        textwrap.dedent("""\
        from nolearn.lasagne import NeuralNet
        from lasagne.layers import InputLayer, DropoutLayer, DenseLayer, DimshuffleLayer
        l = InputLayer((None, 3, 8, 8))
        l = DropoutLayer(l, p=0.2, shared_axes=(2, 3))
        l = DimshuffleLayer(l, (0, 2, 3, 1))
        l = DenseLayer(l, 5)
        net = NeuralNet(layers=l)
        """),
        "s.py",
    )
    net = result.nets[0]
    assert net.document["layers"][1]["shared_axes"] == [0, 1]  # NCHW rows, columns -> NHWC 0, 1
    assert (
        "DimshuffleLayer pattern [0, 2, 3, 1] counts Lasagne's NCHW axes"
        in problems_by_line(result)[5]
    )


def test_script_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    script = textwrap.dedent(f"""\
        import os
        os.system("touch {marker}")
        open({str(marker)!r}, "w").write("ran")
        __import__("os").system("touch {marker}")
        from nolearn.lasagne import NeuralNet
        from lasagne.layers import InputLayer, DenseLayer
        n = int(open({str(marker)!r}).read())
        net = NeuralNet(layers=[('input', InputLayer), ('out', DenseLayer)],
                        input_shape=(None, 4), out_num_units=2, max_epochs=n)
        raise SystemExit("a top-level raise")
        """)
    result = from_nolearn(script, "evil.py")
    assert not marker.exists()
    net = result.nets[0]
    assert net.param_count == 4 * 2 + 2
    # the value that needs the script to run is reported, not computed
    assert [line for line, _ in result.problems] == [9]
    assert "max_epochs" not in net.document["train"]


def test_syntax_error_is_a_located_problem():
    result = from_nolearn("net = NeuralNet(\n  layers=[\n", "broken.py")
    assert result.nets == []
    assert result.problems[0][0] in (2, 3) and "syntax error" in result.problems[0][1]


def test_sequence_nets_keep_their_layout_and_lstm_peepholes_are_reported():
    result = from_nolearn(
        textwrap.dedent("""\
        from nolearn.lasagne import NeuralNet
        from lasagne.layers import InputLayer, LSTMLayer, DenseLayer, SliceLayer
        l = InputLayer((None, 20, 8))
        l = LSTMLayer(l, 16)
        l = SliceLayer(l, -1, axis=1)
        l = DenseLayer(l, 3)
        net = NeuralNet(layers=l)
        """),
        "s.py",
    )
    net = result.nets[0]
    layers = net.document["layers"]
    # (batch, time, features) is Keras's layout too: only the batch axis goes
    assert layers[0]["shape"] == [20, 8]
    assert layers[2] == {"name": "slice2", "type": "SliceLayer", "indices": -1, "axis": 0}
    # LSTM 4 gates * (8*16 + 16*16 + 16) = 1,600; dense 16*3 + 3 = 51
    assert net.param_count == 1_600 + 51
    assert [line for line, m in result.problems if "peepholes" in m] == [4]


def test_slice_without_axis_on_images_is_reported():
    result = from_nolearn(
        textwrap.dedent("""\
        from nolearn.lasagne import NeuralNet
        from lasagne.layers import InputLayer, SliceLayer
        l = InputLayer((None, 3, 8, 8))
        l = SliceLayer(l, 0)
        net = NeuralNet(layers=l)
        """),
        "s.py",
    )
    assert result.problems == [
        (
            4,
            "layer 'slice1': Lasagne's default axis=-1 is the last NCHW axis "
            "(columns) but kerasbuild's is the channel axis; give axis",
        )
    ]


def test_python2_statements_are_read_and_noted():
    result = from_nolearn(
        textwrap.dedent("""\
        import cPickle as pickle
        from lasagne.layers import InputLayer, DenseLayer
        from nolearn.lasagne import NeuralNet
        try:
            import foo
        except ImportError, e:
            print "no foo", e
        net = NeuralNet(layers=[('input', InputLayer), ('out', DenseLayer)],
                        input_shape=(None, 5), out_num_units=2)
        print net
        if 0:
            raise ValueError, "never"
        """),
        "old.py",
    )
    assert result.problems == []
    assert [line for line, _ in result.notes] == [6, 7, 10, 12]
    assert result.nets[0].param_count == 5 * 2 + 2
    assert result.nets[0].line == 8


def test_unfixable_syntax_error_reports_the_first_error():
    result = from_nolearn("print 'a'\nx = = 1\n", "bad.py")
    assert result.nets == [] and result.problems[0][0] == 2
