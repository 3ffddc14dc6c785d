"""coolpapers: a self-hostable Cool Papers for the new arXiv papers of your categories."""

__version__ = "0.1.0"
