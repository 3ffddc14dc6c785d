"""paperlists (https://github.com/papercopilot/paperlists): conference paper lists gathered
from OpenReview, CVF open access, IJCAI and AAAI, one JSON file per edition.

Not a source of its own: `reader` reads a file into papers of the sources its records' links
name (openreview, cvf, ijcai, aaai) and into venue listings. `coolpapers import` tells such a
file by `looks_like`.
"""

from __future__ import annotations

from coolpapers.sources.paperlists.reader import Edition, edition_of, load, looks_like, read

__all__ = ["Edition", "edition_of", "load", "looks_like", "read"]
