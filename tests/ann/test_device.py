"""The training scripts say which device TensorFlow trains on, and warn when a GPU is present but unusable."""
import io
import types

from snn_conversion.ann import device


def _fake_tf(gpus, version='1.15.5'):
    experimental = types.SimpleNamespace(list_physical_devices=lambda kind: [types.SimpleNamespace(name=g) for g in gpus])
    return types.SimpleNamespace(__version__=version, config=types.SimpleNamespace(experimental=experimental))


def test_gpu_present_but_unusable_warns_in_one_line(capsys):
    out = io.StringIO()
    assert device.report(_fake_tf([]), stream=out, hardware=['NVIDIA H200']) == []
    assert out.getvalue().startswith('device: CPU (') and 'TensorFlow 1.15.5 sees no GPU' in out.getvalue()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith('warning: this machine has NVIDIA H200 but TensorFlow cannot use it')
    assert 'CUDA 10.0 and cuDNN 7.6' in err[0] and 'nvidia-tensorflow' in err[0]


def test_no_gpu_no_warning_and_usable_gpu(capsys):
    out = io.StringIO()
    device.report(_fake_tf([]), stream=out, hardware=[])
    assert capsys.readouterr().err == ''
    out = io.StringIO()
    assert device.report(_fake_tf(['/physical_device:GPU:0']), num_gpus=2, stream=out, hardware=['Tesla V100'])
    assert out.getvalue() == 'device: 1 GPU(s) for TensorFlow 1.15.5 (Tesla V100); 2 tower(s) asked for\n'
    assert capsys.readouterr().err == ''


def test_a_broken_cuda_installation_counts_as_no_gpu():
    def broken(kind):
        raise RuntimeError('libcudart.so.10.0: cannot open shared object file')
    tf = _fake_tf([])
    tf.config.experimental.list_physical_devices = broken
    assert device.tensorflow_gpus(tf) == []
