"""contactgraph: the contacts service behind WhatsApp business messaging."""

__version__ = "0.1.0"
