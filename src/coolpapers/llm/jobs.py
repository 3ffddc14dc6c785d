"""The job queue in the database: one row per (paper, language, task) is THE truth of a
generation. Tasks: the FAQ ("faq") and the short texts of llm/texts.py (TL;DRs, translations),
which share the queue's leases, single flight and concurrency cap; background work has a
priority below zero, so every reader's request goes first.

- Single flight: the primary key makes a second enqueue a join; only `failed` (or an explicit
  regeneration) moves a row back to `pending`.
- Claims are serialised (SQLite's write lock; a PostgreSQL advisory lock) so that the global
  concurrency cap holds across worker processes: a claim takes the best pending job (highest
  priority, then oldest) or a running one whose lease ran out (its worker died).
- Everything a worker writes (chunks, the answer, failure) is conditional on still owning the
  lease for its attempt, so a worker that lost its lease can never overwrite the new owner.
- Readers are told when a worker died: a running row whose lease ran out reads as
  `restarting` (its partial text is not served), and a row retaken from a dead worker counts
  the restart (`restarts`), so readers can be told why the answer starts over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, text, update

from coolpapers.llm.schema import faq_answers, faq_chunks, faq_jobs
from coolpapers.store import Store

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
FAQ = "faq"  # the task of the FAQ's rows (and of every row before llm_0004)
# Never stored: what a reader is told about a RUNNING row whose lease ran out (its worker
# died, and no other worker has taken the job over yet).
RESTARTING = "restarting"
_CLAIM_LOCK = 0x46A0  # any constant: the PostgreSQL advisory lock id of claims


@dataclass(slots=True, frozen=True)
class Claim:
    paper_id: str
    lang: str
    attempt: int
    owner: str
    task: str = FAQ
    background: bool = False  # queued below every reader's request (priority < 0)


@dataclass(slots=True)
class JobStatus:
    state: str  # none | pending | running | restarting | done | failed
    attempt: int = 0
    position: int | None = None  # 1 = next to run (pending jobs only)
    error: str | None = None
    restarts: int = 0  # times this generation was taken over from a dead worker
    step: str | None = None  # what the running attempt is doing now (for readers)


class Refused(Exception):
    """`enqueue`'s `admit` said no: the job was not created (its transaction rolled back)."""


@dataclass(slots=True, frozen=True)
class Enqueued:
    state: str  # the row's state afterwards
    created: bool  # this call started the generation (inserted or reopened the row)


