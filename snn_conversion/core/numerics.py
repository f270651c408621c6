"""The method's constants, defined once for the ANN graph, the TensorLayer patches and the spiking network."""

BN_EPSILON = 1e-5   # BatchNorm's epsilon: sigma = sqrt(moving_variance + 1e-5)
BN_DECAY = 0.9      # BatchNorm's moving-average decay
ROUND_OFFSET = 1e-5  # the activation quantizer: round(2^k x + 1e-5) / 2^k
TERNARY_DELTA = 0.7  # TWN: Delta = 0.7 mean|W|
INT_SCALE = 10000    # all-integer family: membranes hold 10^4 (W . x), thresholds are integers
