"""The analyzer: scans files, file-like objects and bytes, frames pushed from Python, and
requests over many clips; callbacks, cancellation and frame-by-frame iteration."""

from __future__ import annotations

import ctypes
import dataclasses
import io
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any, BinaryIO, Union

from . import _compat
from . import _types as T
from ._lib import api, check, strerror, text
from ._time import TimeLike, to_posix
from .config import Config, Zone, ZoneSpec
from .errors import CancelledError, InvalidArgumentError, StateError, error_for
from .request import Request
from .result import FrameScore, Result, Segment, _Handle, frame_from_report, segment_from_c

__all__ = ["Analyzer", "Progress", "FrameStream", "Source", "FrameCallback", "EventCallback",
           "ProgressCallback"]

#: What can be scanned: a path, bytes-like data in memory, or a binary file object.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO, IO[bytes]]


@dataclass(frozen=True)
class Progress:
    """Progress of the current clip: ``done``/``total`` frames (total 0 when unknown)."""

    clip: int
    clip_count: int
    done: int
    total: int

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total > 0 else None


#: Callbacks return None (or False) to go on, a true value to stop the scan (which then
#: raises CancelledError carrying the partial result). An exception raised inside one stops
#: the scan too and is re-raised by the call that ran it.
FrameCallback = Callable[[FrameScore], Any]
EventCallback = Callable[[str, Segment], Any]  # what: "started" or "ended"
ProgressCallback = Callable[[Progress], Any]

_SEEK_SIZE = 0x10000


class _Call:
    """State of one call into the library: its callbacks, clip names and first error."""

    def __init__(self, an: Analyzer, clip_paths: list[str],
                 on_frame: FrameCallback | None, on_event: EventCallback | None,
                 on_progress: ProgressCallback | None) -> None:
        self.an = an
        self.clip_paths = clip_paths
        self.on_frame = on_frame
        self.on_event = on_event
        self.on_progress = on_progress
        self.error: BaseException | None = None
        self.zones: list[str] = an.zones  # names of the reported zones, by index

    def clip_path(self, i: int) -> str:
        return self.clip_paths[i] if 0 <= i < len(self.clip_paths) else ""

    def fail(self, e: BaseException) -> int:
        """Records the first exception, cancels the whole call, asks the library to stop."""
        if self.error is None:
            self.error = e
        self.an.cancel()
        return 1


def _stop(rc: Any) -> int:
    return 1 if rc else 0


