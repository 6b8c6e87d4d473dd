"""dlbench: the deep-learning hardware benchmark dataset, its runners and its tools."""

__version__ = "0.1.0"
