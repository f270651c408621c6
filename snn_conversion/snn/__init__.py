"""The spiking side (numpy only; never imports TensorFlow): parse -> convert -> simulate -> count -> log.

kernels (synaptic input, dense and event), neurons (pure neuron steps), layers (synapses + state + engine),
conversion (BN folding, thresholds), families (what each family builds), network (the time loop), workers,
reference (the quantized ANN in numpy: the tests' oracle), logs, runs (test-set runs, resume, shards), cli.
"""
