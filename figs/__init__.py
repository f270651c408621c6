"""Figure scripts: accuracy vs time step, firing sparsity, synaptic operations (headless, PNG + SVG)."""