class JobQueue:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self.pg = store.dialect == "postgresql"

    # ---- readers' side -------------------------------------------------------------------

    def enqueue(
        self,
        paper_id: str,
        lang: str,
        priority: int,
        *,
        force: bool = False,
        admit: Callable[[Connection], bool] | None = None,
        task: str = FAQ,
    ) -> Enqueued:
        """Start or join the generation. A done row stays done (its answer is the cache)
        unless `force` (regeneration).

        `admit` runs in the same transaction, only when this call is the one that starts the
        generation (a joiner never reaches it): e.g. charging a rate limit. When it says no,
        nothing happened (the transaction rolls back) and `Refused` is raised. Deciding this
        inside the transaction is what makes it race-free: of many readers asking at once,
        exactly one inserts the row (the primary key serialises them), and only that one pays.
        """
        now = time.time()
        j = faq_jobs.c
        reopen = [FAILED, DONE] if force else [FAILED]
        with self.engine.begin() as conn:
            created = self.store.insert_new(
                conn,
                faq_jobs,
                {
                    "paper_id": paper_id,
                    "lang": lang,
                    "task": task,
                    "state": PENDING,
                    "priority": priority,
                    "enqueued": now,
                    "attempt": 0,
                    "restarts": 0,
                    "updated": now,
                },
                ["paper_id", "lang", "task"],
            )
            key = _job(faq_jobs, paper_id, lang, task)
            reopened = conn.execute(
                update(faq_jobs)
                .where(*key, j.state.in_(reopen))
                .values(
                    state=PENDING,
                    priority=priority,
                    enqueued=now,
                    error=None,
                    restarts=0,
                    updated=now,
                )
            ).rowcount
            created = created or reopened == 1
            if created and admit is not None and not admit(conn):
                raise Refused
            # A reader waiting on an old paper's job lifts it to its own priority.
            conn.execute(
                update(faq_jobs).where(*key, j.priority < priority).values(priority=priority)
            )
            state = conn.execute(select(j.state).where(*key)).scalar_one()
        return Enqueued(state, created)

    def status(self, paper_id: str, lang: str, task: str = FAQ) -> JobStatus:
        """The job as readers see it: a running row whose lease ran out is `restarting`."""
        j = faq_jobs.c
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(faq_jobs).where(*_job(faq_jobs, paper_id, lang, task)))
                .mappings()
                .first()
            )
            if row is None:
                return JobStatus("none")
            pos = None
            if row["state"] == PENDING:
                ahead = select(func.count()).where(
                    j.state == PENDING,
                    or_(
                        j.priority > row["priority"],
                        and_(j.priority == row["priority"], j.enqueued < row["enqueued"]),
                    ),
                )
                pos = int(conn.execute(ahead).scalar() or 0) + 1
            state = row["state"]
            if state == RUNNING and (row["lease_expires"] or 0) < time.time():
                # Its worker stopped renewing (killed, crashed): the text it streamed will be
                # thrown away by the next claim, so it is not shown as being written.
                state = RESTARTING
            step = row["step"] if state == RUNNING else None
            return JobStatus(state, row["attempt"], pos, row["error"], row["restarts"], step)

    def chunks(
        self, paper_id: str, lang: str, attempt: int, after: int, task: str = FAQ
    ) -> list[tuple[int, int, str]]:
        """(seq, turn, text) of the attempt's streamed text after `after`, in order."""
        c = faq_chunks.c
        q = (
            select(c.seq, c.turn, c.text)
            .where(*_job(faq_chunks, paper_id, lang, task), c.attempt == attempt, c.seq > after)
            .order_by(c.seq)
        )
        with self.engine.connect() as conn:
            return [(s, t, x) for s, t, x in conn.execute(q)]

    def pending(self) -> int:
        with self.engine.connect() as conn:
            q = select(func.count()).where(faq_jobs.c.state == PENDING)
            return int(conn.execute(q).scalar() or 0)

    # ---- workers' side -------------------------------------------------------------------

    def claim(self, owner: str, lease: float, limit: int, background: bool = True) -> Claim | None:
        """The next job for `owner`, or None (nothing to do, or `limit` conversations already
        run everywhere). `background` False: only readers' jobs (priority 0 and up), e.g.
        when the day's token budget is spent."""
        now = time.time()
        j = faq_jobs.c
        live = and_(j.state == RUNNING, j.lease_expires >= now)
        with self.engine.begin() as conn:
            self._lock(conn)
            running = conn.execute(select(func.count()).where(live)).scalar() or 0
            if running >= limit:
                return None
            q = (
                select(j.paper_id, j.lang, j.task, j.attempt, j.state, j.priority)
                .where(or_(j.state == PENDING, and_(j.state == RUNNING, j.lease_expires < now)))
                .order_by(j.priority.desc(), j.enqueued)
                .limit(1)
            )
            if not background:
                q = q.where(j.priority >= 0)
            row = conn.execute(q).first()
            if row is None:
                return None
            paper_id, lang, task, attempt, state, priority = row
            key = _job(faq_jobs, paper_id, lang, task)
            conn.execute(
                update(faq_jobs)
                .where(*key)
                .values(
                    state=RUNNING,
                    attempt=attempt + 1,
                    # taken over from a dead worker: readers are told why it starts over
                    restarts=j.restarts + (1 if state == RUNNING else 0),
                    lease_owner=owner,
                    lease_expires=now + lease,
                    updated=now,
                    step=None,
                )
            )
            # The text of an abandoned attempt is of no use to anyone.
            conn.execute(delete(faq_chunks).where(*_job(faq_chunks, paper_id, lang, task)))
        return Claim(paper_id, lang, attempt + 1, owner, task, priority < 0)

    def _lock(self, conn: Connection) -> None:
        if self.pg:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})
        else:
            # Take SQLite's write lock now, not at the UPDATE: the count and the pick above
            # must not interleave with another process's claim.
            conn.exec_driver_sql("UPDATE faq_jobs SET state = state WHERE 0")

    def renew(self, claim: Claim, lease: float, conn: Connection | None = None) -> bool:
        """Extend the lease; False when it was lost (expired and claimed by another worker)."""
        stmt = (
            update(faq_jobs)
            .where(*_mine(claim))
            .values(lease_expires=time.time() + lease, updated=time.time())
        )
        if conn is not None:
            return conn.execute(stmt).rowcount == 1
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount == 1

    def step(self, claim: Claim, step: str, lease: float) -> bool:
        """Say what the attempt is doing now (readers are shown it) and renew the lease;
        False when the lease was lost."""
        stmt = (
            update(faq_jobs)
            .where(*_mine(claim))
            .values(step=step[:500], lease_expires=time.time() + lease, updated=time.time())
        )
        with self.engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def append(self, claim: Claim, seq: int, turn: int, text_: str, lease: float) -> bool:
        """Persist streamed text (so every web worker can stream it) and renew the lease."""
        with self.engine.begin() as conn:
            if not self.renew(claim, lease, conn):
                return False
            conn.execute(
                faq_chunks.insert().values(
                    paper_id=claim.paper_id,
                    lang=claim.lang,
                    task=claim.task,
                    attempt=claim.attempt,
                    seq=seq,
                    turn=turn,
                    text=text_,
                )
            )
        return True

    def finish(
        self,
        claim: Claim,
        answer: dict[str, Any],
        table: Any = faq_answers,
        also: Callable[[Connection], None] | None = None,
    ) -> bool:
        """Store the complete answer (a row of `table`: faq_answers, or llm_texts) and mark
        the job done, atomically; `also` runs in the same transaction (usage counted)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(faq_jobs)
                .where(*_mine(claim))
                .values(
                    state=DONE, lease_owner=None, lease_expires=None, step=None, updated=time.time()
                )
            )
            if done.rowcount != 1:
                return False
            conn.execute(delete(table).where(*_key(table, claim)))
            conn.execute(table.insert().values(**answer))
            conn.execute(delete(faq_chunks).where(*_key(faq_chunks, claim)))
            if also is not None:
                also(conn)
        return True

    def fail(self, claim: Claim, error: str) -> bool:
        """Nothing partial is kept: the streamed text goes, the error stays for readers."""
        with self.engine.begin() as conn:
            res = conn.execute(
                update(faq_jobs)
                .where(*_mine(claim))
                .values(
                    state=FAILED,
                    error=error[:500],
                    lease_owner=None,
                    lease_expires=None,
                    step=None,
                    updated=time.time(),
                )
            )
            if res.rowcount != 1:  # lost the lease: the job is someone else's now
                return False
            conn.execute(delete(faq_chunks).where(*_key(faq_chunks, claim)))
        return True


def _job(table: Any, paper_id: str, lang: str, task: str = FAQ) -> tuple[Any, ...]:
    """The where-clause of one job's rows in `table` (faq_answers has no task column: its
    rows are all the FAQ's)."""
    where = (table.c.paper_id == paper_id, table.c.lang == lang)
    return (*where, table.c.task == task) if "task" in table.c else where


def _key(table: Any, claim: Claim) -> tuple[Any, ...]:
    return _job(table, claim.paper_id, claim.lang, claim.task)


def _mine(claim: Claim) -> tuple[Any, ...]:
    j = faq_jobs.c
    return (
        j.paper_id == claim.paper_id,
        j.lang == claim.lang,
        j.task == claim.task,
        j.state == RUNNING,
        j.attempt == claim.attempt,
        j.lease_owner == claim.owner,
    )
