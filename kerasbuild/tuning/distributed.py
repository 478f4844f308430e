"""Distributed search on Keras Tuner's own chief/worker protocol (gRPC, ``KERASTUNER_*`` env).

One chief holds the oracle and hands out trials; workers (on this or other machines, sharing
the job's directory) build, train and report. Keras Tuner itself has no notion of a worker
that dies mid-trial: its trial stays "ongoing" for ever and the chief never finishes. Here:

- each worker sends a heartbeat (a ``GetTrial`` call) every few seconds while it runs a trial
  (:class:`Heartbeat`);
- the chief ends the trial of a worker it has not heard from for ``trial_timeout`` seconds as
  INVALID, so the oracle retries it (``max_retries_per_trial``) on another worker or fails it,
  and forgets that worker (:func:`end_silent_workers`), so the search completes;
- :func:`launch` (``kerasbuild tune JOB --workers N``) restarts a worker process that died,
  under the same tuner id; Keras Tuner then hands it the trial it was running.

A chief on its own exits once the oracle has stopped and every worker has been told so. Under
the launcher it serves until the launcher stops it (SIGTERM), so that a worker restarted late
still hears "no more trials" instead of waiting for a chief that has gone. A worker gives up on
a chief that does not answer for :data:`CHIEF_TIMEOUT_S` seconds with a located error.
"""

from __future__ import annotations

import copy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KerasbuildError
from .job import LoadedJob
from .results import SearchResults, collect_results, write_results

WORKER_RESTARTS = 2
"""How many times :func:`launch` restarts one worker process that died."""

CHIEF_TIMEOUT_S = 300.0
"""Seconds a worker waits for the chief to answer one request (at start, the chief may still be
starting) before it stops with an error instead of waiting for ever."""


def _set_env(tuner_id: str, host: str, port: int) -> None:
    os.environ["KERASTUNER_TUNER_ID"] = tuner_id
    os.environ["KERASTUNER_ORACLE_IP"] = host
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)


def heartbeat_interval(trial_timeout: float) -> float:
    """Seconds between heartbeats: four chances per timeout, at most every 10 s."""
    return min(10.0, trial_timeout / 4)


class Heartbeat:
    """Calls ``oracle.get_trial(trial_id)`` every ``interval`` seconds on a daemon thread
    until :meth:`stop`; a failed call is ignored (the next one may get through)."""

    def __init__(self, oracle: Any, trial_id: str, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(oracle, trial_id, interval),
            name=f"heartbeat-{trial_id}",
            daemon=True,
        )
        self._thread.start()

    def _run(self, oracle: Any, trial_id: str, interval: float) -> None:
        while not self._stop.is_set():
            try:
                oracle.get_trial(trial_id)
            except Exception:  # noqa: BLE001  (the chief may be busy or restarting; beat again)
                pass
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# ------------------------------------------------------------------------------------ chief
def _create_or_hold(oracle: Any, tuner_id: str) -> Any:
    """``oracle.create_trial(tuner_id)``, except that a worker is told to wait (IDLE) rather
    than to stop while other workers still run trials: if one of them dies, its trial comes
    back for retry and needs a worker to run it."""
    from keras_tuner.src.engine.oracle import synchronized
    from keras_tuner.src.engine.trial import Trial

    @synchronized
    def create(oracle: Any) -> Any:
        trial = oracle.create_trial(tuner_id)
        if trial.status == "STOPPED" and oracle.ongoing_trials:
            oracle.tuner_ids.add(tuner_id)  # create_trial forgot it on STOPPED
            return Trial(oracle.get_space(), status="IDLE")
        return trial

    return create(oracle)


def _servicer_class():
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    class WatchingServicer(OracleServicer):
        """Keras Tuner's servicer that also records when each worker was last heard from."""

        def __init__(self, oracle: Any) -> None:
            super().__init__(oracle)
            self.contact: dict[str, float] = {}

        def _seen_trial(self, trial_id: str) -> None:
            for tuner_id, trial in list(self.oracle.ongoing_trials.items()):
                if trial.trial_id == trial_id:
                    self.contact[tuner_id] = time.monotonic()

        def CreateTrial(self, request, context):  # noqa: N802  (gRPC method name)
            self.contact[request.tuner_id] = time.monotonic()
            trial = _create_or_hold(self.oracle, request.tuner_id)
            if trial.status == "STOPPED":
                self.stop_triggered = True
            return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

        def GetTrial(self, request, context):  # noqa: N802
            self._seen_trial(request.trial_id)
            return super().GetTrial(request, context)

        def UpdateTrial(self, request, context):  # noqa: N802
            self._seen_trial(request.trial_id)
            return super().UpdateTrial(request, context)

        def EndTrial(self, request, context):  # noqa: N802
            self._seen_trial(request.trial.trial_id)
            return super().EndTrial(request, context)

    return WatchingServicer


