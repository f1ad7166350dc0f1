//! AES-IGE (Infinite Garble Extension), the block mode MTProto uses.
//!
//! With plaintext blocks `x_i`, ciphertext blocks `y_i` and the 32-byte IV split as
//! `iv = y_0 || x_0` (first half is the "previous ciphertext", second half the "previous
//! plaintext", the layout of OpenSSL's `AES_ige_encrypt` and of every MTProto client):
//!
//! - encryption: `y_i = E(x_i ^ y_{i-1}) ^ x_{i-1}`
//! - decryption: `x_i = D(y_i ^ x_{i-1}) ^ y_{i-1}`
//!
//! Both directions are inherently sequential. The hot loop runs inside the block cipher's
//! backend closure (so the AES-NI backend is selected once and inlined), keeps the chaining
//! values in fixed-size arrays and never allocates.

use aes::{Aes256Dec, Aes256Enc};
use cipher::consts::U16;
use cipher::generic_array::GenericArray;
use cipher::{BlockBackend, BlockClosure, BlockDecrypt, BlockEncrypt, BlockSizeUser, KeyInit};

/// The AES block size, and the granularity of IGE.
pub const BLOCK_LEN: usize = 16;

/// Why an IGE operation was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgeError {
    /// IGE works on whole 16-byte blocks; the buffer length was not a multiple of 16.
    #[error("IGE data length {len} is not a multiple of 16")]
    NotBlockAligned {
        /// The offending length.
        len: usize,
    },
}

/// Encrypts `data` in place with AES-256-IGE.
///
/// `data.len()` must be a multiple of 16 (an empty buffer is fine and left unchanged).
pub fn encrypt_ige(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> Result<(), IgeError> {
    let cipher = Aes256Enc::new(GenericArray::from_slice(key));
    encrypt_ige_with(&cipher, data, iv)
}

/// Decrypts `data` in place with AES-256-IGE.
///
/// `data.len()` must be a multiple of 16 (an empty buffer is fine and left unchanged).
pub fn decrypt_ige(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> Result<(), IgeError> {
    let cipher = Aes256Dec::new(GenericArray::from_slice(key));
    decrypt_ige_with(&cipher, data, iv)
}

/// IGE encryption over any 128-bit block cipher (e.g. `aes::Aes128` for OpenSSL's vectors).
pub fn encrypt_ige_with<C>(cipher: &C, data: &mut [u8], iv: &[u8; 32]) -> Result<(), IgeError>
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    check_len(data.len())?;
    cipher.encrypt_with_backend(IgeEncrypt { data, iv });
    Ok(())
}

/// IGE decryption over any 128-bit block cipher (e.g. `aes::Aes128` for OpenSSL's vectors).
pub fn decrypt_ige_with<C>(cipher: &C, data: &mut [u8], iv: &[u8; 32]) -> Result<(), IgeError>
where
    C: BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    check_len(data.len())?;
    cipher.decrypt_with_backend(IgeDecrypt { data, iv });
    Ok(())
}

fn check_len(len: usize) -> Result<(), IgeError> {
    if len % BLOCK_LEN == 0 {
        Ok(())
    } else {
        Err(IgeError::NotBlockAligned { len })
    }
}

type Chunk = GenericArray<u8, U16>;

/// `out = a ^ b`. A byte loop over fixed-size arrays lets the compiler keep the chaining values
/// in SIMD registers next to the AES state (a `u128` version moved them through general-purpose
/// registers on the critical path and was about 20% slower).
#[inline(always)]
fn xor_into(out: &mut Chunk, a: &Chunk, b: &Chunk) {
    for i in 0..BLOCK_LEN {
        out[i] = a[i] ^ b[i];
    }
}

#[inline(always)]
fn split_iv(iv: &[u8; 32]) -> (Chunk, Chunk) {
    (
        Chunk::clone_from_slice(&iv[..BLOCK_LEN]),
        Chunk::clone_from_slice(&iv[BLOCK_LEN..]),
    )
}

struct IgeEncrypt<'a> {
    data: &'a mut [u8],
    iv: &'a [u8; 32],
}

impl BlockSizeUser for IgeEncrypt<'_> {
    type BlockSize = U16;
}

impl BlockClosure for IgeEncrypt<'_> {
    #[inline(always)]
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        // prev_y: previous ciphertext block, prev_x: previous plaintext block.
        let (mut prev_y, mut prev_x) = split_iv(self.iv);
        let mut block = Chunk::default();
        for chunk in self.data.chunks_exact_mut(BLOCK_LEN) {
            let x = Chunk::clone_from_slice(chunk);
            xor_into(&mut block, &x, &prev_y);
            backend.proc_block((&mut block).into());
            xor_into(&mut prev_y, &block, &prev_x);
            chunk.copy_from_slice(&prev_y);
            prev_x = x;
        }
    }
}

struct IgeDecrypt<'a> {
    data: &'a mut [u8],
    iv: &'a [u8; 32],
}

impl BlockSizeUser for IgeDecrypt<'_> {
    type BlockSize = U16;
}

impl BlockClosure for IgeDecrypt<'_> {
    #[inline(always)]
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        let (mut prev_y, mut prev_x) = split_iv(self.iv);
        let mut block = Chunk::default();
        for chunk in self.data.chunks_exact_mut(BLOCK_LEN) {
            let y = Chunk::clone_from_slice(chunk);
            xor_into(&mut block, &y, &prev_x);
            backend.proc_block((&mut block).into());
            xor_into(&mut prev_x, &block, &prev_y);
            chunk.copy_from_slice(&prev_x);
            prev_y = y;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unaligned() {
        let mut data = [0u8; 17];
        assert_eq!(
            encrypt_ige(&mut data, &[0; 32], &[0; 32]),
            Err(IgeError::NotBlockAligned { len: 17 })
        );
        assert_eq!(
            decrypt_ige(&mut data[..5], &[0; 32], &[0; 32]),
            Err(IgeError::NotBlockAligned { len: 5 })
        );
    }

    #[test]
    fn empty_is_noop() {
        let mut data: [u8; 0] = [];
        encrypt_ige(&mut data, &[1; 32], &[2; 32]).unwrap();
        decrypt_ige(&mut data, &[1; 32], &[2; 32]).unwrap();
    }

    #[test]
    fn roundtrip() {
        let key = [7u8; 32];
        let iv = [9u8; 32];
        let plain: Vec<u8> = (0..160u8).collect();
        let mut data = plain.clone();
        encrypt_ige(&mut data, &key, &iv).unwrap();
        assert_ne!(data, plain);
        decrypt_ige(&mut data, &key, &iv).unwrap();
        assert_eq!(data, plain);
    }
}
