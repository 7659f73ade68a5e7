// The protocol client's socket (client.js): one WebSocket at a time, and a
// new one whenever it ends.
//
//   - reconnect with jittered exponential backoff after any close but 4401
//     (signed out); a longer backoff after 4429 (too many sockets), and at
//     least a second's spread after the closes that drop everyone at once;
//   - a socket that went silent is given up and replaced: no frame within
//     `pingTimeout` of a ping (or `helloTimeout` of opening);
//   - `status` for the page: connecting, connected, reconnecting (with the
//     wait and why the last socket ended), offline, signed-out, closed.
// What the frames mean is the protocol client's: this module hands each one
// over parsed, and is told when `hello` arrived (greeted()). DOM-free: the
// WebSocket constructor, timers, clock and randomness are injected.

/** Delay before reconnect attempt `attempt` (0-based): a random point in the
 * upper half of min(max, base * 2^attempt), so a crowd of clients that lost
 * the same server does not come back in lockstep. */
export function backoffDelay(attempt, { base = 500, max = 15000 } = {}, random = Math.random) {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return cap / 2 + random() * (cap / 2);
}

/** Close codes (docs/protocol.md, "Close codes"), as `reason` in status events. */
export const CLOSE_REASONS = new Map([
  [1001, "going-away"], // the server is shutting down or restarting
  [1012, "restarting"], // the same, as uvicorn says it
  [4401, "signed-out"],
  [4408, "backlog"], // this socket did not read its frames fast enough
  [4413, "too-large"],
  [4429, "too-many-sockets"], // this user has too many open sockets
  [4503, "unavailable"], // the server cannot vouch for the stream
]);

export class Connection {
  /**
   * @param {object} options
   * @param {string} options.url                 ws(s)://host/ws/
   * @param {Function} [options.WebSocket]       constructor (default: globalThis.WebSocket)
   * @param {object} [options.timers]            {setTimeout, clearTimeout, setInterval, clearInterval}
   * @param {Function} [options.random]
   * @param {object} [options.backoff]           {base, max} in ms
   * @param {number} [options.pingInterval]      ms between pings (0: none)
   * @param {number} [options.pingTimeout]       ms after a ping without any frame before
   *                                             the socket counts as dead (0: never)
   * @param {number} [options.helloTimeout]      ms after opening a socket without any
   *                                             frame before it counts as dead (0: never)
   * @param {number} [options.stableAfter]       ms a connection must last after `hello`
   *                                             for the reconnect backoff to start over
   * @param {object} [options.crowdedBackoff]    {base, max} in ms, after close 4429
   * @param {Function} [options.now]             the clock, ms (default Date.now)
   * @param {object} on                          what the protocol client is told:
   * @param {Function} on.frame                  (frame) each frame received, parsed
   * @param {Function} on.status                 (state, extra) the state changed
   * @param {Function} on.dropped                () a socket ended, however
   */
  constructor(options, on) {
    this.url = options.url;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.timers = options.timers ?? globalThis;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? { base: 500, max: 15000 };
    this.pingInterval = options.pingInterval ?? 25000;
    this.pingTimeout = options.pingTimeout ?? 10000;
    this.helloTimeout = options.helloTimeout ?? 20000;
    this.stableAfter = options.stableAfter ?? 10000;
    this.crowdedBackoff = options.crowdedBackoff ?? { base: 10000, max: 60000 };
    this.now = options.now ?? (() => Date.now());
    this.on = on;
    this.state = "idle";
    this.attempt = 0;
    this.socket = null;
    this.retryAt = null;
    this.retryTimer = null;
    this.pingTimer = null;
    this.stopped = false;
    this.helloAt = null; // when this socket's hello arrived
    this.reason = null; // why the last socket ended (CLOSE_REASONS, "timeout")
    this.silenceTimer = null; // gives up a socket that stays silent
  }

  setState(state, extra = {}) {
    this.state = state;
    this.on.status(state, extra);
  }

  connect() {
    this.stopped = false;
    this.clearRetry();
    if (this.socket) return;
    // While reconnecting, the status keeps saying why the last socket ended.
    const reason = this.attempt === 0 ? null : this.reason;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", { retryAt: null, reason });
    const socket = new this.WebSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => this.socket === socket && this.receive(event.data);
    socket.onclose = (event) => this.socket === socket && this.closed(event.code ?? 1006);
    socket.onerror = () => {}; // a close follows every error
    // A handshake lost on a half-open route may hang for minutes.
    this.expectFrame(this.helloTimeout);
  }

