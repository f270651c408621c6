"""The CIFAR-10 seed experiments from their workspace (CNN1, CNN2, the all-integer VGG-Net, the scatter-and-gather
VGG), as test_workspaces.py runs the others."""
import pytest

from workspace_experiments import EXPERIMENTS, check_experiment


@pytest.mark.parametrize('name', sorted(n for n in EXPERIMENTS if EXPERIMENTS[n].workspace == 'CIFAR10'))
def test_experiment_from_its_workspace(tmp_path, name):
    check_experiment(tmp_path, name)