class Analyzer:
    """Scans clips with one set of options and zones (a copy of ``config``, or built from
    the keyword arguments: ``Analyzer(zones={"porch": "0.1,0.4,0.6,1"}, threshold=6)``).

    Use it as a context manager (or call :meth:`close`) to free it promptly. Calls on one
    analyzer from several threads are serialized; :meth:`cancel` may be called from any
    thread at any time.

    Callbacks (attributes, or constructor arguments):

    * ``on_frame(frame: FrameScore)`` for every analysed frame once its scores are final
      (``frame.plane`` is the analysis plane, valid during the call only);
    * ``on_event(what: "started" | "ended", segment: Segment)`` as events are found;
    * ``on_progress(progress: Progress)`` about every 0.25 s.

    They run on the calling thread, except during :meth:`run` (requests), where they may
    run on the library's worker threads (never two at once), and during :meth:`iter_frames`
    (a helper thread).
    """

    def __init__(self, config: Config | None = None, *,
                 zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None = None,
                 masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None = None,
                 zones_json: str | os.PathLike[str] | None = None,
                 on_frame: FrameCallback | None = None,
                 on_event: EventCallback | None = None,
                 on_progress: ProgressCallback | None = None,
                 **options: Any) -> None:
        self._h: ctypes.c_void_p | None = None
        own = config is None
        if config is None:
            cfg = Config(zones=zones, masks=masks, zones_json=zones_json, **options)
        elif zones is not None or masks is not None or zones_json is not None or options:
            cfg = config.copy()
            own = True
            for k, v in options.items():
                if v is not None:
                    cfg.set(k, v)
            from .config import normalize_zones
            for z in normalize_zones(zones, masks):
                cfg.add_zone(z.name, z.spec, exclude=z.exclude)
            if zones_json is not None:
                cfg.add_zones_json(zones_json)
        else:
            cfg = config
        h = ctypes.c_void_p()
        try:
            rc = api.vmo_analyzer_create(cfg._handle, ctypes.byref(h))
            check(rc, f"cannot create the analyzer: {strerror(rc)}" if rc else None)
            self.zones: list[str] = cfg.zone_names
        finally:
            if own:
                cfg.close()
        self._h = h
        self.on_frame = on_frame
        self.on_event = on_event
        self.on_progress = on_progress
        self._lock = threading.Lock()
        self._users: set[int] = set()  # threads inside a call (or reading a FrameStream)
        self._call: _Call | None = None
        # The C callbacks, alive as long as the analyzer: they dispatch to self._call.
        self._frame_fn = T.FRAME_FN(self._frame_trampoline)
        self._event_fn = T.EVENT_FN(self._event_trampoline)
        self._progress_fn = T.PROGRESS_FN(self._progress_trampoline)
        check(api.vmo_analyzer_set_progress_callback(h, self._progress_fn, None))

    # ---- lifetime ----
    @property
    def _handle(self) -> ctypes.c_void_p:
        if self._h is None:
            raise StateError("the analyzer is closed")
        return self._h

    def close(self) -> None:
        """Frees the analyzer (waits for a call running in another thread)."""
        if self._h is None:
            return
        if threading.get_ident() in self._users:
            raise StateError("cannot close the analyzer from its own callback or while a "
                             "FrameStream of it is open")
        with self._lock:
            if self._h is not None:
                api.vmo_analyzer_destroy(ctypes.byref(self._h))
                self._h = None

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._h is not None:
                api.vmo_analyzer_destroy(ctypes.byref(self._h))
                self._h = None
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<vidmotion.Analyzer zones={self.zones}{' closed' if self._h is None else ''}>"

    @property
    def last_error(self) -> str:
        """The library's detail of the last error on this analyzer."""
        return text(api.vmo_analyzer_last_error(self._handle)) or ""

    def cancel(self) -> None:
        """Asks the running scan or request to stop at its next frame (from any thread, or
        a signal handler). It then raises CancelledError with the partial result. The flag
        is cleared when the next scan starts."""
        h = self._h
        if h is not None:
            api.vmo_analyzer_cancel(h)

    # ---- trampolines (C -> Python) ----
    def _frame_trampoline(self, user: Any, report: Any) -> int:
        call = self._call
        if call is None or call.error is not None:
            return 1 if call is not None else 0
        try:
            fs = frame_from_report(report.contents, call.zones)
            try:
                return _stop(call.on_frame(fs)) if call.on_frame else 0
            finally:
                if fs.plane is not None:
                    fs.plane._valid = False
        except BaseException as e:  # noqa: B036 - must never propagate into C
            return call.fail(e)

    def _event_trampoline(self, user: Any, what: int, event: Any) -> int:
        call = self._call
        if call is None or call.error is not None:
            return 1 if call is not None else 0
        try:
            zones = call.zones
            seg = segment_from_c(event.contents,
                                 lambda z: zones[z] if 0 <= z < len(zones) else "frame",
                                 call.clip_path)
            return _stop(call.on_event(("started", "ended")[what], seg)) \
                if call.on_event else 0
        except BaseException as e:  # noqa: B036
            return call.fail(e)

    def _progress_trampoline(self, user: Any, clip: int, clip_count: int, done: int,
                             total: int) -> int:
        # Always installed: running Python here about every 0.25 s also lets Ctrl-C
        # (KeyboardInterrupt) stop a scan on the main thread.
        call = self._call
        if call is None or call.error is not None:
            return 1 if call is not None else 0
        try:
            if call.on_progress:
                return _stop(call.on_progress(Progress(clip, clip_count, done, total)))
            return 0
        except BaseException as e:  # noqa: B036
            return call.fail(e)

    # ---- calls ----
    def _enter(self, call: _Call) -> None:
        me = threading.get_ident()
        if me in self._users:
            raise StateError("this analyzer is already busy in this thread (called from its "
                             "own callback, or while a FrameStream of it is open)")
        self._lock.acquire()
        self._users.add(me)
        self._call = call
        h = self._handle
        try:
            check(api.vmo_analyzer_set_frame_callback(
                h, self._frame_fn if call.on_frame else T.FRAME_FN(), None))
            check(api.vmo_analyzer_set_event_callback(
                h, self._event_fn if call.on_event else T.EVENT_FN(), None))
        except BaseException:
            self._leave()
            raise

    def _leave(self) -> None:
        self._call = None
        self._users.discard(threading.get_ident())
        self._lock.release()

    def _new_call(self, clip_paths: list[str], on_frame: FrameCallback | None = None) -> _Call:
        return _Call(self, clip_paths, on_frame or self.on_frame, self.on_event,
                     self.on_progress)

    def _finish(self, call: _Call, rc: int, out: ctypes.c_void_p,
                detail: str | None = None) -> Result:
        """Turns (status, result pointer) into a Result or the right exception."""
        result = Result(out) if out else None
        if call.error is not None:
            err = call.error
            if result is not None and isinstance(err, Exception):
                err.add_note("vidmotion: the scan was stopped by this exception")
            raise err
        if rc == 0 and result is not None:
            return result
        if rc == 0:
            raise error_for(-25, "the library returned no result", strerror(-25))
        raise error_for(rc, detail if detail is not None else self.last_error, strerror(rc),
                        result)

    def _run(self, call: _Call, fn: Callable[[ctypes.c_void_p], int], *,
             sigint: bool = True) -> Result:
        out = ctypes.c_void_p()
        self._enter(call)
        try:
            try:
                with _SigintCancels(self) if sigint else _NoOp():
                    rc = fn(out)
            except KeyboardInterrupt:
                if out:
                    _Handle(out)  # frees the partial result at once
                raise
            detail = text(api.vmo_analyzer_last_error(self._handle))
        finally:
            self._leave()
        return self._finish(call, rc, out, detail)

    def scan(self, source: Source, *, name: str | None = None,
             on_frame: FrameCallback | None = None) -> Result:
        """Decodes and analyses one clip: a path, bytes-like data, or a binary file object
        (read through custom I/O; ``name`` labels it). Raises the Error of the failure
        (NotFoundError, EmptyInputError, NotMediaError, ...). A truncated clip is a result
        whose clip status says so."""
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            call = self._new_call([path], on_frame)
            return self._run(call, lambda out: api.vmo_analyzer_scan_file(
                self._handle, os.fsencode(path), ctypes.byref(out)))
        if isinstance(source, (bytes, bytearray, memoryview)):
            return self._scan_io(io.BytesIO(bytes(source)), name or "", on_frame)
        if hasattr(source, "read"):
            label = name if name is not None else str(getattr(source, "name", "") or "")
            return self._scan_io(source, label, on_frame)  # type: ignore[arg-type]
        raise TypeError(f"cannot scan {type(source).__name__}: expected a path, bytes or a "
                        "binary file object")

    def _scan_io(self, f: BinaryIO, name: str, on_frame: FrameCallback | None) -> Result:
        call = self._new_call([name], on_frame)

        def read(opaque: Any, buf: Any, size: int) -> int:
            try:
                target = memoryview((ctypes.c_uint8 * size).from_address(
                    ctypes.addressof(buf.contents))).cast("B")
                if hasattr(f, "readinto"):
                    n = f.readinto(target)
                    return n or 0
                data = f.read(size)
                ctypes.memmove(buf, data, len(data))
                return len(data)
            except BaseException as e:  # noqa: B036
                call.fail(e)
                return -1

        def seek(opaque: Any, offset: int, whence: int) -> int:
            try:
                if whence == _SEEK_SIZE:
                    try:
                        return os.fstat(f.fileno()).st_size
                    except (AttributeError, OSError, io.UnsupportedOperation):
                        pos = f.tell()
                        end = f.seek(0, os.SEEK_END)
                        f.seek(pos)
                        return end
                return f.seek(offset, whence)
            except BaseException as e:  # noqa: B036
                call.fail(e)
                return -1

        seekable = getattr(f, "seekable", lambda: False)()
        read_fn = T.IO_READ_FN(read)
        seek_fn = T.IO_SEEK_FN(seek) if seekable else T.IO_SEEK_FN()
        cio = T.sized(T.IO)
        cio.read = read_fn
        cio.seek = seek_fn
        return self._run(call, lambda out: api.vmo_analyzer_scan_io(
            self._handle, ctypes.byref(cio), os.fsencode(name), ctypes.byref(out)))

    def run(self, request: Request | Iterable[str | os.PathLike[str]]) -> Result:
        """Runs a request (or a list of paths): every clip in the order added, each with its
        own status (a clip that fails does not fail the request), events merged across
        contiguous clips, clips analysed in parallel (the ``jobs`` option)."""
        rq = request if isinstance(request, Request) else Request(request)
        call = self._new_call([c.path for c in rq.clips])
        call.zones = rq._reported_zones(self.zones)

        def fn(out: ctypes.c_void_p) -> int:
            h = rq._build()  # owned by the thread that runs the request
            try:
                return api.vmo_analyzer_run_request(self._handle, h, ctypes.byref(out))
            finally:
                api.vmo_request_destroy(ctypes.byref(h))

        if threading.current_thread() is not threading.main_thread():
            return self._run(call, fn)
        # On the main thread, the request runs on a helper thread while this one waits, so
        # that Ctrl-C is seen even when every callback runs on worker threads.
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["result"] = self._run(call, fn, sigint=False)
            except BaseException as e:  # noqa: B036
                box["error"] = e
            finally:
                done.set()

        with _SigintCancels(self):
            threading.Thread(target=work, name="vidmotion-request", daemon=True).start()
            while not done.wait(0.05):
                pass
        if "error" in box:
            raise box["error"]
        return box["result"]

    def index_file(self, path: str | os.PathLike[str]) -> Result:
        """Scans ``path`` and writes its motion index next to it (``path + ".vmoidx"``)."""
        p = os.fspath(path)
        call = self._new_call([p])
        return self._run(call, lambda out: api.vmo_analyzer_index_file(
            self._handle, os.fsencode(p), ctypes.byref(out)))

    def iter_frames(self, source: Source, *, planes: bool = False,
                    buffer: int = 256) -> FrameStream:
        """Iterates over per-frame scores as the scan runs (on a helper thread)::

            with an.iter_frames("clip.mp4") as frames:
                for f in frames:
                    print(f.t, f.changed)
            print(frames.result)

        ``planes=True`` attaches a copy of each analysis plane (``frame.plane``, a numpy
        array, or bytes without numpy). Leaving the loop early cancels the scan."""
        return FrameStream(self, source, planes=planes, buffer=buffer)

    # ---- push API ----
    def push(self, frame: Any, t: float | None = None, *, pts: int | None = None,
             time_base: Fraction | tuple[int, int] | None = None, key: bool = False,
             width: int | None = None, height: int | None = None,
             stride: int | None = None) -> None:
        """Analyses one frame the caller already has (no FFmpeg on this path).

        ``frame`` is an 8-bit luma (Y) plane: a 2-D uint8 numpy array (any row stride), or
        bytes / bytearray / memoryview with ``width`` and ``height`` (and ``stride``,
        default ``width``; a whole YUV 4:2:0 frame works too: only the Y plane is read).
        Its time is ``t`` seconds or ``pts`` in ``time_base`` units (default microseconds),
        increasing. Scores reach ``on_frame`` and events ``on_event`` as soon as final.
        """
        f = T.sized(T.Frame)
        keep: Any
        addr, keep, w, h, s = _luma_buffer(frame, width, height, stride)
        f.width, f.height, f.stride, f.luma = w, h, s, addr
        if pts is None:
            if t is None:
                raise TypeError("push() needs the frame's time: t (seconds) or pts")
            f.pts = round(t * 1_000_000)
        else:
            f.pts = pts
            if time_base is not None:
                tb = Fraction(*time_base) if isinstance(time_base, tuple) else Fraction(
                    time_base)
                f.time_base_num, f.time_base_den = tb.numerator, tb.denominator
        f.flags = 1 if key else 0
        call = self._new_call([""])
        self._enter(call)
        try:
            rc = api.vmo_analyzer_push_frame(self._handle, ctypes.byref(f))
            detail = text(api.vmo_analyzer_last_error(self._handle))
        finally:
            self._leave()
            del keep
        if call.error is not None:
            raise call.error
        if rc != 0:
            raise error_for(rc, detail or "", strerror(rc))

    def finish(self, name: str | None = None, wall_start: TimeLike | None = None) -> Result:
        """Ends the pushed stream and returns its result. ``name`` labels the clip,
        ``wall_start`` (datetime, naive = UTC, or POSIX seconds) is its wall-clock start."""
        call = self._new_call([name or ""])
        return self._run(call, lambda out: api.vmo_analyzer_push_finish(
            self._handle, name.encode() if name is not None else None, to_posix(wall_start),
            ctypes.byref(out)))


