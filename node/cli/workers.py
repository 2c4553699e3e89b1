"""`serve --workers N`: the parent process binds the socket once, forks N workers that serve on
it, restarts a worker that dies, and stops them all on SIGTERM or SIGINT.

`serve` calls `fork_workers` right after binding. In each worker the call returns, and the
worker goes on exactly as a single `serve` does: it opens the node, builds the app, runs uvicorn
on the shared socket, and closes its store when uvicorn stops. The parent never returns from
the call and never opens the store (a psycopg pool and its threads do not survive a fork).
docs/architecture.md says why this forks rather than using uvicorn's own supervisor.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from node.cli.opening import fail

if TYPE_CHECKING:
    from node.settings import Settings

log = logging.getLogger("circle_node.workers")

# A worker that dies is started again after a pause that doubles with each death in a row
# (from FIRST_PAUSE up to LAST_PAUSE), so that a worker that cannot start does not spin; one
# that served for STEADY seconds or more before it died starts the count again.
FIRST_PAUSE = 1.0
LAST_PAUSE = 30.0
STEADY = 60.0
# Seconds the parent gives its workers, once told to stop, to finish their requests and close
# their stores, before it kills those still running.
STOP_TIMEOUT = 60.0


def refuse_sqlite(settings: Settings) -> None:
    """Several workers need PostgreSQL: on SQLite there is no claim on the outbox nor a lease
    on the pulls, and the file's one writer makes them wait on each other. One line and exit 1,
    before anything starts."""
    if settings.workers > 1 and settings.database_url is None:
        raise fail(
            f"several workers need PostgreSQL ({settings.workers} asked for): set database_url "
            "(or CIRCLE_NODE_DATABASE_URL) to a postgresql:// URL, or serve with one worker"
        )


@dataclass(frozen=True)
class ThisWorker:
    """What `serve` needs to know of the worker it runs in: the function it calls once its node
    is open and it is about to serve, and the headers its responses carry (with several
    workers, `X-Worker` with the worker's pid, which a proxy can log: which worker answered)."""

    ready: Callable[[], None]
    headers: list[tuple[str, str]]


def fork_workers(listening: socket.socket, settings: Settings) -> ThisWorker:
    """With one worker (`settings.workers`), nothing happens: the caller is the worker. With
    several, the caller becomes their parent and never returns: it exits 0 once stopped by
    SIGTERM or SIGINT, or 1 if no worker could start. In each worker, this returns."""
    if settings.workers <= 1:
        return ThisWorker(ready=lambda: None, headers=[])
    from node.logs import configure as configure_logs

    configure_logs(sys.stderr, settings.log_level)
    supervisor = _Supervisor(listening, settings.workers)
    metrics = _before_forking()
    ready = supervisor.run()  # no `with` or `finally` around it: a worker returns through them
    if ready is not None:  # in a worker
        return ThisWorker(ready=ready, headers=[("X-Worker", str(os.getpid()))])
    _after_all_stopped(metrics)
    _exit_parent(supervisor)


def _before_forking() -> Path:
    """What the parent prepares for every worker before it forks the first: the one place for
    it. The metrics' directory (prometheus_client's multiprocess mode, node/http/metrics.py),
    made empty, and named in the environment that the workers inherit; returned, to be removed
    once they have all stopped."""
    from node.http.metrics import prepare_multiprocess

    directory = Path(tempfile.mkdtemp(prefix="circle-node-metrics-"))
    prepare_multiprocess(directory)
    return directory


def _after_all_stopped(metrics: Path) -> None:
    """What the parent removes once every worker has stopped: the metrics' directory."""
    shutil.rmtree(metrics, ignore_errors=True)


def _after_worker_exit(pid: int) -> None:
    """What the parent does once a worker has exited, before it starts another: the one place
    for it. The metrics only a live worker reports are dropped (its counts stay in the sums)."""
    from node.http.metrics import worker_exited

    worker_exited(pid)


def _exit_parent(supervisor: _Supervisor) -> NoReturn:
    supervisor.listening.close()
    if supervisor.failed_to_start:
        raise fail("no worker could start (the lines above say why)")
    raise typer.Exit(0)


@dataclass
class _Worker:
    """A running worker, seen from the parent: its pid, and the read end of a pipe that the
    worker writes one byte to once it is ready, and that reads as closed once it has exited."""

    pid: int
    pipe: int
    started: float
    is_ready: bool = False


@dataclass
class _Supervisor:
    listening: socket.socket
    count: int
    workers: list[_Worker] = field(default_factory=list)
    deaths_in_a_row: int = 0
    any_ready: bool = False
    failed_to_start: bool = False
    stopping: bool = False
    _parent: int = field(default_factory=os.getpid)
    _wake: tuple[int, int] = (-1, -1)  # the signals' wakeup pipe: read end, write end
    _alive_read: int = -1
    _alive_write: int = -1

    def run(self) -> Callable[[], None] | None:
        """In the parent: supervise until stopped, and return None. In a worker: return its
        `ready`."""
        # The workers hold the read end of this pipe; once the parent is gone (even after a
        # SIGKILL) it reads as closed, and each worker stops rather than serve unsupervised.
        self._alive_read, self._alive_write = os.pipe()
        with self._woken_by_signals() as wake:
            ready = self._start()  # the others follow one at a time, each once the last is ready
            if ready is not None:
                return ready
            while not self.stopping:
                ready = self._watch(wake)
                if ready is not None:
                    return ready
            self._stop_all()
        os.close(self._alive_read)
        os.close(self._alive_write)
        return None

    @contextlib.contextmanager
    def _woken_by_signals(self) -> Iterator[int]:
        """SIGTERM and SIGINT mark the parent as stopping, and wake its wait (a byte written
        to the wakeup pipe by Python's signal machinery)."""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)

        def stop(signum: int, frame: object) -> None:
            self.stopping = True

        before = {each: signal.signal(each, stop) for each in (signal.SIGTERM, signal.SIGINT)}
        previous_fd = signal.set_wakeup_fd(wake_write)
        self._wake = (wake_read, wake_write)
        try:
            yield wake_read
        finally:
            if os.getpid() == self._parent:
                signal.set_wakeup_fd(previous_fd)
                for each, handler in before.items():
                    signal.signal(each, handler)
                os.close(wake_read)
                os.close(wake_write)

    def _start(self) -> Callable[[], None] | None:
        ready_read, ready_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            return self._become_worker(ready_write)
        os.close(ready_write)
        self.workers.append(_Worker(pid, ready_read, time.monotonic()))
        log.info("worker %s started", pid)
        return None

    def _become_worker(self, ready_write: int) -> Callable[[], None]:
        """In the forked worker: let go of the parent's pipes and signal handlers, and hand
        back the function that tells the parent it is ready."""
        signal.set_wakeup_fd(-1)
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, signal.SIG_DFL)
        for fd in (self._alive_write, *self._wake, *(each.pipe for each in self.workers)):
            os.close(fd)
        # Ctrl-C in a terminal reaches its whole process group: in a group of their own, the
        # workers hear it from the parent only, once (SIGTERM).
        os.setpgid(0, 0)
        threading.Thread(target=_stop_with(self._alive_read), daemon=True).start()

        def ready() -> None:
            os.write(ready_write, b"r")  # the pipe stays open: it closes when the worker exits

        return ready

    def _watch(self, wake: int) -> Callable[[], None] | None:
        """Wait for a worker to be ready or to exit, or for a signal, and act on it."""
        pipes = {each.pipe: each for each in self.workers}
        readable, _, _ = select.select([wake, *pipes], [], [])
        if wake in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake, 64)
        for fd in readable:
            worker = pipes.get(fd)
            if worker is None or self.stopping:
                continue
            if os.read(fd, 1):
                worker.is_ready = self.any_ready = True
                if len(self.workers) < self.count:
                    # One at a time: the first to open a new store makes its tables, and two
                    # making them at once would conflict.
                    ready = self._start()
                    if ready is not None:
                        return ready
                continue
            ready = self._ended(worker)
            if ready is not None:
                return ready
        return None

    def _ended(self, worker: _Worker) -> Callable[[], None] | None:
        """A worker's pipe read as closed: it exited. Start another after a pause, or stop
        all if none has ever been ready (it could not start, and would not the next time)."""
        os.close(worker.pipe)
        _, status = os.waitpid(worker.pid, 0)
        self.workers.remove(worker)
        _after_worker_exit(worker.pid)
        if not self.any_ready:
            log.error("worker %s could not start (%s)", worker.pid, _how(status))
            self.failed_to_start = self.stopping = True
            return None
        lived = time.monotonic() - worker.started
        self.deaths_in_a_row = 1 if lived >= STEADY else self.deaths_in_a_row + 1
        pause = min(LAST_PAUSE, FIRST_PAUSE * 2 ** (self.deaths_in_a_row - 1))
        log.warning(
            "worker %s exited (%s); starting another in %.0f s", worker.pid, _how(status), pause
        )
        deadline = time.monotonic() + pause
        while not self.stopping and time.monotonic() < deadline:
            select.select([self._wake[0]], [], [], deadline - time.monotonic())
        if self.stopping:
            return None
        return self._start()

    def _stop_all(self) -> None:
        """SIGTERM to each worker (it finishes its requests, then closes its store), then wait
        for them; any still running after STOP_TIMEOUT is killed."""
        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.workers:
            while os.waitpid(worker.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    log.warning("worker %s did not stop in time; killing it", worker.pid)
                    os.kill(worker.pid, signal.SIGKILL)
                    os.waitpid(worker.pid, 0)
                    break
                time.sleep(0.1)
            os.close(worker.pipe)
        self.workers.clear()
        log.info("every worker has stopped")


def _stop_with(alive: int) -> Callable[[], None]:
    def watch() -> None:
        while os.read(alive, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    return watch


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
