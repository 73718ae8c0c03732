"""stdout/stderr capture and coalescing.

Two sources feed one ordered buffer (the Outbox):
- Python-level writes through OutStream objects installed as sys.stdout/sys.stderr;
- fd-level writes (subprocesses, os.system, C extensions): fds 1 and 2 are pipes drained by
  reader threads (FdCapture).
A flusher thread turns the buffer into `stream` frames at most every ~50 ms (or at once past
64 KiB), and every other frame flushes the buffer first, so output never overtakes a display,
result, error, input or done.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import codecs
import io
import os
import select
import threading
import time

import warden_outbuf
from warden_channel import FRAME_MAX, encode, encode_stream, start_thread
from warden_signals import INTERRUPTS

FLUSH_INTERVAL = 0.05
FLUSH_BYTES = 64 * 1024
# After output starts from idle, wait this long so that one print()'s text and "\n" writes (or a
# few quick lines) go out as one frame; live output still shows well within FLUSH_INTERVAL.
SETTLE = 0.01


class Outbox:
    """Ordered output buffer + the one path by which frames reach the channel."""

    def __init__(self, channel, log_fd):
        self.channel = channel
        self.log_fd = log_fd          # the worker's original stderr, for runtime diagnostics
        self.lock = channel.write_lock
        self.cond = threading.Condition(self.lock)
        self.last_flush = 0.0
        self.first_write = 0.0        # when the buffer last went from empty to non-empty
        self.exec_id = None           # id of the execute that output belongs to
        self.budget = None            # stream characters the kernel will show for it (None: all)
        self.sent = 0                 # stream characters sent for it
        self.captures = ()            # FdCaptures, drained before every flush
        # One lock for every capture, held from a pipe read to its text being buffered: a drain
        # finds a read in flight with one check instead of one per pipe.
        self.capture_lock = threading.Lock()
        self._reading = self.capture_lock.locked
        self._epoll = None
        self._ready = self._watch_and_poll  # poll(0) of the capture pipes; see drain()
        # The text itself, in write order, and the writes of OutStreams (warden_outbuf.c): its
        # poll_fd is the epoll set's fd, so a write checks the pipes as drain() does.
        self.buf = warden_outbuf.Buffer(FLUSH_BYTES, self.drain, self._reading,
                                        self._after_write, INTERRUPTS)

    @property
    def forked(self):
        """True in a forked child: its writes go straight to fds 1/2."""
        return bool(self.buf.forked)

    @forked.setter
    def forked(self, value):
        self.buf.forked = bool(value)

    @property
    def segments(self):
        """[[name, [text, ...]], ...] in write order (the buffer's own list)."""
        return self.buf.segments

    def start(self):
        start_thread(self._flusher)

    # ---- output text ---------------------------------------------------------------------
    def start_cell(self, exec_id, output_limit):
        """Output from now on belongs to `exec_id`. Past `output_limit` (bytes, from the kernel)
        stream text is not sent: the kernel would drop it after its truncation notice, and
        parsing a flood only to drop it would keep the kernel busy. A character is at least a
        byte, so what is sent always reaches the kernel's limit and its notice."""
        with self.lock:
            self.exec_id = exec_id
            valid = isinstance(output_limit, int) and not isinstance(output_limit, bool)
            self.budget = output_limit if valid and output_limit > 0 else None
            self.sent = 0

    def write(self, name, text):
        """Buffer `text` of stream `name` (a str) with no drain: the pipe readers' path, and
        OutStream's for what its C write() leaves to Python. A print's own path is the Writer
        of warden_outbuf.c, which does the same after the drain check.

        The append is one C call under the GIL, so it needs no lock and no INTERRUPTS section:
        a KeyboardInterrupt is raised before it (the text is not buffered, as if the signal had
        come just before the write) or after it (the text is kept). The lock orders frames on
        the channel, and take() swaps the buffer out in one step, so text appended while
        another thread sends lands in the next frame. The flusher is woken through a flag it
        sets itself (mark_idle_if_empty), so a wake-up lost to an interrupt is made by the next
        write. Sending frames (_flush_full) does enter INTERRUPTS: a frame must never be
        half-written."""
        if text.__class__ is not str:
            text = str.__str__(text)
        if self.buf.append(name, text):
            self._after_write()
        if INTERRUPTS._pending:
            # Output is a chance to raise an interrupt that was held back or swallowed (see
            # warden_signals), as the end of a critical section is.
            INTERRUPTS.deliver_pending()

    def _after_write(self):
        """A write filled the buffer to FLUSH_BYTES, or found the flusher asleep."""
        with self.lock:
            if self.buf.size >= FLUSH_BYTES:
                self._flush_full()
            elif self.buf.idle:
                self._wake_flusher()

    def _wake_flusher(self):
        self.buf.idle = False
        self.first_write = time.monotonic()
        self.cond.notify()

    def _flush_full(self):
        with INTERRUPTS:
            self._flush_locked()

    def drain(self):
        """Move what the fd pipes hold now into the buffer: fd-level output written before a
        Python write is never overtaken by it. Runs before every Python-level write, so it is
        one epoll_wait(0) on both pipes when they are empty (about 0.4 us in the jail; poll(2)
        on two fds was 0.6 us, select() on fresh lists 4.5 us)."""
        try:
            ready = self._ready(0)
        except (OSError, ValueError):  # the epoll set was closed by a rebuild meanwhile
            self.pipes_changed()
            ready = True
        if ready:
            self._drain_ready()
        if self._reading():
            self._wait_for_reader()

    def _drain_ready(self):
        # Rare (fd-level output is waiting): an interrupt between a pipe read and the buffering
        # of its text would lose the bytes, so this part is a critical section.
        with INTERRUPTS:
            for cap in self.captures:
                cap.drain()

    def _wait_for_reader(self):
        # An empty pipe may mean a reader thread took the bytes and has not buffered them yet:
        # it holds capture_lock from read to buffer, so wait for it.
        with self.capture_lock:
            pass

    def _watch_and_poll(self, timeout):
        """drain()'s poll after pipes_changed(): (re)build the epoll set of the capture pipes,
        make its poll the one drain() calls, and poll it."""
        with self.capture_lock:  # one rebuild at a time (threads print too)
            self.buf.poll_fd = -2
            if self._epoll is not None:
                self._epoll.close()
                self._epoll = None
            fds = [c.rfd for c in self.captures if c.rfd is not None]
            if not fds:
                self._ready = _nothing_ready
                self.buf.poll_fd = -1
                return ()
            self._epoll = _high_epoll()
            for fd in fds:
                self._epoll.register(fd, select.EPOLLIN)
            self._ready = self._epoll.poll
            self.buf.poll_fd = self._epoll.fileno()
        return self._ready(timeout)

    def pipes_changed(self):
        """A capture pipe was made or went away: drain() rebuilds its epoll set (and the C
        write leaves every write to the Python path until it has)."""
        self.buf.poll_fd = -2
        self._ready = self._watch_and_poll

    def flush(self):
        """Send everything written so far (fd-level output included)."""
        self.drain()
        with INTERRUPTS, self.lock:
            self._flush_locked()

    def _flush_locked(self):
        segs = self.buf.take()
        if not segs:
            return
        self.last_flush = time.monotonic()
        for name, parts in segs:
            text = "".join(parts)
            if self.exec_id is None:
                # Output before the first execute (e.g. during preload) belongs to no cell.
                self._log(text)
                continue
            for i in range(0, len(text), FLUSH_BYTES):
                if self.budget is not None and self.sent > self.budget:
                    break  # past the kernel's limit: dropped here, not there
                piece = text[i:i + FLUSH_BYTES]
                self.sent += len(piece)
                self._send_stream(name, piece)

    def _flusher(self):
        with self.lock:
            while True:
                while self.buf.mark_idle_if_empty():
                    self.cond.wait()
                due = max(self.last_flush + FLUSH_INTERVAL, self.first_write + SETTLE)
                delay = due - time.monotonic()
                if delay > 0:
                    self.cond.wait(delay)
                    continue  # re-check: a 64 KiB write or another frame may have flushed
                try:
                    self._flush_locked()
                except Exception as exc:  # never let the flusher die
                    self._log("warden: flusher: %r\n" % (exc,))

    # ---- other frames --------------------------------------------------------------------
    def send(self, frame):
        """Send a non-stream frame, after all output written before it."""
        if self.forked:
            return
        self.drain()
        with INTERRUPTS, self.lock:
            self._flush_locked()
            self._send(frame)

    def _send_stream(self, name, text):
        if type(self.exec_id) is int:  # always, from the worker; else the general encoder says
            self.channel.send_bytes(encode_stream(self.exec_id, name, text))
        else:
            self._send({"t": "stream", "id": self.exec_id, "name": name, "text": text})

    def _send(self, frame):
        data = encode(frame)
        if data is None or len(data) > FRAME_MAX:
            why = "could not be encoded" if data is None else "exceeds the 32 MiB frame limit"
            if frame.get("t") in ("display", "result"):
                self._send({"t": "stream", "id": frame.get("id"), "name": "stderr",
                            "text": "warden: rich output %s; only text/plain is shown\n" % why})
            data = encode(_shrink(frame, why))
            if data is None:
                self._log("warden: dropped unencodable %r frame\n" % (frame.get("t"),))
                return
        self.channel.send_bytes(data)

    def _log(self, text):
        try:
            os.write(self.log_fd, text.encode("utf-8", "replace"))
        except OSError:
            pass


def _nothing_ready(timeout):
    return ()


def _shrink(frame, why):
    """A frame the kernel will accept in place of one that is too big (or not JSON at all)."""
    if frame.get("t") in ("display", "result"):
        data = frame.get("data")
        plain = data.get("text/plain") if isinstance(data, dict) else None
        if not isinstance(plain, str) or len(plain) > (1 << 20):
            plain = "[warden: output %s; not shown]" % why
        return dict(frame, data={"text/plain": plain}, metadata={})
    out = {}
    for key, value in frame.items():
        if isinstance(value, str):
            value = value[:1 << 20]
        elif isinstance(value, list):
            value = [v[:1 << 16] if isinstance(v, str) else v for v in value[:1000]]
        out[key] = value
    return out


class OutStream(io.TextIOBase):
    """sys.stdout / sys.stderr replacement feeding the Outbox."""

    def __init__(self, outbox, name, fd):
        super().__init__()
        self._outbox = outbox
        self._name = name
        self._fd = fd
        self._buffer = None
        # print() looks `write` up on the instance first: the C write, with no Python frame.
        self.write = outbox.buf.writer(name, self._write_slow)

    @property
    def name(self):
        return "<%s>" % self._name

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "replace"

    def write(self, s):
        """The instance's C write (set in __init__), for a call through the class."""
        return self.__dict__["write"](s)

    def _write_slow(self, s):
        """What the C write leaves to Python: a str subclass or not a str, a forked child, a
        capture pipe set being rebuilt."""
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        outbox = self._outbox
        if s and not outbox.forked:
            outbox.drain()  # fd-level output already in the pipes was written before this
            outbox.write(self._name, s)
        elif s:
            # In a forked child the channel is not ours: go through the fd pipe to the parent.
            _write_fd(self._fd, s.encode("utf-8", "replace"))
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        # An explicit flush sends now, so `print(..., flush=True)` right before a crash is not
        # lost. Progress bars that flush on every update cost a frame each; the kernel merges
        # stream frames itself, so iopub still sees a few messages per second.
        self._outbox.flush()

    def close(self):
        # `sys.stdout.close()` must not silence the rest of the session.
        pass

    @property
    def closed(self):
        return False

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        return self._fd

    @property
    def buffer(self):
        if self._buffer is None:
            self._buffer = _BinaryWriter(self)
        return self._buffer


class _BinaryWriter(io.RawIOBase):
    """sys.stdout.buffer: bytes decoded as UTF-8 (bad bytes become U+FFFD)."""

    def __init__(self, text_stream):
        super().__init__()
        self._text = text_stream
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def writable(self):
        return True

    def write(self, b):
        b = bytes(b)
        text = self._decoder.decode(b)
        if text:
            self._text.write(text)
        return len(b)

    def fileno(self):
        return self._text.fileno()


def _high_pipe():
    """A pipe whose ends are above the standard fds: when fd 1/2 was closed, pipe() would hand
    out that very number. Nothing leaks when fds run out half-way."""
    import fcntl
    low = os.pipe()
    high = []
    try:
        for fd in low:
            high.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
    except OSError:
        for fd in high:
            os.close(fd)
        raise
    finally:
        for fd in low:
            os.close(fd)
    return high


def _high_epoll():
    """An epoll object whose fd is above the standard fds, for the same reason as _high_pipe:
    made after user code closed fd 1, it would take that number, and FdCapture.ensure() would
    find fd 1 open and leave the cell's stdout an epoll fd."""
    import fcntl
    low = select.epoll()
    try:
        high = fcntl.fcntl(low.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
    finally:
        low.close()
    return select.epoll.fromfd(high)


def _write_fd(fd, data):
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


class FdCapture:
    """Make fd `fd` a pipe whose contents become stream text `name`.

    Reads happen under a lock so that a drain from the main thread (before a Python-level
    write or a frame) and the reader thread never reorder chunks.
    """

    def __init__(self, outbox, fd, name):
        self.outbox = outbox
        self.fd = fd
        self.name = name
        self.lock = outbox.capture_lock
        self.rfd = None
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def start(self):
        rfd, wfd = _high_pipe()
        os.set_blocking(rfd, False)
        os.dup2(wfd, self.fd)        # inheritable: subprocesses write into the pipe
        os.close(wfd)
        self.rfd = rfd
        self.outbox.pipes_changed()
        start_thread(self._reader, rfd)

    def ensure(self):
        """Re-create the pipe if user code closed fd 1/2 (a replaced fd is left alone)."""
        try:
            os.fstat(self.fd)
        except OSError:
            self.start()

    def _reader(self, rfd):
        poll = select.poll()
        poll.register(rfd, select.POLLIN)
        while True:
            try:
                poll.poll()
            except InterruptedError:
                continue
            if not self._read_available(rfd):
                break
        # Every writer is gone (user code closed the fd): ensure() makes a new pipe.
        with self.lock:
            if self.rfd == rfd:
                self.rfd = None
                self.outbox.pipes_changed()
            os.close(rfd)

    def drain(self):
        rfd = self.rfd
        if rfd is not None:
            self._read_available(rfd)

    def _read_available(self, rfd):
        """Read what the pipe holds now. False on EOF."""
        with self.lock:
            if rfd != self.rfd:
                return False  # closed (and the number maybe reused): not ours any more
            while True:
                try:
                    data = os.read(rfd, 65536)
                except (BlockingIOError, InterruptedError):
                    return True
                except OSError:
                    return False
                if not data:
                    return False
                text = self.decoder.decode(data)
                if text:
                    self.outbox.write(self.name, text)
                if len(data) < 65536:
                    return True
