"""The patched TensorLayer imports without matplotlib.pyplot, sklearn.metrics and tf.contrib, and the TensorLayer
functions that use them still work (tensorlayer_patches/startup.py)."""
import subprocess
import sys

CHECK = r'''
import sys
import numpy as np
import tensorlayer_patches as tl

tl.layers  # TensorLayer loaded
loaded = [name for name in ('matplotlib.pyplot', 'sklearn.metrics', 'tensorflow.contrib.rnn') if name in sys.modules]
assert not loaded, loaded
stand_ins = [name for name, m in sys.modules.items() if type(m).__name__ == 'DeferredModule']
assert not stand_ins, stand_ins

# tl.utils.evaluation takes confusion_matrix / f1_score / accuracy_score from sklearn.metrics at import
y, p = np.array([0, 1, 1, 0, 2, 2]), np.array([0, 1, 0, 0, 2, 1])
c_mat, f1, acc, f1_macro = tl.utils.evaluation(y, p, n_classes=3)
from sklearn import metrics
assert type(sys.modules['sklearn.metrics']).__name__ == 'module'
np.testing.assert_array_equal(c_mat, metrics.confusion_matrix(y, p, labels=[0, 1, 2]))
assert acc == metrics.accuracy_score(y, p) and f1_macro == metrics.f1_score(y, p, average='macro')

# tl.files / tl.visualize hold matplotlib.pyplot: the real one on use, the same the figures import
import matplotlib.pyplot as plt
assert tl.files.utils.plt.figure is plt.figure

# tl.layers.recurrent's bidirectional RNN: the real function runs (its own argument check answers)
try:
    tl.layers.recurrent.stack_bidirectional_dynamic_rnn([], [], None)
except ValueError as e:
    assert 'cell' in str(e), e
else:
    raise AssertionError('no ValueError')
import tensorflow as tf
assert tf.contrib.rnn.stack_bidirectional_dynamic_rnn.__module__.startswith('tensorflow')
print('ok')
'''


def test_tensorlayer_imports_without_its_unused_heavy_modules_and_they_load_on_use():
    p = subprocess.run([sys.executable, '-c', CHECK], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert p.returncode == 0 and p.stdout.strip().endswith('ok'), p.stdout + p.stderr[-3000:]


def test_the_quantization_layers_imported_first_take_the_same_light_import():
    """``import tensorlayer_patches.quantization`` before anything else (as the tests and a user's own code may):
    TensorLayer comes in the light way too, quietly."""
    code = ("import sys, tensorlayer_patches.quantization\n"
            "print([n for n in ('matplotlib.pyplot', 'sklearn.metrics', 'tensorflow.contrib.rnn') if n in sys.modules])")
    p = subprocess.run([sys.executable, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert p.returncode == 0 and p.stdout.strip() == '[]', p.stdout + p.stderr[-3000:]
    assert 'WARNING' not in p.stderr, p.stderr[-3000:]
