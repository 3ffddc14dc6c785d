"""Commands. Each long one shows a progress bar, logs what it skipped and why, and can be
killed and rerun: ingestion checkpoints in the store, so a rerun resumes without duplicates."""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coolpapers.cli.progress import bytes_bar, console, count_bar, setup_logging
from coolpapers.config import Settings, get_settings
from coolpapers.store import Store

if TYPE_CHECKING:
    from types import ModuleType

    from coolpapers.llm.worker import Workers

app = typer.Typer(help="coolpapers: the new arXiv papers of your categories, self-hosted.")
log = logging.getLogger("coolpapers")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    setup_logging(verbose)


def _store() -> Store:
    return Store.open(get_settings().database_url)


@app.command("import")
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="arXiv JSON lines (.jsonl[.gz]), ACL Anthology XML, PMLR volume folders, "
            "paperlists JSON"
        ),
    ],
    batch_size: Annotated[int, typer.Option(help="records per transaction")] = 5000,
) -> None:
    """Import files of any known format, told by their content: the Kaggle
    arxiv-metadata-oai-snapshot or daily JSON lines (plain or .gz); the ACL Anthology's
    data/xml files; PMLR volumes (a folder with _config.yml and _posts, or its .bib);
    paperlists' <conf><year>.json[.gz].

    Daily files must be named YYYY-MM-DD.jsonl[.gz]: the date is their announcement day. A
    file that cannot be read to its end is named with its cause; the others are imported,
    and the command then exits with status 1. A rerun resumes where an interrupted one
    stopped and writes nothing twice."""
    from coolpapers.sources.arxiv.files import ImportReport, import_files
    from coolpapers.sources.formats import VenueReport, import_venues, venue_format

    missing = [f for f in files if not f.exists()]
    if missing:
        raise typer.BadParameter(f"no such file: {', '.join(map(str, missing))}")
    store = _store()
    started = datetime.now(UTC).replace(tzinfo=None)  # papers.ingested is naive UTC
    venue = VenueReport()
    arxiv: list[Path] = []
    venue_files: list[tuple[Path, ModuleType]] = []
    kinds: set[str] = set()
    for f in files:
        found = venue_format(f)
        if found is None:
            arxiv.append(f)
        else:
            kinds.add(found[0])
            venue_files.append((f, found[1]))
    if venue_files:
        label = f"{len(venue_files)} venue files ({', '.join(sorted(kinds))})"
        with count_bar(label, None) as bar:
            import_venues(store, venue_files, venue, lambda n: bar.advance(0, n))
    for name, batches in venue.resumed.items():
        log.info("%s: resumed after batch %d", name, batches)
    report = ImportReport()
    if arxiv:
        dirs = [f for f in arxiv if f.is_dir()]
        if dirs:
            raise typer.BadParameter(f"not a known folder format: {', '.join(map(str, dirs))}")
        total = sum(f.stat().st_size for f in arxiv)
        with bytes_bar("import", total) as bar:
            report = import_files(store, arxiv, batch_size, lambda n: bar.advance(0, n))
        for name, line in report.resumed_from.items():
            log.info("%s: resumed after line %d", name, line)
        console.print(
            f"[green]imported[/] {report.stored} records from {report.files} files "
            f"({report.skipped} malformed lines skipped, {len(report.skipped_files)} files "
            "with papers but no listing: a weekend day or a repeated list)"
        )
    if venue.files:
        console.print(
            f"[green]imported[/] {venue.stored} venue papers from {venue.files} files "
            f"({venue.skipped} malformed records skipped)"
        )
    report.failed.update(venue.failed)
    # a venue paper and its arXiv version, whichever came first: linked both ways
    from coolpapers.sources.versions import link_versions

    # no venue file: only the arXiv papers this import stored can have a new pair
    linked = link_versions(store, None if venue.files else started)
    if linked.venue_papers:
        how = ", ".join(f"{n} by {k}" for k, n in sorted(linked.pairs.items())) or "none"
        console.print(
            f"arXiv versions: {linked.linked} of {linked.venue_papers} venue papers ({how})"
        )
    if venue.stored:
        # the editions' TL;DRs and translations, for the workers (COOLPAPERS_LLM_ENRICH_*)
        from coolpapers.llm.batch import queue_ingested

        queued = queue_ingested(store, get_settings(), started)
        if queued:
            console.print(f"queued {queued} TL;DR and translation jobs for the workers")
    # search indexing is a step of its own, so that imports run at the speed of the store
    console.print(
        "search: new papers are indexed by `coolpapers index`, or in the background by `serve`"
    )
    if report.failed:
        # what was read before the failure is stored; a rerun goes on from there
        console.print(f"[red]{len(report.failed)} files not imported to their end:[/]")
        for name, cause in report.failed.items():
            console.print(f"  {name}: {cause}", markup=False, highlight=False)
        raise typer.Exit(1)


