"""Every seed experiment from its workspace, as a user types it, on tiny generated data in the real formats.

For each experiment: the seed's training command (one to three epochs of a few batches of 5), ``--resume True
--mode inference``, the spiking script with its default paths; the log files are present and well formed; and the
trained checkpoint's SNN spike counts equal the quantized ANN's levels neuron by neuron (plus SNN accuracy = ANN
accuracy).
(FashionMNIST and the MNIST negative-spike / all-integer LeNets are in test_end_to_end.py; the CIFAR-10 experiments in
test_workspaces_cifar10.py; the experiments and their checks in workspace_experiments.py.)
"""
import pytest

from workspace_experiments import EXPERIMENTS, check_experiment


@pytest.mark.parametrize('name', sorted(n for n in EXPERIMENTS if EXPERIMENTS[n].workspace != 'CIFAR10'))
def test_experiment_from_its_workspace(tmp_path, name):
    check_experiment(tmp_path, name)
