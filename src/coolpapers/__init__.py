"""coolpapers: a self-hostable Cool Papers for the new arXiv papers of your categories."""

import os

# numpy's OpenBLAS keeps its worker threads spinning for a while after each product, waiting
# for the next one. A search's vector scan (search/vectors.py) is one product of a few ms, so
# under load that spin held a whole core: the server used 31 ms of CPU for a new search page
# where 16 ms did the work, and its requests waited for the core (SQLite 70k, wrk -c32 on new
# queries: 58-65 -> 67-69 pages/s). The shortest timeout keeps both threads for one search's
# product and lets them sleep right after. Read when OpenBLAS loads: here, before any numpy
# import of ours; a value set in the environment wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"
