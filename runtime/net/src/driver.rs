//! The driver task: one per DC connection. It only reads, handles, drains the session's
//! polls, sleeps until `poll_timeout`, and reconnects with backoff when the connection dies.
//!
//! Loop of one connection ([`Driver::serve`]): drain `poll_transmit` into the codec's output
//! buffer, drain `poll_event` (completing the matching `invoke`), then wait for whichever
//! comes first: bytes from the socket (codec → frames → `handle_packet`), room to write,
//! a command from a handle (enqueue or cancel), the session's timer (`handle_timeout`), or
//! the idle deadline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mtproto_crypto::PrimeCache;
use mtproto_proto::handshake::KeyExchangeOutcome;
use mtproto_proto::session::{Event, RequestId, Session};
use mtproto_proto::transport::{Codec, Frame};
use rand::rngs::StdRng;
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::config::{ConnectConfig, StoredAuth, UnknownKeyPolicy};
use crate::connection::{Command, NetEvent, Shared};
use crate::error::{InvokeError, NetError};
use crate::link::{Link, READ_CHUNK};

/// An `invoke` waiting for its answer.
#[derive(Debug)]
struct Waiter {
    ticket: u64,
    reply: oneshot::Sender<Result<Vec<u8>, InvokeError>>,
}

/// How serving one connection ended.
enum Ended {
    /// The application closed the connection (or dropped every handle).
    Closed,
    /// The connection died; reconnect.
    Lost(NetError),
}

pub(crate) struct Driver {
    config: ConnectConfig,
    rng: StdRng,
    primes: PrimeCache,
    session: Session,
    commands: mpsc::UnboundedReceiver<Command>,
    waiters: HashMap<RequestId, Waiter>,
    tickets: HashMap<u64, RequestId>,
    shared: Arc<Shared>,
    events: mpsc::Sender<NetEvent>,
    /// The server does not know our key (-404): create a new one before the next session.
    need_key: bool,
    /// The current connection delivered at least one valid packet.
    healthy: bool,
    /// The session's time: Unix time that never steps back.
    clock: Clock,
}

