//! [`Connection`], the cloneable handle to one DC connection's driver task, and the
//! [`Events`] it reports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mtproto_proto::endpoint::ClientEndpoint;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use tl_wire::{DecodeError, Deserialize, Limits, RemoteCall};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::config::{ConnectConfig, StoredAuth};
use crate::driver::{establish, Driver};
use crate::error::{InvokeError, NetError};
use crate::link::open_stream;

/// A handle to one DC connection. Cheap to clone; every clone drives the same task.
///
/// The task runs until [`Connection::close`] is called, every handle is dropped, or
/// reconnecting gives up ([`Backoff::max_attempts`](crate::Backoff::max_attempts)).
#[derive(Clone, Debug)]
pub struct Connection {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    request_timeout: Duration,
    /// [`SessionConfig::max_inflated`](crate::SessionConfig::max_inflated): what one answer
    /// and everything it inflates to may take, together.
    max_inflated: usize,
    /// The longest request body that fits a frame.
    max_request_len: usize,
}

/// What the connection reports besides answers. Dropping it is fine: events are then
/// discarded.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<NetEvent>,
}

/// Something that happened on a connection.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum NetEvent {
    /// A server message that answers no request (an update), as its TL bytes.
    Update {
        /// The TL body.
        body: Vec<u8>,
    },
    /// The server created a new session: updates may have been missed.
    NewSession {
        /// The first message id of the new session.
        first_msg_id: i64,
    },
    /// A new authorization key was created (after a -404 from the server): persist
    /// [`Connection::auth`] again.
    NewAuthKey,
    /// With PFS: a temporary key was bound to the permanent key; requests now run over it.
    TempKeyBound {
        /// The temporary key's id.
        temp_key_id: i64,
    },
    /// The server says it does not know the authorization key (transport error -404). The
    /// key may be gone (and its login with it), or someone on the path forged the four
    /// bytes: the driver replaces nothing by itself. Requests wait in the queue (each until
    /// its timeout) until the application calls [`Connection::create_new_key`] (a new key,
    /// which needs a new login) or closes the connection. Not sent with
    /// [`UnknownKeyPolicy::CreateNew`](crate::UnknownKeyPolicy::CreateNew).
    AuthKeyUnknown,
    /// The connection was lost; reconnecting follows (unanswered requests are resent).
    Disconnected {
        /// Why.
        error: NetError,
    },
    /// A new connection is up.
    Reconnected {
        /// Connections tried since the last one that carried a valid packet, this one
        /// included.
        attempts: u32,
    },
    /// The driver stopped: `error` is `None` when it was closed by the application.
    Closed {
        /// Why, when it gave up.
        error: Option<NetError>,
    },
}

/// Counters and state of a connection, for diagnostics and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Whether a TCP connection is up now.
    pub connected: bool,
    /// Connections opened, the first one included.
    pub connections: u32,
    /// Key exchanges completed by this connection (0 when it started from a stored key).
    pub key_exchanges: u32,
    /// Times a request was sent again (reconnect, bad salt, bad msg id, server request).
    pub resent: u64,
    /// `invoke` calls waiting for their answer.
    pub pending: usize,
    /// Whether the driver has stopped.
    pub closed: bool,
    /// Whether the driver waits for the application's decision on a key the server does not
    /// know ([`NetEvent::AuthKeyUnknown`]).
    pub key_unknown: bool,
    /// With PFS: temporary keys bound so far.
    pub temp_keys_bound: u32,
    /// The id of the key on the wire: the bound temporary key with PFS, else the
    /// permanent key.
    pub wire_key_id: Option<i64>,
}

