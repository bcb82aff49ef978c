//! Stable hashes of content: page keys, the theme's fingerprint, a file's bytes.
//!
//! A build compares these with the ones the previous build kept in its output, so they
//! must be the same in every run (fixed keys, no per-process seed). XXH3 rather than the
//! standard library's SipHash: a build hashes every page's views and every data file
//! (over a gigabyte at 10,000 reports), and SipHash was 5 % of its CPU time. Collisions
//! are not a concern: the input is the portal's own, not an adversary's.

/// The hasher for keys and fingerprints.
pub type Hasher = xxhash_rust::xxh3::Xxh3Default;

/// A new hasher, always with the same keys.
pub fn hasher() -> Hasher {
    Hasher::new()
}

/// The hash of some bytes.
pub fn of_bytes(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}
