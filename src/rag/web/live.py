"""The pipeline the web chat answers with, swapped for a new one when a background build ends.

    live = LivePipeline.open(settings)       # at once: whatever index is on disk, no waiting
    live.current                             # the Pipeline to answer with, or None while none exists
    live.status()                            # Status: building / updating / ready / failed, with progress
    live.update_in_background()              # rebuild from the corpus (after an upload), then switch

A stale index (the corpus or chunking changed) keeps answering while the update runs; with no
usable index (none, corrupt, or built with other models: `answers_with`) the page is up at once
and says how far the build is. The switch is one assignment under a lock: a question takes
`current` once when it starts, so a question in flight finishes on the pipeline it began with.
A failed build is logged as one line and reported by `status()`; the pipeline that was serving
(if any) keeps serving.

The build embeds in its own thread with the same embedder objects the questions use: the
bundled e5 engine allocates its buffers per call and keeps no state between calls, and
serialising the two would make a question wait behind a batch of up to 64 passages (seconds).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..config import Settings
from ..embedding import Embedder, LazyEmbedder, load_embedder
from ..i18n import plural
from ..index import Index, current_index, rebuild_index
from ..index.model import one_line
from ..pipeline import Pipeline
from ..relevance import load_model
from ..stores import check_store

BUILDING, UPDATING, READY, FAILED = "building", "updating", "ready", "failed"


@dataclass(frozen=True)
class Status:
    """What the page says about the index it answers from.

    `state`: "building" (nothing to answer from yet), "updating" (answering from the previous
    index while a new one is built), "ready", or "failed" (no index; `error` says why).
    `done`/`total`: batches embedded so far / known so far in this build (`total` grows when
    the English helper model's pass starts); `seconds_left` is estimated from the rate so far
    (None before the first batch). `error`: the last build's failure in one line ("" after a
    success). `generation` counts the switches to a new index: the page refreshes its outline,
    title and examples when it changes.
    """

    state: str
    done: int = 0
    total: int = 0
    seconds_left: float | None = None
    error: str = ""
    documents: int = 0
    passages: int = 0
    generation: int = 0
    #: Which embedding pass runs (1-based) of how many (2 with an English helper model), and
    #: that pass's batches: shown as "pass 2 of 2: 3 of 8 batches", a figure that only grows
    #: (the overall `total` grows when a pass starts, so `done/total` alone seemed to go back).
    step: int = 0
    steps: int = 0
    step_done: int = 0
    step_total: int = 0

    @property
    def busy(self) -> bool:
        """True while a build runs."""
        return self.state in (BUILDING, UPDATING)


def answers_with(index: Index, settings: Settings, embedder: Embedder) -> bool:
    """Whether a stale index can still answer with these models: a changed corpus or chunking
    leaves its vectors usable, vectors from another embedder (or English helper) do not."""
    built = index.manifest.get("embedder") or {}
    if built.get("id") != embedder.id or built.get("dim") != embedder.dim:
        return False
    english = (index.manifest.get("english_embedder") or {}).get("model")
    return english is None or settings.english_model in (None, english)


class BuildProgress:
    """The `progress` callable `rebuild_index` takes: it wraps each iterable of batches (like
    tqdm) and counts them over every call of one build (e5, then the English helper)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, passes: int = 1):
        self._clock = clock
        self.done = self.total = 0
        self._started: float | None = None
        #: Passes expected (each `rebuild_index` embedding pass calls this once), passes started,
        #: and the current pass's batches done / in all.
        self.passes, self.step, self.step_done, self.step_total = passes, 0, 0, 0

    def __call__(self, batches: Iterable) -> Iterable:
        """Yield `batches`, counting each one as done once the next is asked for."""
        size = len(batches) if hasattr(batches, "__len__") else 0
        self.total += size
        self.step, self.step_done, self.step_total = self.step + 1, 0, size
        for batch in batches:
            if self._started is None:
                self._started = self._clock()
            yield batch
            self.done += 1
            self.step_done += 1

    def seconds_left(self) -> float | None:
        """The time the known batches still need at the rate of those done (None before any)."""
        if not self.done or self._started is None:
            return None
        return max(0.0, (self._clock() - self._started) / self.done * (self.total - self.done))