@app.command()
def harvest(
    category: Annotated[
        list[str] | None,
        typer.Option("--category", "-c", help="categories (default: COOLPAPERS_WATCH_CATEGORIES)"),
    ] = None,
    oai: Annotated[bool, typer.Option(help="backfill metadata through OAI-PMH instead")] = False,
    set_spec: Annotated[str | None, typer.Option("--set", help="OAI set, e.g. cs")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="OAI from date YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="OAI until date YYYY-MM-DD")] = None,
    metadata_format: Annotated[
        str, typer.Option("--format", help="arXivRaw or arXiv")
    ] = "arXivRaw",
    ids: Annotated[list[str] | None, typer.Option("--id", help="fetch single papers by id")] = None,
    watch: Annotated[bool, typer.Option(help="keep running: harvest every announcement")] = False,
    venue: Annotated[
        str | None,
        typer.Option(
            help="an OpenReview venue id (ICLR.cc/2025/Conference): its accepted papers, "
            "through OpenReview's API v2 with COOLPAPERS_OPENREVIEW_TOKEN or username/password"
        ),
    ] = None,
) -> None:
    """Fetch from arXiv through the one paced client (1 request / 3 s, Retry-After honoured).

    Default: today's announcement feeds of the categories, then a completeness check that
    backfills late ids. --oai pages through ListRecords and resumes after a kill; --id fetches
    single papers; --watch follows every announcement (20:00 New York, Sunday to Thursday).
    --venue harvests a conference's accepted papers from OpenReview instead (resumable)."""
    if venue:
        _harvest_openreview(venue)
        return
    from coolpapers.sources.arxiv import harvest as h
    from coolpapers.sources.arxiv.client import ArxivClient
    from coolpapers.sources.arxiv.ids import parse as parse_id
    from coolpapers.sources.arxiv.schedule import watch as watch_loop

    settings = get_settings()
    store = _store()
    cats = category or settings.watch
    with ArxivClient(store, settings) as client:
        if ids:
            found = h.fetch_ids(store, client, ids)
            missing = [i for i in ids if parse_id(i).id not in found]
            console.print(
                f"stored {len(found)} papers" + (f"; not on arXiv: {missing}" if missing else "")
            )
            return
        if watch:
            stop = threading.Event()
            try:
                watch_loop(store, client, cats, stop)
            except KeyboardInterrupt:
                stop.set()
            return
        if oai:
            with count_bar(f"OAI-PMH {set_spec or 'all'} from {from_ or 'the start'}", None) as bar:
                report = h.harvest_oai(
                    store,
                    client,
                    set_spec,
                    from_,
                    until,
                    metadata_format,
                    progress=lambda r: bar.update(
                        0, completed=r.papers, total=r.complete_list_size
                    ),
                )
            console.print(f"[green]OAI-PMH[/] {report}")
            return
        with count_bar("announcement feeds", None) as bar:
            rep = h.harvest_announcements(store, client, cats)
            bar.update(0, completed=rep.feeds)
            checks = [
                h.check_complete(store, client, c, d, kinds) for (c, d), kinds in rep.listed.items()
            ]
        late = sum(len(c.backfilled) for c in checks)
        console.print(
            f"[green]announcements[/] {rep.papers} papers, {rep.announcements} listings on "
            f"{', '.join(sorted(map(str, rep.days))) or 'no day'}; {late} late ids backfilled; "
            f"{rep.skipped} malformed items skipped"
        )


def _harvest_openreview(venue: str) -> None:
    from coolpapers.sources.http import FetchError
    from coolpapers.sources.openreview.api import AuthRequired, run_harvest

    store = _store()
    with count_bar(f"OpenReview {venue}", None) as bar:
        try:
            n = run_harvest(
                store,
                get_settings(),
                venue,
                progress=lambda r: bar.update(0, completed=r.papers, total=r.count),
            )
        except AuthRequired as e:  # its message says which settings to set
            console.print(f"[red]{e}[/]", highlight=False)
            raise typer.Exit(2) from e
        except FetchError as e:
            console.print(f"[red]OpenReview did not answer: {e}[/] (run again to resume)")
            raise typer.Exit(1) from e
    console.print(f"[green]OpenReview[/] {venue}: {n} papers stored")


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(help="web worker processes")] = 1,
    watch: Annotated[
        bool, typer.Option(help="harvest each arXiv announcement of the watched categories")
    ] = False,
    local_llm: Annotated[
        bool | None,
        typer.Option(
            "--local-llm/--no-local-llm",
            help="answer the FAQ with a local model (llama.cpp) when no endpoint is configured "
            "(COOLPAPERS_LLM_LOCAL)",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="the local model's GGUF file (default: SmolLM2-135M, a tiny demo)"),
    ] = None,
) -> None:
    """Serve the site (uvicorn)."""
    import uvicorn

    store = _store()  # migrate once, before any worker starts
    _default_base_url(host, port)
    stop = threading.Event()
    llm_server = None
    if local_llm if local_llm is not None else get_settings().llm_local:
        from coolpapers.cli import local_llm as local_llm_

        llm_server = local_llm_.start(get_settings(), model)  # before the workers read settings
    faq_workers = _start_faq_workers(store)  # FAQ: background LLM workers (embedded setup)
    # search: index what is new since the last run, then whatever gets stored, in the background
    kick = _start_index(store, stop) if get_settings().search_index_in_serve else threading.Event()
    if watch:
        _start_watch(store, stop, kick)
    # each worker's search processes (web/search_pool.py): the cores shared among the
    # workers, fewer where the papers' vectors would not fit many times
    papers = store.estimate_papers()
    searchers = get_settings().processes_for_search(workers, papers)
    os.environ["COOLPAPERS_SEARCH_PROCESSES"] = str(searchers)
    get_settings.cache_clear()  # one worker runs in this process: its serve_app reads it
    console.print(f"serving on http://{host}:{port}/  (~{papers} papers)")
    try:
        uvicorn.run(
            "coolpapers.web.app:serve_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            **proxy_options(get_settings()),
        )
    finally:
        stop.set()
        if faq_workers is not None:
            faq_workers.stop()
        if llm_server is not None:
            llm_server.stop()


