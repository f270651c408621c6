# The two commands of the README:
#   make demo   set up .venv (Python 3.7 + pinned TF 1.15 / TensorLayer 1.11.1), find or install
#               Fashion-MNIST, then train -> convert -> simulate -> plot the MLP 400-400 (k=1)
#   make test   set up .venv if needed and run the test suite
#   (make faults: the bad-input table against the real scripts; CI runs it after the tests)
# Extra arguments for the demo: make demo ARGS="--epochs 150"
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: demo test faults venv data

demo: data
	cd FashionMNIST && ../$(PY) Demo_MLP_FashionMNIST.py $(ARGS)

test: venv
	$(PY) -m pytest -q tests $(ARGS)

# every bad input of tests/fault_injection.py against the real scripts: "N cases, N handled"
faults: venv
	$(PY) tests/fault_injection.py

venv:
	@VENV=$(VENV) sh tensorlayer_patches/setup_env.sh venv

data:
	@VENV=$(VENV) sh tensorlayer_patches/setup_env.sh fashion-mnist
