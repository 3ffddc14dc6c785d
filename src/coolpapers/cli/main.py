"""Commands. Each long one shows a progress bar, logs what it skipped and why, and can be
killed and rerun: ingestion checkpoints in the store, so a rerun resumes without duplicates."""

from __future__ import annotations

import logging
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from coolpapers.cli.progress import bytes_bar, console, setup_logging
from coolpapers.config import get_settings
from coolpapers.store import Store

app = typer.Typer(help="coolpapers: the new arXiv papers of your categories, self-hosted.")
log = logging.getLogger("coolpapers")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    setup_logging(verbose)


def _store() -> Store:
    return Store.open(get_settings().database_url)


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="JSON lines files (.jsonl or .jsonl.gz)")],
    batch_size: Annotated[int, typer.Option(help="records per transaction")] = 5000,
) -> None:
    """Import the Kaggle arxiv-metadata-oai-snapshot or daily JSON lines files (plain or .gz).

    Daily files must be named YYYY-MM-DD.jsonl[.gz]: the date is their announcement day."""
    from coolpapers.sources.files import import_files

    missing = [f for f in files if not f.is_file()]
    if missing:
        raise typer.BadParameter(f"no such file: {', '.join(map(str, missing))}")
    store = _store()
    total = sum(f.stat().st_size for f in files)
    with bytes_bar("import", total) as bar:
        report = import_files(store, files, batch_size, lambda n: bar.advance(0, n))
    for name, line in report.resumed_from.items():
        log.info("%s: resumed after line %d", name, line)
    console.print(
        f"[green]imported[/] {report.stored} records from {report.files} files "
        f"({report.skipped} malformed lines skipped, {len(report.skipped_files)} files skipped)"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(help="web worker processes")] = 1,
    watch: Annotated[
        bool, typer.Option(help="harvest each arXiv announcement of the watched categories")
    ] = False,
) -> None:
    """Serve the site (uvicorn)."""
    import uvicorn

    store = _store()  # migrate once, before any worker starts
    stop = threading.Event()
    if watch:
        _start_watch(store, stop)
    console.print(f"serving on http://{host}:{port}/  ({store.count_papers()} papers)")
    try:
        uvicorn.run(
            "coolpapers.web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
    finally:
        stop.set()


def _start_watch(store: Store, stop: threading.Event) -> threading.Thread:
    from coolpapers.sources.client import ArxivClient
    from coolpapers.sources.schedule import watch as watch_loop

    settings = get_settings()
    client = ArxivClient(store, settings)
    t = threading.Thread(
        target=watch_loop, args=(store, client, settings.watch, stop), daemon=True, name="watch"
    )
    t.start()
    log.info("watching %s for arXiv announcements", ", ".join(settings.watch))
    return t


@app.command()
def demo(
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
) -> None:
    """Load the bundled real sample (if the database is empty) and serve it."""
    from coolpapers.sources.files import import_files

    store = _store()
    sample = resources.files("coolpapers.data").joinpath("sample")
    files = sorted(Path(str(sample)).glob("*.jsonl.gz"))
    total = sum(f.stat().st_size for f in files)
    with bytes_bar("loading the demo sample", total) as bar:
        report = import_files(store, files, progress=lambda n: bar.advance(0, n))
    console.print(f"demo sample: {store.count_papers()} papers ({report.stored} records read)")
    os.environ.setdefault("COOLPAPERS_FETCH_ON_DEMAND", "false")
    get_settings.cache_clear()
    serve(host="127.0.0.1", port=port, workers=1, watch=False)


if __name__ == "__main__":
    app()