def _default_base_url(host: str, port: int) -> None:
    """Feeds link to COOLPAPERS_BASE_URL (never to a request's Host: web/app.py); unset, it is
    where this server listens, so `serve --port 9000` links to port 9000. The workers read
    it from the environment."""
    if "base_url" in get_settings().model_fields_set:
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    os.environ["COOLPAPERS_BASE_URL"] = f"http://{shown}:{port}"
    get_settings.cache_clear()


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's reverse-proxy options: X-Forwarded-For (and -Proto) are believed from the
    peers in COOLPAPERS_FORWARDED_ALLOW_IPS only, so that behind a proxy the per-address
    limits see each reader, while a client talking to us directly cannot pick its address."""
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def _start_watch(store: Store, stop: threading.Event, kick: threading.Event) -> threading.Thread:
    from coolpapers.llm.batch import queue_day
    from coolpapers.sources.arxiv.client import ArxivClient
    from coolpapers.sources.arxiv.schedule import WatchCycle
    from coolpapers.sources.arxiv.schedule import watch as watch_loop

    settings = get_settings()
    client = ArxivClient(store, settings)

    def announced(cycle: WatchCycle) -> None:
        kick.set()  # index each harvest at once
        if cycle.found:  # the day's TL;DRs and translations, ahead of its readers
            try:
                queue_day(store, settings, list(settings.watch), cycle.day)
            except Exception as e:  # enrichment is extra: the watch goes on
                log.warning("could not queue the enrichment of %s: %s", cycle.day, e)

    t = threading.Thread(
        target=watch_loop,
        args=(store, client, settings.watch, stop),
        kwargs={"on_cycle": announced},
        daemon=True,
        name="watch",
    )
    t.start()
    log.info("watching %s for arXiv announcements", ", ".join(settings.watch))
    return t


@app.command()
def index(
    batch_size: Annotated[int | None, typer.Option(help="papers per transaction")] = None,
    rekey: Annotated[
        bool, typer.Option(help="recompute every paper's keywords and embedding")
    ] = False,
    optimize: Annotated[
        bool, typer.Option(help="then merge the full-text index (after a bulk import)")
    ] = False,
) -> None:
    """Build or catch up the search index: full text, keywords and embeddings of the papers
    stored since the last run. Resumable: each batch is committed with its papers marked done."""
    from coolpapers.search import indexer

    store = _store()
    if rekey:
        indexer.rekey(store)
    todo = indexer.fulltext_pending(store)
    if todo:
        with count_bar("index (full text)", todo) as bar:
            indexer.catch_up_fulltext(store, progress=lambda n: bar.advance(0, n))
    todo = indexer.pending(store)
    with count_bar("index (keywords, embeddings)", todo) as bar:
        done = indexer.catch_up(
            store,
            batch_size or get_settings().search_index_batch,
            progress=lambda n: bar.advance(0, n),
        )
    console.print(f"[green]indexed[/] {done} papers ({indexer.pending(store)} left)")
    console.print(indexer.text_index_status(store))
    if optimize:
        indexer.optimize(store)
        console.print("[green]full-text index merged[/]")


INDEX_POLL = 30.0  # seconds between looks for papers stored by others (on-demand, CLI)
# seconds between looks for changes the text index lacks (an index seek): while it lacks
# one, rankings come from the SQL engine, which a common word makes slow on PostgreSQL
TEXT_INDEX_POLL = 2.0


def _start_index(store: Store, stop: threading.Event) -> threading.Event:
    """The search index follows the store from a background thread: at start, every
    INDEX_POLL seconds (papers fetched on demand, a `coolpapers import` next door) and at
    once when the returned event is set (after each harvest). The text index's changes, a
    cheap look, are taken every TEXT_INDEX_POLL seconds by a thread of their own."""
    from coolpapers.search import indexer

    kick = threading.Event()

    def run() -> None:
        while not stop.is_set():
            kick.clear()
            try:
                n = indexer.catch_up(store, get_settings().search_index_batch, stop=stop)
                if n:
                    log.info("search: indexed %d papers", n)
            except Exception:  # the site works without fresh keywords and vectors; say why
                log.exception("search indexing failed")
            kick.wait(INDEX_POLL)

    def text_index() -> None:
        while not stop.wait(TEXT_INDEX_POLL):
            try:
                indexer.catch_up_text_index(store)
            except Exception:  # searches use the SQL engine meanwhile; say why
                log.exception("text index catch-up failed")

    threading.Thread(target=run, daemon=True, name="search-index").start()
    threading.Thread(target=text_index, daemon=True, name="text-index").start()
    return kick


def _start_faq_workers(store: Store) -> Workers | None:
    """FAQ workers in this process, when an LLM is configured and no separate workers run."""
    settings = get_settings()
    if not (settings.llm_configured and settings.llm_workers_in_serve):
        return None
    from coolpapers.llm.batch import start_workers

    log.info(
        "FAQ: %d conversations at most, model %s", settings.llm_concurrency, settings.llm_model
    )
    return start_workers(store, settings)


@app.command()
def faq(
    category: Annotated[str | None, typer.Option("--category", "-c", help="e.g. cs.CL")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="announcement day YYYY-MM-DD (default: latest)")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    concurrency: Annotated[
        int | None, typer.Option(help="conversations at once (COOLPAPERS_LLM_CONCURRENCY)")
    ] = None,
    regenerate: Annotated[bool, typer.Option(help="redo cached answers too")] = False,
    venue: Annotated[
        str | None, typer.Option(help="a venue edition instead, e.g. ACL.2024 (ACL: the latest)")
    ] = None,
) -> None:
    """Pre-generate the FAQ of a listing day (-c) or of a venue edition (--venue): progress
    bar, cached answers skipped, resumable."""
    from datetime import date as date_

    from coolpapers.llm.batch import run_batch
    from coolpapers.llm.prompts import LANGS

    settings = get_settings()
    if not settings.llm_configured:
        console.print(
            "[red]No LLM configured:[/] set COOLPAPERS_LLM_BASE_URL and COOLPAPERS_LLM_MODEL "
            "(and COOLPAPERS_LLM_API_KEY if the endpoint needs one)."
        )
        raise typer.Exit(1)
    if lang not in LANGS:
        raise typer.BadParameter(f"--lang is one of {', '.join(LANGS)}")
    if not category and not venue:
        raise typer.BadParameter("name a category (-c cs.CL) or a venue (--venue ACL.2024)")
    if concurrency:
        settings = settings.model_copy(update={"llm_concurrency": concurrency})
    when = date_.fromisoformat(day) if day else None
    store = _store()
    what = venue or f"{category} {day or 'latest day'}"
    with count_bar(f"FAQ {what} ({lang})", None) as bar:
        report = run_batch(
            store,
            settings,
            category or "",
            when,
            lang,
            regenerate=regenerate,
            progress=lambda done, total: bar.update(0, completed=done, total=total),
            venue=venue,
        )
    listing = report.edition or venue if venue else f"{category} {report.day or 'no day'}"
    console.print(
        f"[green]FAQ[/] {listing}: {report.listed} papers, "
        f"{report.cached} cached, {report.done} generated, {len(report.failed)} failed"
        + (" (rerun to retry them)" if report.failed else "")
    )


@app.command()
def enrich(
    category: Annotated[str | None, typer.Option("--category", "-c", help="e.g. cs.CL")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="announcement day YYYY-MM-DD (default: latest)")
    ] = None,
    venue: Annotated[
        str | None, typer.Option(help="a venue edition instead, e.g. ACL.2024 (ACL: the latest)")
    ] = None,
    tldr: Annotated[bool, typer.Option("--tldr", help="a one-sentence TL;DR per paper")] = False,
    translate: Annotated[
        list[str] | None,
        typer.Option("--translate", help="a language to translate into (zh, ja, ...); repeatable"),
    ] = None,
    fields: Annotated[
        str, typer.Option(help="what --translate translates: both (title and abstract) or abstract")
    ] = "both",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say how many calls and tokens it would take")
    ] = False,
    concurrency: Annotated[
        int | None, typer.Option(help="calls at once (COOLPAPERS_LLM_CONCURRENCY)")
    ] = None,
) -> None:
    """TL;DRs and translations of a listing day (-c) or a venue edition (--venue), computed
    ahead of readers as background work: progress bar, cached ones skipped, resumable, within
    the daily token budget (COOLPAPERS_LLM_DAILY_TOKEN_BUDGET)."""
    from datetime import date as date_

    from coolpapers.llm import texts
    from coolpapers.llm.batch import day_papers, edition_papers, run_enrich
    from coolpapers.llm.service import FaqService

    settings = get_settings()
    if not category and not venue:
        raise typer.BadParameter("name a category (-c cs.CL) or a venue (--venue ACL.2024)")
    if fields not in ("both", "abstract"):
        raise typer.BadParameter("--fields is both or abstract")
    try:
        tasks = texts.wanted(tldr, translate or [], fields)
    except ValueError as e:
        raise typer.BadParameter(f"--translate: {e}") from None
    if not tasks:
        raise typer.BadParameter("ask for --tldr and/or --translate LANG")
    if concurrency:
        settings = settings.model_copy(update={"llm_concurrency": concurrency})
    store = _store()
    if venue:
        what, papers = edition_papers(store, venue)
        what = what or venue
    else:
        when, papers = day_papers(store, category or "", date_.fromisoformat(day) if day else None)
        what = f"{category} {when or 'no day'}"
    if dry_run:
        service = texts.TextService(FaqService(store, settings))
        plan = texts.plan(service, papers, tasks)
        console.print(f"{what}: {plan['papers']} papers, model {settings.llm_model or '(none)'}")
        total = 0
        for name, t in plan["tasks"].items():
            tokens = t["prompt_tokens"] + t["completion_tokens"]
            total += tokens
            console.print(
                f"  {name}: {t['calls']} calls ({t['cached']} cached), about "
                f"{t['prompt_tokens']:,} prompt + {t['completion_tokens']:,} completion tokens",
                soft_wrap=True,
            )
        budget = settings.llm_daily_token_budget
        spent = service.spent(background=True)
        console.print(f"  in all about {total:,} tokens", soft_wrap=True)
        console.print(
            f"  spent today in the background: {spent:,}"
            + (f" of a budget of {budget:,}" if budget > 0 else " (no daily budget set)"),
            soft_wrap=True,
        )
        return
    if not settings.llm_configured:
        console.print(
            "[red]No LLM configured:[/] set COOLPAPERS_LLM_BASE_URL and COOLPAPERS_LLM_MODEL "
            "(or run `serve --local-llm`)."
        )
        raise typer.Exit(1)
    with count_bar(f"enrich {what}", None) as bar:
        report = run_enrich(
            store,
            settings,
            papers,
            tasks,
            progress=lambda done, total: bar.update(0, completed=done, total=total),
        )
    console.print(
        f"[green]enrich[/] {what}: {report.papers} papers, {report.cached} texts cached, "
        f"{report.done} written, {len(report.failed)} failed"
        + (" (rerun to retry them)" if report.failed else "")
        + (" - stopped: today's token budget is spent" if report.budget else "")
    )


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="conversations in this process")] = None,
) -> None:
    """Run FAQ workers (for deployments that serve with COOLPAPERS_LLM_WORKERS_IN_SERVE=false)."""
    from coolpapers.llm.batch import start_workers

    settings = get_settings()
    if not settings.llm_configured:
        console.print("[red]No LLM configured:[/] set COOLPAPERS_LLM_BASE_URL and _MODEL.")
        raise typer.Exit(1)
    pool = start_workers(_store(), settings, concurrency)
    console.print(f"FAQ worker {pool.owner}: {pool.slots} slots, model {settings.llm_model}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pool.stop()


@app.command()
def demo(
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
    local_llm: Annotated[
        bool,
        typer.Option("--local-llm/--no-local-llm", help="FAQ with a local model (llama.cpp)"),
    ] = True,
    model: Annotated[str | None, typer.Option(help="the local model's GGUF file")] = None,
) -> None:
    """Load the bundled real sample (if the database is empty) and serve it, with a local
    model for the FAQ unless COOLPAPERS_LLM_BASE_URL names an endpoint."""
    from coolpapers.sources.arxiv.files import import_files
    from coolpapers.sources.formats import VenueReport, import_venues, venue_format
    from coolpapers.sources.versions import link_versions

    store = _store()
    sample = resources.files("coolpapers.data").joinpath("sample")
    files = sorted(Path(str(sample)).glob("*.jsonl.gz"))
    total = sum(f.stat().st_size for f in files)
    with bytes_bar("loading the demo sample", total) as bar:
        report = import_files(store, files, progress=lambda n: bar.advance(0, n))
    # and real venue papers (sources/formats.py tells each file's format by its content)
    venues = VenueReport()
    found = [(f, venue_format(f)) for f in sorted(Path(str(sample.joinpath("venues"))).glob("*"))]
    import_venues(store, [(f, fmt[1]) for f, fmt in found if fmt is not None], venues)
    link_versions(store)
    console.print(
        f"demo sample: {store.count_papers()} papers ({report.stored} arXiv records read, "
        f"{venues.stored} venue papers)"
    )
    os.environ.setdefault("COOLPAPERS_FETCH_ON_DEMAND", "false")
    get_settings.cache_clear()
    serve(host="127.0.0.1", port=port, workers=1, watch=False, local_llm=local_llm, model=model)


if __name__ == "__main__":
    app()
