"""Transfer learning: start a spec's model from saved weights (:mod:`.init_weights`, read by
:mod:`.weights_file`, found by :mod:`.paths`) and thaw frozen layers during training
(:mod:`.unfreeze`). Which layers are frozen is decided without TensorFlow by
:mod:`kerasbuild.spec.freeze`."""
