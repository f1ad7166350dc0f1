//! [`Secret`]: the type of every generated field that carries a secret (login codes, password
//! proofs, login and authorization tokens, key-exchange nonces). It zeroizes its value on
//! drop and prints as `<redacted>`; on the wire it is exactly the value it holds.

use std::fmt;
use std::ops::{Deref, DerefMut};

use bytes::BufMut;
use zeroize::Zeroize;

use crate::error::DecodeError;
use crate::reader::Reader;
use crate::traits::{Deserialize, Serialize};

/// A secret value: zeroized when dropped (and when replaced through [`Secret::take`]),
/// `<redacted>` in `Debug`. It dereferences to the value, and `T` converts into it, so the
/// generated constructors and setters take the plain value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Takes the value out, leaving the default (empty) value behind; the caller now owns
    /// the only copy and its wiping.
    pub fn take(&mut self) -> T
    where
        T: Default,
    {
        std::mem::take(&mut self.0)
    }

    /// Unwraps the value (the caller now owns the only copy and its wiping).
    pub fn into_inner(mut self) -> T
    where
        T: Default,
    {
        self.take()
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<&[u8]> for Secret<Vec<u8>> {
    fn from(value: &[u8]) -> Self {
        Self(value.to_vec())
    }
}

impl<T: Zeroize> Deref for Secret<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> DerefMut for Secret<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Zeroize + Serialize> Serialize for Secret<T> {
    fn serialize(&self, buf: &mut impl BufMut) {
        self.0.serialize(buf);
    }
}

impl<T: Zeroize + Deserialize> Deserialize for Secret<T> {
    fn deserialize(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        T::deserialize(r).map(Self)
    }
}

impl<T: Zeroize + PartialEq> PartialEq<T> for Secret<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for Secret<String> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Secret<String> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<[u8]> for Secret<Vec<u8>> {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_and_transparent_on_the_wire() {
        let s = Secret::from("12345");
        assert_eq!(
            format!("{s:?} {:?}", Some(&s)),
            "<redacted> Some(<redacted>)"
        );
        assert_eq!(s.to_bytes(), "12345".to_string().to_bytes());
        assert_eq!(
            Secret::<String>::from_bytes(&s.to_bytes()).unwrap(),
            "12345"
        );
        assert_eq!(s.len(), 5);
        let mut t = Secret::from(vec![7u8; 4]);
        assert_eq!(t.take(), vec![7u8; 4]);
        assert!(t.is_empty());
    }

    /// A value that records being zeroized.
    #[derive(Default)]
    struct Probe(std::sync::Arc<std::sync::atomic::AtomicBool>);

    impl Zeroize for Probe {
        fn zeroize(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn dropping_a_secret_zeroizes_it() {
        let probe = Probe::default();
        let wiped = probe.0.clone();
        let secret = Secret::new(probe);
        assert!(!wiped.load(std::sync::atomic::Ordering::SeqCst));
        drop(secret);
        assert!(
            wiped.load(std::sync::atomic::Ordering::SeqCst),
            "not zeroized on drop"
        );
    }
}