impl Driver {
    // Crate-private, called once, by `Connection::connect`, which owns each of these.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: ConnectConfig,
        rng: StdRng,
        primes: PrimeCache,
        session: Session,
        commands: mpsc::UnboundedReceiver<Command>,
        shared: Arc<Shared>,
        events: mpsc::Sender<NetEvent>,
        clock: Clock,
    ) -> Self {
        Self {
            config,
            rng,
            primes,
            session,
            commands,
            waiters: HashMap::new(),
            tickets: HashMap::new(),
            shared,
            events,
            need_key: false,
            healthy: false,
            clock,
        }
    }

    /// Serves `first`, then reconnects after every loss until closed or out of attempts.
    pub(crate) async fn run(mut self, first: Link) {
        let mut link = Some(first);
        let mut attempt = 0u32;
        let mut last_error = None;
        let stop_error = loop {
            let current = match link.take() {
                Some(current) => current,
                None => {
                    attempt += 1;
                    if let Some(max) = self.config.reconnect.max_attempts {
                        if attempt > max {
                            break Some(NetError::GaveUp {
                                attempts: max,
                                last: Box::new(last_error.take().unwrap_or(NetError::Eof)),
                            });
                        }
                    }
                    let delay = self.config.reconnect.delay(attempt);
                    tracing::debug!(attempt, ?delay, "reconnecting");
                    if !self.wait(delay).await {
                        break None;
                    }
                    match self.reopen().await {
                        Ok(opened) => {
                            self.emit(NetEvent::Reconnected { attempts: attempt });
                            self.shared.lock().status.connections += 1;
                            opened
                        }
                        Err(error) => {
                            tracing::warn!(attempt, %error, "reconnection failed");
                            last_error = Some(error);
                            continue;
                        }
                    }
                }
            };
            self.shared.lock().status.connected = true;
            self.healthy = false;
            let ended = self.serve(current).await;
            self.shared.lock().status.connected = false;
            // Only a connection that carried a valid packet resets the backoff: a server that
            // accepts and then drops every connection still runs into `max_attempts`.
            if self.healthy {
                attempt = 0;
            }
            match ended {
                Ended::Closed => break None,
                Ended::Lost(error) => {
                    tracing::warn!(%error, unanswered = self.waiters.len(), "connection lost");
                    // Every unanswered request goes back to the queue, for a new msg_id.
                    self.session.connection_lost();
                    self.drain_events();
                    let unknown_key = error.is_unknown_key();
                    self.emit(NetEvent::Disconnected {
                        error: error.clone(),
                    });
                    last_error = Some(error);
                    if unknown_key && !self.decide_on_unknown_key().await {
                        break None;
                    }
                }
            }
        };
        if let Some(error) = &stop_error {
            tracing::warn!(%error, "connection closed");
        } else {
            tracing::debug!("connection closed by the application");
        }
        for (_, waiter) in self.waiters.drain() {
            let _ = waiter.reply.send(Err(InvokeError::Closed));
        }
        self.tickets.clear();
        {
            let mut state = self.shared.lock();
            state.status.closed = true;
            state.status.pending = 0;
        }
        self.emit(NetEvent::Closed { error: stop_error });
    }

    /// Sleeps for `delay` while still taking commands; `false` if the connection was closed.
    async fn wait(&mut self, delay: Duration) -> bool {
        let deadline = tokio::time::sleep(delay);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return true,
                command = self.commands.recv() => {
                    let Some(command) = command else { return false };
                    if !self.handle_command(command) {
                        return false;
                    }
                    self.publish();
                }
            }
        }
    }

    /// The server said it does not know our key (-404). Four unauthenticated bytes say so, and
    /// the key may carry a login: by default ([`UnknownKeyPolicy::Report`]) the application
    /// decides ([`NetEvent::AuthKeyUnknown`], then [`Command::CreateKey`] or close) while
    /// requests wait in the queue. `false` if the connection was closed meanwhile.
    async fn decide_on_unknown_key(&mut self) -> bool {
        if self.config.unknown_key == UnknownKeyPolicy::CreateNew {
            self.need_key = true;
            return true;
        }
        tracing::warn!(
            auth_key = ?self.session.auth_key(),
            "the server does not know our key: waiting for the application to decide"
        );
        self.shared.lock().status.key_unknown = true;
        self.emit(NetEvent::AuthKeyUnknown);
        loop {
            let Some(command) = self.commands.recv().await else {
                return false;
            };
            if let Command::CreateKey = command {
                self.shared.lock().status.key_unknown = false;
                self.need_key = true;
                return true;
            }
            if !self.handle_command(command) {
                return false;
            }
            self.publish();
        }
    }

    /// Opens a new connection and, when the key was refused, creates a new key.
    async fn reopen(&mut self) -> Result<Link, NetError> {
        let timeout = self.config.connect_timeout;
        let need_key = self.need_key;
        let config = &self.config;
        let rng = &mut self.rng;
        let primes = &mut self.primes;
        let clock = &self.clock;
        let opened = tokio::time::timeout(timeout, async move {
            let mut link = Link::open(config, rng).await?;
            let outcome = if need_key {
                Some(link.key_exchange(config, rng, primes, clock).await?)
            } else {
                None
            };
            Ok::<_, NetError>((link, outcome))
        })
        .await;
        let (link, outcome) = match opened {
            Ok(result) => result?,
            Err(_) => return Err(NetError::ConnectTimeout(timeout)),
        };
        if let Some(outcome) = outcome {
            self.install_key(outcome);
        }
        Ok(link)
    }

    /// Replaces the session with one over a new key, carrying every unanswered request over
    /// in its original order.
    fn install_key(&mut self, outcome: KeyExchangeOutcome) {
        let auth = StoredAuth {
            auth_key: outcome.auth_key,
            salt: outcome.first_salt,
            time_offset: outcome.time_offset,
        };
        tracing::info!(auth_key = ?auth.auth_key, "created a new authorization key");
        // Every unanswered request moves to the new key's session with its RequestId.
        self.session.rekey(
            auth.auth_key.clone(),
            auth.salt,
            auth.time_offset,
            self.rng.next_u64() as i64,
        );
        self.need_key = false;
        {
            let mut state = self.shared.lock();
            state.auth = auth;
            state.status.key_exchanges += 1;
        }
        self.emit(NetEvent::NewAuthKey);
    }

    /// Runs one connection until it dies or the application closes it.
    async fn serve(&mut self, link: Link) -> Ended {
        let Link {
            mut stream,
            mut codec,
        } = link;
        let (mut rd, mut wr) = stream.split();
        let mut out: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; READ_CHUNK];
        let mut last_received = Instant::now();
        // Arms the keepalive timer on the first connection; harmless afterwards.
        self.session.handle_timeout(self.clock.now());
        loop {
            // Take every command already queued first, so concurrent requests share a
            // container (and a request made right after connecting rides the first packet).
            while let Ok(command) = self.commands.try_recv() {
                if !self.handle_command(command) {
                    return Ended::Closed;
                }
            }
            let now = self.clock.now();
            while let Some(packet) = self.session.poll_transmit(now, &mut self.rng) {
                tracing::trace!(len = packet.len(), "sending a packet");
                if let Err(error) = codec.encode(&packet, &mut self.rng, &mut out) {
                    return Ended::Lost(error.into());
                }
            }
            self.drain_events();
            self.publish();
            let timer = self
                .session
                .poll_timeout()
                .map(|at| self.clock.instant_at(at));
            let idle = self.config.idle_timeout;
            tokio::select! {
                read = rd.read(&mut buf) => match read {
                    Ok(0) => {
                        codec.handle_eof();
                        return Ended::Lost(self.handle_frames(&mut codec).err().unwrap_or(NetError::Eof));
                    }
                    Ok(n) => {
                        last_received = Instant::now();
                        codec.handle_input(&buf[..n]);
                        if let Err(error) = self.handle_frames(&mut codec) {
                            return Ended::Lost(error);
                        }
                    }
                    Err(error) => return Ended::Lost(NetError::io(error)),
                },
                written = wr.write(&out), if !out.is_empty() => match written {
                    Ok(0) => return Ended::Lost(NetError::Eof),
                    Ok(n) => {
                        out.drain(..n);
                    }
                    Err(error) => return Ended::Lost(NetError::io(error)),
                },
                command = self.commands.recv() => {
                    let Some(command) = command else { return Ended::Closed };
                    if !self.handle_command(command) {
                        return Ended::Closed;
                    }
                },
                _ = sleep_until(timer) => self.session.handle_timeout(self.clock.now()),
                _ = sleep_until(idle.map(|d| last_received + d)) => {
                    return Ended::Lost(NetError::Idle(idle.unwrap_or_default()));
                }
            }
        }
    }

    /// Feeds every complete frame to the session.
    fn handle_frames(&mut self, codec: &mut Codec) -> Result<(), NetError> {
        while let Some(frame) = codec.poll_frame()? {
            let Frame::Packet { payload, .. } = frame else {
                continue;
            };
            if payload.len() >= 8 && payload[..8] == [0; 8] {
                tracing::warn!(
                    len = payload.len(),
                    "ignoring an unencrypted packet in an encrypted session"
                );
                continue;
            }
            match self.session.handle_packet(self.clock.now(), &payload) {
                Ok(()) => self.healthy = true,
                Err(mtproto_proto::session::SessionError::Decrypt) => {
                    return Err(NetError::Decrypt);
                }
                Err(error) => tracing::debug!(%error, "ignoring a server packet"),
            }
        }
        Ok(())
    }

    /// Applies a command; `false` means stop.
    fn handle_command(&mut self, command: Command) -> bool {
        match command {
            Command::Invoke {
                ticket,
                body,
                reply,
            } => {
                if reply.is_closed() {
                    return true;
                }
                let constructor = tl_wire::Reader::new(&body).peek_u32().unwrap_or(0);
                let len = body.len();
                let id = self.session.enqueue(body);
                tracing::debug!(
                    request = id.0,
                    constructor = format_args!("{constructor:#010x}"),
                    name = (self.config.constructor_names)(constructor).unwrap_or("?"),
                    len,
                    "request queued"
                );
                self.tickets.insert(ticket, id);
                self.waiters.insert(id, Waiter { ticket, reply });
            }
            Command::Cancel(ticket) => {
                if let Some(id) = self.tickets.remove(&ticket) {
                    tracing::debug!(request = id.0, "request cancelled");
                    self.session.cancel(id);
                    self.waiters.remove(&id);
                }
            }
            // Only meaningful while waiting for a decision on an unknown key.
            Command::CreateKey => {}
            Command::Close => return false,
        }
        true
    }

    /// Routes the session's events: answers to their `invoke`, the rest to [`NetEvent`]s.
    fn drain_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Response { id, result } => {
                    let Some(waiter) = self.waiters.remove(&id) else {
                        continue;
                    };
                    self.tickets.remove(&waiter.ticket);
                    tracing::debug!(
                        request = id.0,
                        ok = result.is_ok(),
                        len = result.as_ref().map_or(0, Vec::len),
                        "answer received"
                    );
                    let _ = waiter.reply.send(result.map_err(InvokeError::Rpc));
                }
                Event::Update { body } => self.emit(NetEvent::Update { body }),
                Event::NewSession { first_msg_id } => {
                    self.emit(NetEvent::NewSession { first_msg_id })
                }
                Event::BadAnswer { id, error } => {
                    tracing::warn!(request = id.0, %error, "an answer cannot be read");
                    if let Some(waiter) = self.waiters.remove(&id) {
                        self.tickets.remove(&waiter.ticket);
                        let _ = waiter.reply.send(Err(InvokeError::Decode(error)));
                    }
                }
                Event::Resent { id, reason } => {
                    tracing::debug!(request = id.0, ?reason, "request resent");
                    self.shared.lock().status.resent += 1;
                }
                Event::Failed { id, reason } => {
                    tracing::warn!(
                        request = id.0,
                        ?reason,
                        "the server keeps refusing a request"
                    );
                    if let Some(waiter) = self.waiters.remove(&id) {
                        self.tickets.remove(&waiter.ticket);
                        let _ = waiter.reply.send(Err(InvokeError::Refused(reason)));
                    }
                }
            }
        }
    }

    /// Publishes the salt, clock offset and pending count for the handles.
    fn publish(&self) {
        let mut state = self.shared.lock();
        state.auth.salt = self.session.salt();
        state.auth.time_offset = self.session.time_offset();
        state.status.pending = self.waiters.len();
    }

    fn emit(&self, event: NetEvent) {
        // Never log the event itself: an update's body may hold personal data.
        if let Err(mpsc::error::TrySendError::Full(_)) = self.events.try_send(event) {
            tracing::warn!("event channel full: dropping an event");
        }
    }
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
