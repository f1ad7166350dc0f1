//! The driver task: one per DC connection. It only moves bytes and time between the socket
//! and the sans-IO [`ClientEndpoint`], routes answers to their `invoke`, and reconnects with
//! backoff when the connection dies.
//!
//! Loop of one connection ([`Driver::serve`]): drain `poll_transmit` into the output buffer,
//! drain `poll_event` (completing the matching `invoke`), then wait for whichever comes
//! first: bytes from the socket (`handle_input`), room to write, a command from a handle
//! (enqueue or cancel), or the endpoint's timer (`handle_timeout`: keepalive, salts, idle).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mtproto_proto::endpoint::{ClientEndpoint, ClientEvent, ConnectionError};
use mtproto_proto::session::{Event, RequestId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::config::{ConnectConfig, UnknownKeyPolicy};
use crate::connection::{Command, NetEvent, Shared};
use crate::error::{InvokeError, NetError};
use crate::link::{open_stream, READ_CHUNK};

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
    endpoint: ClientEndpoint,
    commands: mpsc::UnboundedReceiver<Command>,
    waiters: HashMap<RequestId, Waiter>,
    tickets: HashMap<u64, RequestId>,
    shared: Arc<Shared>,
    events: mpsc::Sender<NetEvent>,
    /// The endpoint's time: Unix time that never steps back.
    clock: Clock,
}

impl Driver {
    pub(crate) fn new(
        config: ConnectConfig,
        endpoint: ClientEndpoint,
        commands: mpsc::UnboundedReceiver<Command>,
        shared: Arc<Shared>,
        events: mpsc::Sender<NetEvent>,
        clock: Clock,
    ) -> Self {
        Self {
            config,
            endpoint,
            commands,
            waiters: HashMap::new(),
            tickets: HashMap::new(),
            shared,
            events,
            clock,
        }
    }

