//! Opening the TCP connection to a DC (or an MTProxy).

use tokio::net::TcpStream;

use crate::config::ConnectConfig;
use crate::error::NetError;

/// Bytes read from the socket at a time. Each connection keeps one such buffer for its
/// lifetime (zero-filled, so resident): 16 KiB keeps an idle connection small (64 KiB made
/// two thirds of an idle signed-in client's memory), and a large message simply takes
/// several reads.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// Opens a TCP connection to the configured address.
pub(crate) async fn open_stream(config: &ConnectConfig) -> Result<TcpStream, NetError> {
    let stream = TcpStream::connect(config.addr)
        .await
        .map_err(|e| NetError::Connect {
            addr: config.addr,
            source: e.into(),
        })?;
    // MTProto packets are small and latency-bound.
    stream.set_nodelay(true).map_err(NetError::io)?;
    Ok(stream)
}
