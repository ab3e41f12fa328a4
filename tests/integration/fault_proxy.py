"""A small TCP proxy for fault injection (test_idempotence.py): it forwards every connection it
accepts to a target port and, while cutting is on, cuts all its live connections at random
moments. A cut is either a reset of both sides (SO_LINGER 0: RST, unsent bytes dropped) or a
truncation: the next chunk that arrives in either direction is forwarded only in part, then
both sides are closed, so the peer sees half a frame and then EOF.

With on_frame set, every Kafka frame (4-byte size, then the payload) that went through whole
is handed to on_frame(connection_id, direction, payload) in the proxy thread; direction is
"request" (client to target) or "response". A frame cut short by a truncation is not.

One selector thread does all the forwarding with non-blocking sockets; a second thread only
decides when to cut (a sleep there is the fault schedule, not a wait for a condition)."""
import random
import selectors
import socket
import struct
import threading
import time

_CHUNK = 256 * 1024
_BUF_LIMIT = 4 << 20  # stop reading a side while this much waits for the other one
_LINGER0 = struct.pack("ii", 1, 0)


class _Frames:
    """Splits one direction of a connection into Kafka frames."""

    def __init__(self):
        self.buf = bytearray()
        self.broken = False

    def feed(self, data):
        if self.broken:
            return []
        self.buf += data
        out = []
        while len(self.buf) >= 4:
            n = int.from_bytes(self.buf[:4], "big", signed=True)
            if n < 0 or n > 200 << 20:
                self.broken = True
                self.buf.clear()
                break
            if len(self.buf) < 4 + n:
                break
            out.append(bytes(self.buf[4:4 + n]))
            del self.buf[:4 + n]
        return out


class _Pipe:
    """One proxied connection: the client's socket and the one to the target."""

    def __init__(self, client, upstream, ident, sniff):
        self.ident = ident
        self.frames = {client: _Frames(), upstream: _Frames()} if sniff else None
        self.client = client
        self.upstream = upstream
        self.to_client = bytearray()
        self.to_upstream = bytearray()
        self.closed = False
        self.truncate_by = None  # monotonic deadline of a pending truncation cut
        self.events = {client: selectors.EVENT_READ, upstream: selectors.EVENT_READ}

    def other(self, sock):
        return self.upstream if sock is self.client else self.client

    def outbuf(self, sock):
        """Bytes waiting to be written to sock."""
        return self.to_client if sock is self.client else self.to_upstream


