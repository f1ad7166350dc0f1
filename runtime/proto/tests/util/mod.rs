//! Helpers shared by this crate's test files (`mod util;` in each).

use std::sync::OnceLock;

use mtproto_crypto::RsaPrivateKey;

/// The test server's RSA key: the one `test-dc` serves with (a single copy in the workspace),
/// parsed once (parsing takes a noticeable time in debug builds).
pub fn server_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaPrivateKey::from_pkcs1_pem(include_str!("../../../../tests/dc/src/test_server_key.pem"))
            .expect("test key")
    })
}
