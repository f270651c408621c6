"""The foundation every other layer builds on; imports nothing else of the project.

architectures (the registry), checkpoint format, atomic file I/O, provenance, CLI plumbing (errors, flags).
"""