  /** The server said `hello` on this socket: connected (`extra` goes with
   * the status), and pinged from now on. */
  greeted(extra = {}) {
    // The backoff starts over once this connection has lasted (closed()).
    this.helloAt = this.now();
    this.setState("connected", { retryAt: null, ...extra });
    this.startPing();
  }

  /** Drop the connection now (the browser went offline, or a test asks). */
  disconnect(state = "offline") {
    const socket = this.socket;
    this.socket = null;
    this.helloAt = null;
    this.reason = null;
    this.dropped();
    if (socket) {
      socket.onmessage = socket.onclose = null;
      try {
        socket.close();
      } catch {
        // already closing
      }
    }
    this.clearRetry();
    this.setState(state, { retryAt: null });
  }

  /** Stop for good (no reconnects). */
  close() {
    this.stopped = true;
    this.disconnect("closed");
  }

  /** Skip the backoff wait. */
  reconnectNow() {
    if (this.stopped) return;
    this.attempt = Math.max(this.attempt, 1);
    this.disconnect("reconnecting");
    this.connect();
  }

  clearRetry() {
    if (this.retryTimer != null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  /** What every end of a socket undoes: pings, the silence watch, and what
   * the protocol client holds for this socket (on.dropped). */
  dropped() {
    this.stopPing();
    this.stopSilenceWatch();
    this.on.dropped();
  }

  /** The socket closed (`code`), or went silent (code null, reason "timeout"):
   * reconnect after a backoff delay, except after 4401. */
  closed(code, reason = CLOSE_REASONS.get(code) ?? "disconnected") {
    const lived = this.helloAt == null ? null : this.now() - this.helloAt;
    this.socket = null;
    this.helloAt = null;
    this.reason = reason;
    this.dropped();
    if (code === 4401) {
      // Not authenticated (logged out, deactivated, token revoked): a
      // reconnect would be refused the same way.
      this.stopped = true;
      this.setState("signed-out", { retryAt: null, code, reason });
      return;
    }
    if (this.stopped) return;
    // Only a connection that lasted starts the backoff over: a server that
    // says hello and then closes at once (4503 while its database is down)
    // must not be hammered.
    if (lived != null && lived >= this.stableAfter) this.attempt = 0;
    // The server dropped many sockets at once (restart, lost stream): spread
    // their return over at least the first second.
    if (code === 1001 || code === 1012 || code === 4503) this.attempt = Math.max(this.attempt, 1);
    const backoff = code === 4429 ? this.crowdedBackoff : this.backoff;
    const delay = backoffDelay(this.attempt, backoff, this.random);
    this.attempt += 1;
    this.retryAt = this.now() + delay;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.setState("reconnecting", { retryAt: this.retryAt, delay, code, reason });
  }

  /** Give up a socket that stopped answering: a route that died without a
   * FIN (a NAT that forgot it, a sleeping laptop, a server frozen) leaves a
   * socket that never closes by itself. Reconnect as after a close. */
  silent() {
    const socket = this.socket;
    if (!socket) return;
    socket.onmessage = socket.onclose = null;
    try {
      socket.close();
    } catch {
      // already closing
    }
    this.closed(null, "timeout");
  }

  /** Expect a frame within `ms` (unless a wait is already running). */
  expectFrame(ms) {
    if (!ms || this.silenceTimer != null) return;
    this.silenceTimer = this.timers.setTimeout(() => {
      this.silenceTimer = null;
      this.silent();
    }, ms);
  }

  stopSilenceWatch() {
    if (this.silenceTimer != null) this.timers.clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
  }

  receive(text) {
    // Any frame at all proves the socket alive.
    this.stopSilenceWatch();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    this.on.frame(frame);
  }

  /** Send `frame` if connected (after `hello`); whether it went out. */
  transmit(frame) {
    if (!this.socket || this.state !== "connected") return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  startPing() {
    this.stopPing();
    if (!this.pingInterval) return;
    // A ping keeps idle proxies from cutting the socket, reveals a head
    // above our last seq (then the protocol client re-joins with since), and
    // proves the socket alive: without any frame within pingTimeout it is
    // given up.
    this.pingTimer = this.timers.setInterval(() => {
      if (this.transmit({ type: "ping" })) this.expectFrame(this.pingTimeout);
    }, this.pingInterval);
  }

  stopPing() {
    if (this.pingTimer != null) this.timers.clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}
