# The two commands of the README:
#   make demo   set up .venv (Python 3.7 + pinned TF 1.15 / TensorLayer 1.11.1), find or install
#               Fashion-MNIST, then train -> convert -> simulate -> plot the MLP 400-400 (k=1)
#   make test   set up .venv if needed and run the test suite
#   (make faults: the bad-input table against the real scripts; CI runs it after the tests)
#   (make reproduce TABLE=...: a seed's table at the paper's budget; make results: RESULTS.md from the records)
# Extra arguments for the demo: make demo ARGS="--epochs 150"
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: demo test faults venv data reproduce results

demo: data
	cd FashionMNIST && ../$(PY) Demo_MLP_FashionMNIST.py $(ARGS)

# two processes (pytest-xdist), each test file in one of them, each process on its share of the cores, the costliest
# files first (tests/conftest.py, tests/file_order.py): 6.4-7.2 minutes on 2 CPU cores (a fresh clone on a 2-core
# AMD EPYC machine, 2026-12-08: 432, 430, 400, 409 and 383 s for 815-818 tests; 2026-12-07: 440-498 s;
# was 857 s, then 625 s)
# The run writes Python's bytecode caches (__pycache__, ignored by git) even where $$PYTHONDONTWRITEBYTECODE is set:
# the suite starts ~500 Python processes, and each would compile the project's modules again.
test: venv
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 2 --dist loadfile tests $(ARGS)

# every bad input of tests/fault_injection.py against the real scripts: "N cases, N handled"
faults: venv
	$(PY) tests/fault_injection.py

# the seeds' tables at their budgets (long; resumable): make reproduce TABLE=fashion_mnist ARGS="--data_root ../shared/data"
TABLE ?=
reproduce: venv
	nice -n 19 $(PY) reproduce.py $(TABLE) $(ARGS)

# RESULTS.md's tables from the records
results: venv
	$(PY) reproduce.py --write_results

venv:
	@VENV=$(VENV) sh snn_conversion/setup_env.sh venv

data: venv
	@VENV=$(VENV) sh snn_conversion/setup_env.sh fashion-mnist