    /// Serves `first`, then reconnects after every loss until closed or out of attempts.
    pub(crate) async fn run(mut self, first: TcpStream) {
        let mut stream = Some(first);
        let mut attempt = 0u32;
        let mut last_error = None;
        let stop_error = loop {
            let current = match stream.take() {
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
            let ended = self.serve(current).await;
            self.shared.lock().status.connected = false;
            // Only a connection that carried a valid packet resets the backoff: a server that
            // accepts and then drops every connection still runs into `max_attempts`.
            if self.endpoint.is_healthy() {
                attempt = 0;
            }
            match ended {
                Ended::Closed => break None,
                Ended::Lost(error) => {
                    tracing::warn!(%error, unanswered = self.waiters.len(), "connection lost");
                    // Every unanswered request goes back to the queue, for a new msg_id.
                    self.endpoint.connection_lost();
                    self.drain_events();
                    // With PFS a lost temporary key is replaced by the endpoint itself; a
                    // refused bind means the permanent key is the one the server lost.
                    let unknown_key = (error.is_unknown_key()
                        && !self.endpoint.recovers_unknown_key())
                        || matches!(
                            &error,
                            NetError::Connection(e) if e.is_unknown_perm_key()
                        );
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
        let failure = match &stop_error {
            Some(error) => {
                InvokeError::GaveUp(crate::error::GaveUp(std::sync::Arc::new(error.clone())))
            }
            None => InvokeError::Closed,
        };
        for (_, waiter) in self.waiters.drain() {
            let _ = waiter.reply.send(Err(failure.clone()));
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
            self.endpoint.replace_key();
            return true;
        }
        tracing::warn!("the server does not know our key: waiting for the application to decide");
        self.shared.lock().status.key_unknown = true;
        self.emit(NetEvent::AuthKeyUnknown);
        loop {
            let Some(command) = self.commands.recv().await else {
                return false;
            };
            if let Command::CreateKey = command {
                self.shared.lock().status.key_unknown = false;
                self.endpoint.replace_key();
                return true;
            }
            if !self.handle_command(command) {
                return false;
            }
            self.publish();
        }
    }

    /// Opens a new TCP connection (a key exchange, when needed, runs inside `serve`).
    async fn reopen(&mut self) -> Result<TcpStream, NetError> {
        let timeout = self.config.connect_timeout;
        let stream = match tokio::time::timeout(timeout, open_stream(&self.config)).await {
            Ok(result) => result?,
            Err(_) => return Err(NetError::ConnectTimeout(timeout)),
        };
        self.endpoint.connect(self.clock.now())?;
        Ok(stream)
    }

    /// A key exchange finished: publish the key to persist.
    fn key_created(&mut self) {
        if let Some(auth) = self.endpoint.auth() {
            let mut state = self.shared.lock();
            state.auth = auth;
            state.status.key_exchanges += 1;
            state.status.wire_key_id = self.endpoint.wire_key_id();
        }
        self.emit(NetEvent::NewAuthKey);
    }

    /// Runs one connection until it dies or the application closes it.
    async fn serve(&mut self, mut stream: TcpStream) -> Ended {
        let (mut rd, mut wr) = stream.split();
        let mut out: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            // Take every command already queued first, so concurrent requests share a
            // container (and a request made right after connecting rides the first packet).
            while let Ok(command) = self.commands.try_recv() {
                if !self.handle_command(command) {
                    return Ended::Closed;
                }
            }
            if let Err(error) = self.endpoint.poll_transmit(self.clock.now(), &mut out) {
                return Ended::Lost(error.into());
            }
            self.drain_events();
            self.publish();
            let timer = self
                .endpoint
                .poll_timeout()
                .map(|at| self.clock.instant_at(at));
            tokio::select! {
                read = rd.read(&mut buf) => match read {
                    Ok(0) => return Ended::Lost(self.endpoint.handle_eof(self.clock.now()).into()),
                    Ok(n) => {
                        if let Err(error) = self.endpoint.handle_input(self.clock.now(), &buf[..n]) {
                            return Ended::Lost(error.into());
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
                _ = sleep_until(timer) => {
                    if let Err(error) = self.endpoint.handle_timeout(self.clock.now()) {
                        return Ended::Lost(error.into());
                    }
                }
            }
        }
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
                let id = self.endpoint.enqueue(body);
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
                    self.endpoint.cancel(id);
                    self.waiters.remove(&id);
                }
            }
            // Only meaningful while waiting for a decision on an unknown key.
            Command::CreateKey => {}
            Command::Close => return false,
        }
        true
    }

    /// Routes the endpoint's events: answers to their `invoke`, the rest to [`NetEvent`]s.
    fn drain_events(&mut self) {
        while let Some(event) = self.endpoint.poll_event() {
            let event = match event {
                ClientEvent::KeyCreated => {
                    self.key_created();
                    continue;
                }
                ClientEvent::TempKeyCreated { key_id } => {
                    tracing::debug!(
                        temp_key_id = format_args!("{key_id:#x}"),
                        "temporary key created"
                    );
                    self.shared.lock().status.key_exchanges += 1;
                    continue;
                }
                ClientEvent::Session(event) => event,
            };
            match event {
                Event::Response { id, result } => {
                    tracing::debug!(
                        request = id.0,
                        ok = result.is_ok(),
                        len = result.as_ref().map_or(0, Vec::len),
                        "answer received"
                    );
                    self.complete(id, result.map_err(InvokeError::Rpc));
                }
                Event::BadAnswer { id, error } => {
                    tracing::warn!(request = id.0, %error, "an answer cannot be read");
                    self.complete(id, Err(InvokeError::Decode(error)));
                }
                Event::Update { body } => self.emit(NetEvent::Update { body }),
                Event::Bound => {
                    let temp_key_id = self.endpoint.wire_key_id().unwrap_or(0);
                    tracing::info!(
                        temp_key_id = format_args!("{temp_key_id:#x}"),
                        "temporary key bound"
                    );
                    {
                        let mut state = self.shared.lock();
                        state.status.temp_keys_bound += 1;
                        state.status.wire_key_id = Some(temp_key_id);
                    }
                    self.emit(NetEvent::TempKeyBound { temp_key_id });
                }
                Event::BindRefused { error } => {
                    tracing::warn!(%error, "the temporary key's bind was refused");
                }
                Event::NewSession { first_msg_id } => {
                    self.emit(NetEvent::NewSession { first_msg_id })
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
                    self.complete(id, Err(InvokeError::Refused(reason)));
                }
            }
        }
    }

    /// Hands a request's outcome to its `invoke`, if it still waits.
    fn complete(&mut self, id: RequestId, outcome: Result<Vec<u8>, InvokeError>) {
        if let Some(waiter) = self.waiters.remove(&id) {
            self.tickets.remove(&waiter.ticket);
            let _ = waiter.reply.send(outcome);
        }
    }

    /// Publishes the salt, clock offset and pending count for the handles.
    fn publish(&self) {
        let mut state = self.shared.lock();
        if let Some(auth) = self.endpoint.auth() {
            state.auth.salt = auth.salt;
            state.auth.time_offset = auth.time_offset;
        }
        state.status.pending = self.waiters.len();
    }

    fn emit(&self, event: NetEvent) {
        // Never log the event itself: an update's body may hold personal data.
        if let Err(mpsc::error::TrySendError::Full(_)) = self.events.try_send(event) {
            tracing::warn!("event channel full: dropping an event");
        }
    }
}

impl From<ConnectionError> for NetError {
    fn from(error: ConnectionError) -> Self {
        match error {
            ConnectionError::Transport(e) => NetError::Transport(e),
            ConnectionError::KeyExchange(e) => NetError::KeyExchange(e),
            ConnectionError::Decrypt => NetError::Decrypt,
            ConnectionError::Idle(d) => NetError::Idle(d),
            ConnectionError::Eof => NetError::Eof,
            other => NetError::Connection(other),
        }
    }
}

/// Runs the first connection until the endpoint has a key (a key exchange, unless the
/// configuration brought one). `Connection::connect` bounds it with its timeout.
pub(crate) async fn establish(
    endpoint: &mut ClientEndpoint,
    clock: &Clock,
    stream: &mut TcpStream,
) -> Result<(), NetError> {
    endpoint.connect(clock.now())?;
    let (mut rd, mut wr) = stream.split();
    let mut buf = vec![0u8; READ_CHUNK];
    // With a key, nothing is sent yet: the first packet goes out from the driver's loop,
    // with whatever requests came meanwhile.
    while endpoint.needs_key() {
        let mut out = Vec::new();
        endpoint.poll_transmit(clock.now(), &mut out)?;
        wr.write_all(&out).await.map_err(NetError::io)?;
        if !endpoint.needs_key() {
            break;
        }
        let n = rd.read(&mut buf).await.map_err(NetError::io)?;
        if n == 0 {
            return Err(endpoint.handle_eof(clock.now()).into());
        }
        endpoint.handle_input(clock.now(), &buf[..n])?;
    }
    // The exchange's `KeyCreated` is consumed here (the caller counts it from the endpoint):
    // left queued, the driver would count the key twice and announce it as a replacement.
    // Nothing else can be queued yet: no encrypted packet has been sent or received.
    while endpoint.poll_event().is_some() {}
    Ok(())
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
