"""Where data comes in: one package per source of papers, behind one seam.

- `base`: what a source is (`Source`: its key, name, ids, links, BibTeX, pace, fetcher)
- `registry`: the built-in sources in one list, outside ones through entry points
- `http`: the paced, retrying HTTP client, one pace per host, kept across processes
- `arxiv/`: arXiv (client, RSS/Atom, OAI-PMH, export API, schedule, files, ids, taxonomy)

Sources only produce `records`; the store owns identity and upserts.
"""
