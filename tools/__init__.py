"""Tools on top of minigrad and models: rendering, gradient-flow analysis, checks, the CLI."""