class LivePipeline:
    """The pipeline currently served, and the background build that replaces it. Thread-safe.

    `build` is `rebuild_index` (a test may pass a double); `warm_up(pipeline)` is asked once
    per new pipeline: before the switch when one already serves (no visitor meets a cold
    pipeline), after it when none does (the first answer comes as early as possible).
    """

    def __init__(self, settings: Settings, embedder: Embedder, english: Embedder | None = None,
                 pipeline: Pipeline | None = None, *, log: Callable[[str], None] = print,
                 build: Callable[..., Index] = rebuild_index,
                 warm_up: Callable[[Pipeline], None] | None = None, missing: str = ""):
        self.settings, self.embedder, self.english = settings, embedder, english
        self._pipeline = pipeline
        self._log, self._build, self._warm_up = log, build, warm_up
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._again = False
        self._progress = BuildProgress(passes=2 if self.english else 1)
        self._generation = 0
        #: Why the index on disk did not fit when this was opened ("" when it did).
        self.reason = ""
        # Why there is no pipeline, before any build was tried (an index that failed to load).
        self._error = "" if pipeline is not None else missing

    @classmethod
    def ready(cls, pipeline: Pipeline, **options) -> LivePipeline:
        """A live pipeline serving `pipeline` (tests, benchmarks: nothing to build)."""
        return cls(pipeline.settings, pipeline.embedder, pipeline.retriever.english_embedder, pipeline, **options)

    @classmethod
    def open(cls, settings: Settings, log: Callable[[str], None] = print, start: bool = True,
             **options) -> LivePipeline:
        """Load the models and the index on disk as it is, never waiting for a build. `.reason`
        says why that index does not fit ("" when it does); then, with `start`, the update
        begins in the background."""
        load_model(str(settings.relevance_model) if settings.relevance_model else None)  # fail before serving
        check_store(settings.stores.store)
        embedder = load_embedder(settings.model)
        english = LazyEmbedder(settings.english_model) if settings.english_model else None
        index, reason = current_index(settings, embedder)
        if index is not None and reason and not answers_with(index, settings, embedder):
            index = None   # its vectors mean nothing to these models: nothing to serve until rebuilt
        pipeline = Pipeline(settings, index, embedder, english) if index is not None else None
        live = cls(settings, embedder, english, pipeline, log=log, missing=reason, **options)
        live.reason = reason
        if reason and start:
            live.update_in_background()
        return live

    @property
    def current(self) -> Pipeline | None:
        """The pipeline to answer with now (None until a first index exists)."""
        return self._pipeline

    def status(self) -> Status:
        """The state, the build's progress and the index served; cheap (the page polls it)."""
        with self._lock:
            pipeline, running = self._pipeline, self._thread is not None
            counts = pipeline.index.manifest.get("counts", {}) if pipeline else {}
            if running:
                state = UPDATING if pipeline else BUILDING
            else:
                state = READY if pipeline else FAILED
            progress = self._progress
            return Status(state, progress.done if running else 0, progress.total if running else 0,
                          progress.seconds_left() if running else None, self._error,
                          counts.get("documents", 0), counts.get("chunks", 0), self._generation,
                          *((progress.step, max(progress.passes, progress.step), progress.step_done,
                             progress.step_total) if running else (0, 0, 0, 0)))

    def update_in_background(self) -> bool:
        """Rebuild the index from the corpus in a background thread, then switch to it.

        A call while a build runs asks for one more build after it (so a document added
        meanwhile is not missed) and returns False; True when a build thread started.
        """
        with self._lock:
            if self._thread is not None:
                self._again = True
                return False
            self._progress = BuildProgress(passes=2 if self.english else 1)
            self._thread = threading.Thread(target=self._run, name="rag-index-update", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no build runs (or `timeout` seconds pass); True when none runs."""
        with self._lock:
            return self._lock.wait_for(lambda: self._thread is None, timeout)

    def _run(self) -> None:
        while True:
            self._update_once()
            with self._lock:
                if not self._again:
                    self._thread = None
                    self._lock.notify_all()
                    return
                self._again = False
                self._progress = BuildProgress(passes=2 if self.english else 1)

    def _update_once(self) -> None:
        started = time.perf_counter()
        try:
            index = self._build(self.settings, self.embedder, self._log, self._progress, self.english)
            pipeline = Pipeline(self.settings, index, self.embedder, self.english)
            serving = self._pipeline is not None
            if serving and self._warm_up:
                self._warm_up(pipeline)
        except Exception as exc:  # a thread's exception would vanish; say it once, keep serving
            message = one_line(str(exc)) or type(exc).__name__
            with self._lock:
                self._error = message
            kept = "; still answering from the previous index" if self._pipeline is not None else ""
            self._log(f"Index update failed: {message}{kept}.")
            return
        with self._lock:
            self._pipeline, self._error = pipeline, ""
            self._generation += 1
        counts = index.manifest["counts"]
        self._log(f"Index ready: {plural(counts['documents'], 'document')}, {plural(counts['chunks'], 'passage')} "
                  f"({time.perf_counter() - started:.1f} s); the chat answers from it now.")
        if not serving and self._warm_up:
            try:
                self._warm_up(pipeline)
            except Exception as exc:  # the pipeline serves; a warm-up is only a head start
                self._log(f"Warm-up failed: {one_line(str(exc))}.")
