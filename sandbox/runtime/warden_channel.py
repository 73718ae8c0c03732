"""Framing on the kernel channel (docs/design.md, "Worker channel").

A frame is a 4-byte big-endian length N (1 <= N <= FRAME_MAX) and N bytes of a UTF-8 JSON object
with a string "t". Raw os.read/os.write on the fd: the socket module would cost start-up time and
buys nothing here.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import _json
import _thread
import os
import select
import threading

from warden_signals import INTERRUPTS

FRAME_MAX = 32 * 1024 * 1024
# Below malloc's mmap threshold: a bigger read buffer costs an mmap/munmap pair per read.
_READ_CHUNK = 64 * 1024


class _DecoderContext:
    """What json's C scanner reads from a JSONDecoder. The json package itself is not imported:
    it pulls in `re`, several ms of start-up; and its Python wrappers look up builtins (isinstance,
    len) at call time, which user code may have replaced."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity


_scan_once = _json.make_scanner(_DecoderContext())


def _not_json(obj):
    raise TypeError("not JSON serializable: %s" % type(obj).__name__)


def _encode_str(text, _ascii=_json.encode_basestring_ascii, _any=_json.encode_basestring):
    """A JSON string literal, the same characters whichever escaper makes it. For ASCII text the
    ASCII escaper is about 5x faster (CPython 3.11 reads every character of the other one
    through PyUnicode_READ; isascii() is a flag): 0.67 -> 0.14 ms for a 50 KB PNG's base64.
    DEL is the one ASCII character that only the ASCII escaper escapes."""
    if text.isascii() and "\x7f" not in text:
        return _ascii(text)
    return _any(text)


def encode_json(obj):
    """Compact JSON text; raises ValueError (NaN, circular) or TypeError (non-JSON value)."""
    encoder = _json.make_encoder({}, _not_json, _encode_str, None, ":", ",", False, False, False)
    return "".join(encoder(obj, 0))


def start_thread(func, *args):
    """Start a runtime thread. _thread rather than threading.Thread: start() waits for the new
    thread to run (about 1 ms each at start-up), and these threads need none of its machinery;
    they also stay out of threading.enumerate(), which is the user's business."""
    _thread.start_new_thread(func, args)


class ChannelClosed(Exception):
    """The kernel closed its end: the worker has no reason to live."""


def encode(frame):
    """Frame bytes, or None when the frame cannot be encoded (NaN, non-JSON values)."""
    try:
        body = encode_json(frame)
    except (ValueError, TypeError, RecursionError):
        return None
    # Lone surrogates (e.g. from surrogateescape'd text) are not valid UTF-8: replace them.
    data = body.encode("utf-8", "replace")
    return len(data).to_bytes(4, "big") + data


def encode_stream(exec_id, name, text):
    """A `stream_raw` frame: {"t":"stream_raw","id":exec_id,"name":name} and then the text as raw
    UTF-8 to the end of the frame (docs/design.md): nearly every byte a cell sends is stream
    text, and JSON-escaping it cost 31 instructions a byte (Python's C escaper), the kernel as
    much to undo. Lone surrogates become '?', as encode() makes them. exec_id is an int, name
    "stdout" or "stderr"."""
    head = b'{"t":"stream_raw","id":%d,"name":"%s"}' % (exec_id, name.encode())
    body = text.encode("utf-8", "replace")
    return (len(head) + len(body)).to_bytes(4, "big") + head + body


class Channel:
    def __init__(self, fd):
        self.fd = fd
        os.set_blocking(fd, True)  # writes must complete, never fail with EAGAIN
        self.write_lock = threading.RLock()
        self._buf = bytearray()
        self._skip = 0          # bytes of an oversized incoming frame still to discard
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self.closed = False

    def watch_hangup(self):
        """Exit as soon as the kernel closes its end, even while a cell is busy (a cell that
        never reads the channel would otherwise outlive its kernel)."""
        def watch():
            poll = select.poll()
            poll.register(self.fd, select.POLLRDHUP)  # not POLLIN: queued frames are not ours
            while True:
                try:
                    events = poll.poll()
                except InterruptedError:
                    continue
                if any(ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL)
                       for _, ev in events):
                    os._exit(0)

        start_thread(watch)

    # ---- writing -------------------------------------------------------------------------
    def send_bytes(self, data):
        """Write a whole encoded frame. Never interrupted half-way (see warden_signals)."""
        with self.write_lock, INTERRUPTS:
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self.fd, view)
                except InterruptedError:
                    continue
                except OSError:
                    # EPIPE/ECONNRESET: the kernel is gone. Nothing a cell still does can reach
                    # anyone, so stop now rather than when the main loop next reads.
                    os._exit(0)
                view = view[n:]
        return True

    # ---- reading -------------------------------------------------------------------------
    def recv(self, timeout=None):
        """Next well-formed frame (a dict with a str "t"). Malformed frames are skipped.

        Raises ChannelClosed on EOF. Returns None on timeout (seconds; None waits forever).
        The partial buffer survives a KeyboardInterrupt raised while waiting.
        """
        while True:
            frame = self._next_buffered()
            if frame is not None:
                return frame
            if not self._wait(timeout):
                return None
            self._fill()

    def _wait(self, timeout):
        ms = None if timeout is None else max(0, int(timeout * 1000))
        return bool(self._poll.poll(ms))

    def _fill(self):
        with INTERRUPTS:  # a KeyboardInterrupt between read and append would lose bytes
            try:
                data = os.read(self.fd, _READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self.closed = True
                raise ChannelClosed()
            if self._skip:
                dropped = min(self._skip, len(data))
                self._skip -= dropped
                data = data[dropped:]
            self._buf += data

    def _next_buffered(self):
        buf = self._buf
        while len(buf) >= 4:
            n = int.from_bytes(buf[:4], "big")
            if n == 0:
                del buf[:4]
                continue
            if n > FRAME_MAX:
                # Discard it but stay in step with the stream.
                dropped = min(n, len(buf) - 4)
                del buf[:4 + dropped]
                self._skip = n - dropped
                continue
            if len(buf) < 4 + n:
                return None
            body = bytes(buf[4:4 + n])
            del buf[:4 + n]
            frame = _decode(body)
            if frame is not None:
                return frame
        return None


def _decode(body):
    text = body.decode("utf-8", "replace").strip(" \t\r\n")
    try:
        frame, end = _scan_once(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(text):
        return None
    if isinstance(frame, dict) and isinstance(frame.get("t"), str):
        return frame
    return None