def end_silent_workers(
    oracle: Any, contact: dict[str, float], timeout: float, now: float
) -> list[str]:
    """End (as INVALID: retried or failed) the trial of every worker not heard from for
    ``timeout`` seconds and forget the worker; returns messages saying what was done."""
    from keras_tuner.src.engine.oracle import synchronized

    @synchronized
    def _end(oracle: Any) -> list[str]:
        done: list[str] = []
        try:
            for tuner_id in sorted(oracle.tuner_ids):
                last = contact.setdefault(tuner_id, now)
                if now - last <= timeout:
                    continue
                trial = oracle.ongoing_trials.get(tuner_id)
                if trial is not None:
                    ended = copy.copy(trial)
                    ended.status = "INVALID"
                    ended.message = (
                        f"worker {tuner_id} sent no heartbeat for {now - last:.0f} s "
                        f"(trial_timeout {timeout:g} s); presumed dead"
                    )
                    oracle.end_trial(ended)
                    status = oracle.trials[trial.trial_id].status
                    outcome = (
                        "it will be retried"
                        if status == "INVALID"
                        else f"it is {status} (no retries left)"
                    )
                    done.append(f"trial {trial.trial_id}: {ended.message}; {outcome}")
                else:
                    done.append(f"worker {tuner_id} silent for {now - last:.0f} s; forgotten")
                oracle.tuner_ids.discard(tuner_id)
                contact.pop(tuner_id, None)
        except Exception as exc:  # noqa: BLE001  (never leave the oracle lock held)
            done.append(f"could not end silent workers: {exc!r}")
        return done

    return _end(oracle)


