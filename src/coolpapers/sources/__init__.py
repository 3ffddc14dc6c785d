"""Where data comes in: arXiv (paced client, RSS/Atom, OAI-PMH, export API) and files.

- `client`: the one paced, retrying HTTP client (1 request / 3 s across processes, 1 connection)
- `rss`: announcement feeds (RSS 2.0 and Atom) -> papers + announcements
- `oai`: OAI-PMH ListRecords (arXiv, arXivRaw) -> papers
- `api`: the export API (id_list) -> papers
- `harvest`: idempotent, resumable runs over those (feeds, completeness, OAI, on-demand ids)
- `schedule`: arXiv's announcement schedule and the watch loop
- `files`: the Kaggle snapshot and daily JSON lines

Sources only produce `records`; the store owns identity and upserts.
"""
