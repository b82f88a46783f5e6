"""qpack: split one build of a modular program into a core package plus module packages."""

__version__ = "0.1.0"