def serve(
    oracle: Any,
    host: str,
    port: int,
    trial_timeout: float,
    *,
    poll: float = 0.5,
    until_stopped: bool = False,
) -> None:
    """Serve ``oracle`` to workers on ``host:port`` until the search is over (the oracle has
    stopped and every worker has been told), ending silent workers' trials meanwhile. With
    ``until_stopped``, serve on after that until SIGTERM or SIGINT (the launcher's stop)."""
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import exit_chief

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = _servicer_class()(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(f"{host}:{port}") == 0:
        raise KerasbuildError(
            f"the chief cannot listen on {host}:{port} (port in use?)", exit_code=2
        )
    stopped = threading.Event()
    previous = (
        {
            signum: signal.signal(signum, lambda *_: stopped.set())
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        if until_stopped
        else {}
    )
    server.start()
    print(f"chief: serving the oracle on {host}:{port}", flush=True)
    try:
        while not stopped.wait(poll):
            for message in end_silent_workers(
                oracle, servicer.contact, trial_timeout, time.monotonic()
            ):
                print(f"chief: {message}", flush=True)
            if not until_stopped and servicer.stop_triggered and exit_chief(oracle):
                break
    finally:
        server.stop(grace=1)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_chief(
    loaded_job: LoadedJob, port: int, *, host: str = "0.0.0.0", until_stopped: bool = False
) -> SearchResults:
    """``kerasbuild tune JOB --chief --port P``: hold the oracle, serve workers until the
    search is over (``until_stopped``: until SIGTERM), then write the results."""
    from .runner import build_tuner

    _set_env("chief", host, port)
    tuner = build_tuner(loaded_job)
    tuner.save()
    serve(tuner.oracle, host, port, loaded_job.job.trial_timeout, until_stopped=until_stopped)
    results = collect_results(loaded_job)
    write_results(loaded_job, results)
    return results


# ----------------------------------------------------------------------------------- worker
def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` -> ``(host, port)``; raises KerasbuildError (exit 2) otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise KerasbuildError(
            f"--oracle must be HOST:PORT (e.g. 10.0.0.5:8000), got {address!r}", exit_code=2
        )
    return host, int(port)


def check_worker_id(tuner_id: str) -> None:
    """A worker id names its state file (``PROJECT/ID.json``) and must not make it the chief:
    letters, digits, ``_`` and ``-``; not containing 'chief'; not 'oracle' or 'results'."""
    if (
        not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", tuner_id)
        or "chief" in tuner_id
        or tuner_id in ("oracle", "results")
    ):
        raise KerasbuildError(
            f"--worker: {tuner_id!r} cannot be a worker id; use letters, digits, _ and -, "
            "without 'chief' (Keras Tuner's chief) and other than 'oracle' or 'results' "
            "(files of the search), e.g. --worker hostb-0",
            exit_code=2,
        )


def run_worker(loaded_job: LoadedJob, tuner_id: str, oracle_address: str) -> None:
    """``kerasbuild tune JOB --worker ID --oracle HOST:PORT``: run trials the chief hands out
    until it says stop. ``ID`` must be unique per worker (and not contain 'chief')."""
    import grpc

    from .runner import build_tuner, search

    check_worker_id(tuner_id)
    host, port = parse_address(oracle_address)
    wait_for_chief(host, port, CHIEF_TIMEOUT_S)
    _set_env(tuner_id, host, port)
    try:
        tuner = build_tuner(loaded_job)
        tuner.oracle.stub = _WithDeadline(tuner.oracle.stub, CHIEF_TIMEOUT_S)
        tuner.heartbeat_interval = heartbeat_interval(loaded_job.job.trial_timeout)
        search(tuner, loaded_job)
    except grpc.RpcError as exc:
        raise _chief_gone(host, port, CHIEF_TIMEOUT_S, exc.code().name) from None


def wait_for_chief(host: str, port: int, timeout: float) -> None:
    """Return once the chief at ``host:port`` accepts connections; raise KerasbuildError
    (exit 1) after ``timeout`` seconds."""
    import grpc

    with grpc.insecure_channel(f"{host}:{port}") as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise _chief_gone(host, port, timeout, "no connection") from None


def _chief_gone(host: str, port: int, timeout: float, why: str) -> KerasbuildError:
    return KerasbuildError(
        f"the chief at {host}:{port} did not answer within {timeout:g} s ({why}): it has "
        "not started, has finished the search or has died. Start the chief (or check the "
        "address), then run this worker again: finished trials are kept",
        exit_code=1,
    )


class _WithDeadline:
    """Keras Tuner's OracleStub, each call given ``timeout`` seconds (Keras Tuner waits for
    ever: ``wait_for_ready=True`` and no deadline)."""

    def __init__(self, stub: Any, timeout: float) -> None:
        self._stub = stub
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", self._timeout)
            return method(*args, **kwargs)

        return call


# --------------------------------------------------------------------------------- launcher
def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Launched:
    """What :func:`launch` saw: the results, each worker's exit code and restarts, the logs."""

    results: SearchResults
    worker_exit_codes: dict[str, int]
    restarts: dict[str, int]
    log_dir: Path


def _tune_command(job_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "kerasbuild.cli", "tune", str(job_path), *args]


def _start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(process: subprocess.Popen, grace: float) -> int:
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def launch(loaded_job: LoadedJob, workers: int, *, poll: float = 0.5) -> Launched:
    """``kerasbuild tune JOB --workers N``: a chief and ``N`` workers on 127.0.0.1 (a free
    port), logs in ``PROJECT/logs/``. Restarts a worker that dies (at most
    :data:`WORKER_RESTARTS` times each), waits for the workers, stops the chief, writes the
    results."""
    if workers < 1:
        raise KerasbuildError(f"--workers must be at least 1, got {workers}", exit_code=2)
    port = free_port()
    log_dir = loaded_job.project_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    job_path = loaded_job.path.resolve()
    chief = _start(
        _tune_command(
            job_path, "--chief", "--port", str(port), "--host", "127.0.0.1", "--until-stopped"
        ),
        log_dir / "chief.log",
    )
    names = [f"worker{i}" for i in range(workers)]
    procs: dict[str, subprocess.Popen] = {}
    restarts = dict.fromkeys(names, 0)
    codes: dict[str, int] = {}

    def start_worker(name: str) -> None:
        procs[name] = _start(
            _tune_command(job_path, "--worker", name, "--oracle", f"127.0.0.1:{port}"),
            log_dir / f"{name}.log",
        )

    try:
        for name in names:
            start_worker(name)
        while len(codes) < workers:
            time.sleep(poll)
            for name in names:
                if name in codes or procs[name].poll() is None:
                    continue
                rc = procs[name].returncode
                if rc != 0 and chief.poll() is None and restarts[name] < WORKER_RESTARTS:
                    restarts[name] += 1
                    print(
                        f"launcher: {name} exited with {rc}; restarting it "
                        f"({restarts[name]}/{WORKER_RESTARTS})",
                        flush=True,
                    )
                    start_worker(name)
                else:
                    codes[name] = rc
            if chief.poll() is not None and chief.returncode != 0:
                raise KerasbuildError(
                    f"the chief exited with {chief.returncode}; see {log_dir / 'chief.log'}"
                )
    finally:
        for name, proc in procs.items():
            if name not in codes and proc.poll() is None:
                codes[name] = _stop(proc, 0)
        _stop(chief, grace=5)
    results = collect_results(loaded_job)
    write_results(loaded_job, results)
    return Launched(results, codes, restarts, log_dir)
