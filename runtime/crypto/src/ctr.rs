//! AES-256-CTR keystream, as used by the obfuscated2 transport (128-bit big-endian counter,
//! the same as OpenSSL's `AES_ctr128_encrypt` that Telegram's clients use).

use aes::Aes256;
use cipher::{KeyIvInit, StreamCipher};

type Inner = ::ctr::Ctr128BE<Aes256>;

/// An AES-256-CTR stream: one per direction of a connection. The key schedule is computed
/// once; [`AesCtr::apply`] continues the stream across calls. Its `Debug` output is redacted.
pub struct AesCtr {
    inner: Inner,
}

impl AesCtr {
    /// Starts a stream with a 32-byte key and a 16-byte initial counter block.
    pub fn new(key: &[u8; 32], iv: &[u8; 16]) -> Self {
        Self {
            inner: Inner::new(key.into(), iv.into()),
        }
    }

    /// XORs the next `data.len()` keystream bytes into `data` (encrypts or decrypts).
    pub fn apply(&mut self, data: &mut [u8]) {
        self.inner.apply_keystream(data);
    }
}

impl std::fmt::Debug for AesCtr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesCtr(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt, blocks 1 and 2.
    #[test]
    fn nist_sp800_38a_f55() {
        let key: [u8; 32] =
            hex_arr("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv: [u8; 16] = hex_arr("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        let mut data = hex_vec("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let expected = hex_vec("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5");
        let mut ctr = AesCtr::new(&key, &iv);
        // Split across calls to check the stream continues.
        let (a, b) = data.split_at_mut(7);
        ctr.apply(a);
        ctr.apply(b);
        assert_eq!(data, expected);
        assert_eq!(format!("{ctr:?}"), "AesCtr(<redacted>)");
    }

    fn hex_vec(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hex_arr<const N: usize>(s: &str) -> [u8; N] {
        hex_vec(s).try_into().unwrap()
    }
}
