"""Where data comes in: arXiv (paced client, RSS/Atom, OAI-PMH, export API) and files."""