class FaultProxy:
    def __init__(self, target_port=None, host="127.0.0.1", seed=None,
                 min_interval=0.05, max_interval=0.3, truncate_fraction=0.3, on_frame=None):
        self.host = host
        self.on_frame = on_frame  # read at each accept: set it before the client connects
        self.target_port = target_port
        self.seed = seed if seed is not None else random.randrange(1 << 30)
        self.rng = random.Random(self.seed)
        self.min_interval, self.max_interval = min_interval, max_interval
        self.truncate_fraction = truncate_fraction
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._lock = threading.Lock()
        self._cut_requested = False
        self._stop = threading.Event()
        self._cutting = threading.Event()
        self._pipes = set()
        # Counters (read them from any thread; written by the proxy thread only).
        self.accepted = 0
        self.cuts = 0            # cut events that found at least one live connection
        self.resets = 0          # connections reset
        self.truncations = 0     # connections closed after a partial chunk
        self.connect_failures = 0
        self.on_frame_errors = []
        self._threads = []

    # ---- control ------------------------------------------------------------------------

    def start(self):
        assert self.target_port is not None, "set target_port first"
        self._sel.register(self.listener, selectors.EVENT_READ, "accept")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        for fn in (self._loop, self._cutter):
            t = threading.Thread(target=fn, daemon=True, name=f"fault-proxy-{fn.__name__}")
            t.start()
            self._threads.append(t)
        return self

    def start_cutting(self):
        self._cutting.set()

    def stop_cutting(self):
        self._cutting.clear()

    def cut_now(self):
        """Asks the proxy thread to cut every live connection."""
        with self._lock:
            self._cut_requested = True
        self._wake()

    def live_connections(self):
        with self._lock:
            return sum(1 for p in self._pipes if not p.closed)

    def stats(self):
        return {"seed": self.seed, "accepted": self.accepted, "cuts": self.cuts,
                "resets": self.resets, "truncations": self.truncations,
                "connect_failures": self.connect_failures,
                "on_frame_errors": len(self.on_frame_errors)}

    def close(self):
        self._stop.set()
        self._cutting.set()  # wakes the cutter
        self._wake()
        for t in self._threads:
            t.join(10)
        for p in list(self._pipes):
            self._close_pipe(p, reset=True)
        for s in (self.listener, self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass
        self._sel.close()

    # ---- threads --------------------------------------------------------------------------

    def _wake(self):
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass

    def _cutter(self):
        while not self._stop.is_set():
            self._cutting.wait()
            if self._stop.is_set():
                return
            # The fault schedule: a random pause, then a cut.
            time.sleep(self.rng.uniform(self.min_interval, self.max_interval))
            if self._cutting.is_set() and not self._stop.is_set():
                self.cut_now()

    def _loop(self):
        while not self._stop.is_set():
            timeout = 0.05 if any(p.truncate_by for p in self._pipes) else 0.5
            for key, events in self._sel.select(timeout):
                what = key.data
                if what == "accept":
                    self._accept()
                elif what == "wake":
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    pipe = what
                    if pipe.closed:
                        continue
                    if events & selectors.EVENT_WRITE:
                        self._flush(pipe, key.fileobj)
                    if not pipe.closed and events & selectors.EVENT_READ:
                        self._read(pipe, key.fileobj)
            with self._lock:
                cut, self._cut_requested = self._cut_requested, False
            if cut:
                self._cut_all()
            now = time.monotonic()
            for p in list(self._pipes):
                if p.truncate_by is not None and now >= p.truncate_by and not p.closed:
                    # Nothing flowed in time: a plain reset instead.
                    self.resets += 1
                    self._close_pipe(p, reset=True)

    # ---- proxy thread internals -----------------------------------------------------------

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            self.accepted += 1
            try:
                upstream = socket.create_connection((self.host, self.target_port), timeout=2)
            except OSError:
                self.connect_failures += 1
                self._abort(client)
                continue
            for s in (client, upstream):
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pipe = _Pipe(client, upstream, self.accepted, self.on_frame is not None)
            with self._lock:
                self._pipes.add(pipe)
            self._sel.register(client, selectors.EVENT_READ, pipe)
            self._sel.register(upstream, selectors.EVENT_READ, pipe)

    def _interest(self, pipe, sock):
        ev = 0
        if len(pipe.outbuf(pipe.other(sock))) < _BUF_LIMIT:
            ev |= selectors.EVENT_READ
        if pipe.outbuf(sock):
            ev |= selectors.EVENT_WRITE
        return ev

    def _update(self, pipe):
        for s in (pipe.client, pipe.upstream):
            ev = self._interest(pipe, s)
            have = pipe.events.get(s, 0)
            if ev == have:
                continue
            if not ev:
                self._sel.unregister(s)
            elif not have:
                self._sel.register(s, ev, pipe)
            else:
                self._sel.modify(s, ev, pipe)
            pipe.events[s] = ev

    def _read(self, pipe, sock):
        try:
            data = sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close_pipe(pipe, reset=False)
            return
        dst = pipe.other(sock)
        if pipe.truncate_by is not None:
            # Mid-frame cut: only part of this chunk goes through, then both sides close.
            keep = self.rng.randrange(0, len(data)) if len(data) > 1 else 0
            out = pipe.outbuf(dst)
            out += data[:keep]
            self._flush(pipe, dst, final=True)
            self.truncations += 1
            self._close_pipe(pipe, reset=False)
            return
        pipe.outbuf(dst).extend(data)
        if pipe.frames is not None and self.on_frame is not None:
            direction = "request" if sock is pipe.client else "response"
            for payload in pipe.frames[sock].feed(data):
                try:
                    self.on_frame(pipe.ident, direction, payload)
                except Exception as e:  # noqa: BLE001 - a test's parser must not stop the proxy
                    self.on_frame_errors.append(repr(e))
        self._flush(pipe, dst)

    def _flush(self, pipe, sock, final=False):
        buf = pipe.outbuf(sock)
        while buf:
            try:
                n = sock.send(buf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._close_pipe(pipe, reset=True)
                return
            del buf[:n]
        if not final and not pipe.closed:
            self._update(pipe)

    def _cut_all(self):
        with self._lock:
            live = [p for p in self._pipes if not p.closed and p.truncate_by is None]
        if not live:
            return
        self.cuts += 1
        for p in live:
            if self.rng.random() < self.truncate_fraction:
                p.truncate_by = time.monotonic() + 0.03
            else:
                self.resets += 1
                self._close_pipe(p, reset=True)

    def _abort(self, sock):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER0)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _close_pipe(self, pipe, reset):
        if pipe.closed:
            return
        pipe.closed = True
        for s in (pipe.client, pipe.upstream):
            if pipe.events.get(s):
                self._sel.unregister(s)
            pipe.events[s] = 0
            if reset:
                self._abort(s)
            else:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass
        with self._lock:
            self._pipes.discard(pipe)
