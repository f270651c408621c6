"""The quantized ANN in TensorFlow 1.15 / TensorLayer: graph, inputs, the training loop, cluster training, CLI."""