class _NoOp:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _SigintCancels:
    """During a call on the main thread, Ctrl-C (SIGINT) cancels the analyzer instead of
    raising KeyboardInterrupt inside a callback (where it could escape before the
    callback's own ``try``); KeyboardInterrupt is raised once the call has returned."""

    def __init__(self, an: Analyzer) -> None:
        self.an = an
        self.old: Any = None
        self.hit = False
        self.active = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.hit = True
        self.an.cancel()

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        old = signal.getsignal(signal.SIGINT)
        if not callable(old):
            return  # SIG_IGN / SIG_DFL / set from C: leave it alone
        self.old = old
        signal.signal(signal.SIGINT, self._handler)
        self.active = True

    def __exit__(self, *exc: object) -> None:
        if not self.active:
            return
        signal.signal(signal.SIGINT, self.old)
        if self.hit:
            self.old(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt


def _luma_buffer(frame: Any, width: int | None, height: int | None,
                 stride: int | None) -> tuple[int, Any, int, int, int]:
    """(address, object to keep alive, width, height, stride) of a luma plane, no copy
    when the memory allows it."""
    np = _compat.np
    if np is not None and isinstance(frame, np.ndarray):
        a = frame
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[:, :, 0]
        if a.ndim != 2 or a.dtype != np.uint8:
            raise InvalidArgumentError(f"a luma plane is a 2-D uint8 array, got {a.ndim}-D "
                                       f"{a.dtype}", reason="invalid argument")
        if a.strides[1] != 1 or a.strides[0] < a.shape[1]:
            a = np.ascontiguousarray(a)
        return a.ctypes.data, a, a.shape[1], a.shape[0], a.strides[0]
    if width is None or height is None:
        raise TypeError("push(): width and height are needed for a bytes-like frame")
    s = stride if stride is not None else width
    mv = memoryview(frame).cast("B") if not isinstance(frame, bytes) else None
    need = s * (height - 1) + width if height > 0 else 0
    size = len(frame) if mv is None else mv.nbytes
    if size < need:
        raise InvalidArgumentError(f"frame buffer of {size} bytes, {width}x{height} with "
                                   f"stride {s} needs {need}", reason="invalid argument")
    if isinstance(frame, bytes):
        cp = ctypes.c_char_p(frame)  # points into the bytes object: no copy
        return ctypes.cast(cp, ctypes.c_void_p).value or 0, (cp, frame), width, height, s
    assert mv is not None
    if mv.readonly:
        buf: Any = (ctypes.c_uint8 * size).from_buffer_copy(mv)
    else:
        buf = (ctypes.c_uint8 * size).from_buffer(mv)
    return ctypes.addressof(buf), (buf, mv), width, height, s


_END = object()


class FrameStream(Iterator[FrameScore]):
    """Per-frame scores of a scan running on a helper thread (see
    :meth:`Analyzer.iter_frames`). After the loop, ``result`` holds the scan's result.
    :meth:`close` (or leaving a ``with`` block) cancels the scan if it is still running."""

    def __init__(self, analyzer: Analyzer, source: Source, *, planes: bool = False,
                 buffer: int = 256, owns_analyzer: bool = False) -> None:
        self._an = analyzer
        self._owns = owns_analyzer
        self._q: queue.Queue[Any] = queue.Queue(maxsize=max(1, buffer))
        self._closed = threading.Event()
        self._finished = threading.Event()
        self.result: Result | None = None
        self._error: BaseException | None = None
        self._done = False
        self._consumer = threading.get_ident()
        self._planes = planes
        # Calls on the analyzer from the consumer thread while the stream is open would wait
        # for a scan that waits for the consumer: they raise StateError instead.
        analyzer._users.add(self._consumer)
        self._thread = threading.Thread(target=self._work, args=(source,),
                                        name="vidmotion-frames", daemon=True)
        self._thread.start()

    def _sink(self, fs: FrameScore) -> Any:
        user = self._an.on_frame
        if user is not None and user(fs):
            return True
        if self._planes and fs.plane is not None:
            fs = dataclasses.replace(fs, plane=fs.plane.copy())
        elif fs.plane is not None:
            fs = dataclasses.replace(fs, plane=None)
        while True:
            if self._closed.is_set():
                return True
            try:
                self._q.put(fs, timeout=0.1)
                return None
            except queue.Full:
                continue

    def _work(self, source: Source) -> None:
        try:
            try:
                result = self._scan(source)
                self._q_put_final((result, None))
            except BaseException as e:  # noqa: B036
                self._q_put_final((None, e))
        finally:
            self._finished.set()

    def _scan(self, source: Source) -> Result:
        return self._an.scan(source, on_frame=self._sink)

    def _q_put_final(self, item: tuple[Result | None, BaseException | None]) -> None:
        while True:
            if self._closed.is_set():
                self.result, self._error = item
                return
            try:
                self._q.put((_END, item), timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> FrameStream:
        return self

    def __next__(self) -> FrameScore:
        if self._done:
            raise StopIteration
        item = self._q.get()
        if isinstance(item, tuple) and len(item) == 2 and item[0] is _END:
            self._done = True
            self._thread.join()
            self._release()
            self.result, err = item[1]
            if err is not None:
                raise err
            raise StopIteration
        return item

    def _release(self) -> None:
        self._an._users.discard(self._consumer)
        if self._owns:
            self._an.close()

    def close(self) -> None:
        """Stops the scan if it still runs and waits for the helper thread."""
        if self._done:
            return
        self._closed.set()
        self._an.cancel()
        while not self._finished.is_set() or not self._q.empty():
            try:
                item = self._q.get(timeout=0.05)
            except queue.Empty:
                continue
            if isinstance(item, tuple) and len(item) == 2 and item[0] is _END:
                self.result, self._error = item[1]
        self._thread.join()
        self._done = True
        self._release()
        if isinstance(self._error, CancelledError):
            self.result = self._error.result
            self._error = None

    def __enter__(self) -> FrameStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