/// State the driver publishes for the handles.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<SharedState>,
    next_ticket: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct SharedState {
    pub(crate) auth: StoredAuth,
    pub(crate) status: Status,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SharedState> {
        // A panic while holding this lock leaves plain data behind: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a handle asks of the driver.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send a request; `ticket` names it for a later [`Command::Cancel`].
    Invoke {
        ticket: u64,
        body: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, InvokeError>>,
    },
    /// Forget a request (its `invoke` was dropped or timed out).
    Cancel(u64),
    /// Replace the key the server does not know with a new one.
    CreateKey,
    /// Stop the driver.
    Close,
}

impl Connection {
    /// Connects to a DC: opens the TCP connection, creates an authorization key unless
    /// [`ConnectConfig::auth`] holds one, and starts the driver task (on the current tokio
    /// runtime). Fails if this first connection cannot be made within
    /// [`ConnectConfig::connect_timeout`]; later losses are handled by reconnecting. An
    /// inconsistent configuration fails first, with [`NetError::Config`]
    /// ([`ConnectConfig::validate`]).
    pub async fn connect(config: ConnectConfig) -> Result<(Connection, Events), NetError> {
        config.validate()?;
        let mut seed = [0u8; 32];
        StdRng::from_entropy().fill_bytes(&mut seed);
        let clock = Clock::new();
        let mut endpoint =
            ClientEndpoint::new(config.endpoint_config()?, config.auth.clone(), seed);
        let connect_timeout = config.connect_timeout;
        let opened = tokio::time::timeout(connect_timeout, async {
            let mut stream = open_stream(&config).await?;
            establish(&mut endpoint, &clock, &mut stream).await?;
            Ok::<_, NetError>(stream)
        })
        .await;
        let stream = match opened {
            Ok(result) => result?,
            Err(_) => return Err(NetError::ConnectTimeout(connect_timeout)),
        };
        let auth = endpoint.auth().ok_or(NetError::Eof)?;
        tracing::info!(
            addr = %config.addr,
            transport = ?config.transport,
            obfuscated = config.is_obfuscated(),
            mtproxy = config.mtproxy.is_some(),
            auth_key = ?auth.auth_key,
            new_key = config.auth.is_none(),
            "connected"
        );
        let shared = Arc::new(Shared {
            state: Mutex::new(SharedState {
                auth,
                status: Status {
                    connections: 1,
                    key_exchanges: endpoint.key_exchanges(),
                    wire_key_id: endpoint.wire_key_id(),
                    ..Status::default()
                },
            }),
            next_ticket: AtomicU64::new(0),
        });
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events_tx, events_rx) = mpsc::channel(config.event_capacity.max(1));
        let request_timeout = config.request_timeout;
        let max_inflated = config.session.max_inflated;
        let max_request_len = endpoint.max_request_len();
        let driver = Driver::new(
            config,
            endpoint,
            commands_rx,
            shared.clone(),
            events_tx,
            clock,
        );
        tokio::spawn(driver.run(stream));
        Ok((
            Connection {
                shared,
                commands,
                request_timeout,
                max_inflated,
                max_request_len,
            },
            Events { rx: events_rx },
        ))
    }

    /// Sends a serialized TL function and waits for its answer (the result object's bytes,
    /// gzip unpacked). The request survives reconnections (it is resent with a new msg_id)
    /// until [`ConnectConfig::request_timeout`] passes. Dropping the returned future cancels
    /// the request: it is not resent, and a late answer is ignored.
    pub async fn invoke_raw(&self, body: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        if body.is_empty() || body.len() % 4 != 0 {
            return Err(InvokeError::InvalidBody { len: body.len() });
        }
        if body.len() > self.max_request_len {
            // It could never be framed: refuse now rather than end in a timeout.
            return Err(InvokeError::TooLarge {
                len: body.len(),
                max: self.max_request_len,
            });
        }
        let ticket = self.shared.next_ticket.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Invoke {
                ticket,
                body,
                reply,
            })
            .map_err(|_| InvokeError::Closed)?;
        let mut guard = CancelOnDrop {
            ticket,
            commands: &self.commands,
            armed: true,
        };
        match tokio::time::timeout(self.request_timeout, answer).await {
            Ok(Ok(result)) => {
                guard.armed = false;
                result
            }
            Ok(Err(_)) => {
                guard.armed = false;
                Err(InvokeError::Closed)
            }
            // The guard cancels the request in the session.
            Err(_) => Err(InvokeError::Timeout),
        }
    }

    /// Sends a typed TL function and decodes its answer (see [`Connection::invoke_raw`]).
    /// The answer and every `gzip_packed` inside it inflate to at most
    /// [`SessionConfig::max_inflated`](crate::SessionConfig::max_inflated) bytes together.
    pub async fn invoke<R: RemoteCall>(&self, request: &R) -> Result<R::Return, InvokeError> {
        let answer = self.invoke_raw(request.to_bytes()).await?;
        decode_answer::<R::Return>(&answer, self.max_inflated).map_err(InvokeError::Decode)
    }

    /// Asks the driver to replace the key the server does not know (after
    /// [`NetEvent::AuthKeyUnknown`]) with a new one: a key exchange runs, the waiting
    /// requests go out over it, and [`NetEvent::NewAuthKey`] follows. A new key carries no
    /// login. Does nothing otherwise.
    pub fn create_new_key(&self) {
        let _ = self.commands.send(Command::CreateKey);
    }

    /// The authorization key with the current salt and clock offset: persist it to reconnect
    /// later without a key exchange ([`ConnectConfig::auth`]).
    pub fn auth(&self) -> StoredAuth {
        self.shared.lock().auth.clone()
    }

    /// Counters and state.
    pub fn status(&self) -> Status {
        self.shared.lock().status.clone()
    }

    /// Stops the driver: the connection closes and waiting requests fail with
    /// [`InvokeError::Closed`]. Other handles see the same.
    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }
}

/// Decodes an answer within the inflation budget: the answer's own bytes count against it.
fn decode_answer<T: Deserialize>(answer: &[u8], max_inflated: usize) -> Result<T, DecodeError> {
    let budget = max_inflated.saturating_sub(answer.len());
    T::from_bytes_with_limits(answer, Limits::DEFAULT.with_max_inflated(budget))
}

/// Cancels an invoke that did not complete (timed out or dropped).
struct CancelOnDrop<'a> {
    ticket: u64,
    commands: &'a mpsc::UnboundedSender<Command>,
    armed: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.commands.send(Command::Cancel(self.ticket));
        }
    }
}

impl Events {
    /// The next event; `None` once the driver has stopped and every event was read.
    pub async fn recv(&mut self) -> Option<NetEvent> {
        self.rx.recv().await
    }

    /// The next event if one is ready.
    pub fn try_recv(&mut self) -> Option<NetEvent> {
        self.rx.try_recv().ok()
    }
}
