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

/// A multiply-and-rotate hasher (Firefox's "FxHash") for in-memory maps of small keys
/// (the search index's tokens, the schema's row and column keys): SipHash was a fifth of
/// the index's time, and XXH3 is slower still on keys this short. Not for anything kept.
#[derive(Default)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`FxHasher`]s, for `HashMap<K, V, FxBuild>`.
pub type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// The hash of some bytes.
pub fn of_bytes(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// The name of a newtype struct that [`feed`] leaves out: a value whose owner hashes what
/// it stands for (a table's [`crate::tables::Mark`], different in every process).
pub const UNHASHED: &str = "portalgen::unhashed";

/// The name of a newtype struct that [`feed`] feeds as a hash its owner made already (see
/// [`serialize_keyed`]), instead of the value inside.
const KEYED: &str = "portalgen::keyed";

thread_local! {
    /// The hash [`serialize_keyed`] passes to [`feed`], as Tera passes its own values to
    /// its serializer: serde has no way to hand a serializer anything but the value.
    static KEYED_SLOT: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Serializes `value`, known by its hash `key`: [`feed`] feeds the key alone (a value
/// made once for many pages is not walked again for each), any other serializer the
/// value. Tera's, given a `tera::Value`, clones it.
pub fn serialize_keyed<S: serde::Serializer, T: serde::Serialize + ?Sized>(
    key: u64,
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let previous = KEYED_SLOT.replace(Some(key));
    let result = serializer.serialize_newtype_struct(KEYED, value);
    KEYED_SLOT.set(previous);
    result
}

/// Feeds `value` to `h` as serde sees it: every string, number and field name, each
/// with a tag and strings with their length, so that different values feed different
/// bytes. It replaces writing the value as JSON into the hasher, which spent most of its
/// time escaping and formatting (a second of CPU at 10,000 reports). Values serde cannot
/// represent are skipped; they fail later, when Tera serializes the same value.
///
/// Small pieces are gathered in a buffer and given to the hasher at once: XXH3's
/// streaming state costs a call per piece, and a page's views are thousands of small
/// pieces. A long string (a table's made HTML) goes to the hasher as it is, after what is
/// gathered: copying it first was a tenth of the feeding. The stream is the same either
/// way, so is the hash.
pub fn feed<T: serde::Serialize + ?Sized>(h: &mut Hasher, value: &T) {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|b| {
        let Ok(mut b) = b.try_borrow_mut() else {
            // Only if a value's Serialize fed another value itself.
            let mut own = Vec::new();
            let _ = value.serialize(Feed(&mut Sink { buf: &mut own, h }));
            h.update(&own);
            return;
        };
        b.clear();
        let _ = value.serialize(Feed(&mut Sink { buf: &mut b, h }));
        h.update(&b);
        // A very large value (the search documents) does not keep its buffer.
        if b.capacity() > 1 << 20 {
            *b = Vec::new();
        }
    });
}

/// Where fed bytes go: the buffer, then the hasher.
struct Sink<'a> {
    buf: &'a mut Vec<u8>,
    h: &'a mut Hasher,
}

/// Strings longer than this go to the hasher without being copied into the buffer.
const DIRECT: usize = 256;

struct Feed<'s, 'a>(&'s mut Sink<'a>);

/// Why feeding stopped (a value serde reports as an error).
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("value cannot be fingerprinted")
    }
}

impl std::error::Error for Stop {}

impl serde::ser::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl Feed<'_, '_> {
    fn tag(&mut self, t: u8) {
        self.0.buf.push(t);
    }
    fn bytes(&mut self, t: u8, b: &[u8]) {
        self.tag(t);
        self.0
            .buf
            .extend_from_slice(&(b.len() as u64).to_le_bytes());
        if b.len() > DIRECT {
            self.0.h.update(self.0.buf);
            self.0.buf.clear();
            self.0.h.update(b);
        } else {
            self.0.buf.extend_from_slice(b);
        }
    }
    fn num(&mut self, t: u8, n: u128) {
        self.tag(t);
        self.0.buf.extend_from_slice(&n.to_le_bytes());
    }
}

macro_rules! compound {
    ($($trait:ident { $($method:ident ( $($arg:ident : $ty:ty),* )),* })*) => {$(
        impl serde::ser::$trait for Feed<'_, '_> {
            type Ok = ();
            type Error = Stop;
            $(fn $method<T: serde::Serialize + ?Sized>(&mut self, $($arg: $ty,)* value: &T) -> Result<(), Stop> {
                $(self.bytes(b'k', $arg.as_bytes());)*
                value.serialize(Feed(&mut *self.0))
            })*
            fn end(mut self) -> Result<(), Stop> {
                self.tag(b'e');
                Ok(())
            }
        }
    )*};
}

compound! {
    SerializeSeq { serialize_element() }
    SerializeTuple { serialize_element() }
    SerializeTupleStruct { serialize_field() }
    SerializeTupleVariant { serialize_field() }
}

// A struct's fields come in the order of its type, so their names add nothing to a key: a
// field is known by its place, and a field left out (`skip_serializing_if`) says so.
// Feeding every field's name was a fifth of the feed's bytes.
macro_rules! fields {
    ($($trait:ident)*) => {$(
        impl serde::ser::$trait for Feed<'_, '_> {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: serde::Serialize + ?Sized>(
                &mut self,
                _: &'static str,
                value: &T,
            ) -> Result<(), Stop> {
                value.serialize(Feed(&mut *self.0))
            }
            fn skip_field(&mut self, _: &'static str) -> Result<(), Stop> {
                self.tag(b's');
                Ok(())
            }
            fn end(mut self) -> Result<(), Stop> {
                self.tag(b'e');
                Ok(())
            }
        }
    )*};
}

fields! { SerializeStruct SerializeStructVariant }

impl serde::ser::SerializeMap for Feed<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: serde::Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        key.serialize(Feed(&mut *self.0))
    }
    fn serialize_value<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        value.serialize(Feed(&mut *self.0))
    }
    fn end(mut self) -> Result<(), Stop> {
        self.tag(b'e');
        Ok(())
    }
}

impl serde::Serializer for Feed<'_, '_> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(mut self, v: bool) -> Result<(), Stop> {
        self.num(b'b', u128::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Stop> {
        self.serialize_i128(i128::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Stop> {
        self.serialize_i128(i128::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Stop> {
        self.serialize_i128(i128::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Stop> {
        self.serialize_i128(i128::from(v))
    }
    fn serialize_i128(mut self, v: i128) -> Result<(), Stop> {
        self.num(b'i', v as u128);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Stop> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Stop> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Stop> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Stop> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u128(mut self, v: u128) -> Result<(), Stop> {
        self.num(b'u', v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(mut self, v: f64) -> Result<(), Stop> {
        self.num(b'f', u128::from(v.to_bits()));
        Ok(())
    }
    fn serialize_char(mut self, v: char) -> Result<(), Stop> {
        self.num(b'c', u128::from(u32::from(v)));
        Ok(())
    }
    fn serialize_str(mut self, v: &str) -> Result<(), Stop> {
        self.bytes(b's', v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(mut self, v: &[u8]) -> Result<(), Stop> {
        self.bytes(b'y', v);
        Ok(())
    }
    fn serialize_none(mut self) -> Result<(), Stop> {
        self.tag(b'n');
        Ok(())
    }
    fn serialize_some<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Result<(), Stop> {
        self.tag(b'S');
        value.serialize(self)
    }
    fn serialize_unit(mut self) -> Result<(), Stop> {
        self.tag(b'0');
        Ok(())
    }
    fn serialize_unit_struct(mut self, name: &'static str) -> Result<(), Stop> {
        self.bytes(b'U', name.as_bytes());
        Ok(())
    }
    fn serialize_unit_variant(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Stop> {
        self.bytes(b'v', variant.as_bytes());
        Ok(())
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
        mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        if name == UNHASHED {
            return Ok(());
        }
        if name == KEYED
            && let Some(key) = KEYED_SLOT.take()
        {
            self.num(b'k', u128::from(key));
            return Ok(());
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.bytes(b'V', variant.as_bytes());
        value.serialize(self)
    }
    fn serialize_seq(mut self, _: Option<usize>) -> Result<Self, Stop> {
        self.tag(b'[');
        Ok(self)
    }
    fn serialize_tuple(mut self, _: usize) -> Result<Self, Stop> {
        self.tag(b'(');
        Ok(self)
    }
    fn serialize_tuple_struct(mut self, _: &'static str, _: usize) -> Result<Self, Stop> {
        self.tag(b'(');
        Ok(self)
    }
    fn serialize_tuple_variant(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        self.bytes(b'T', variant.as_bytes());
        Ok(self)
    }
    fn serialize_map(mut self, _: Option<usize>) -> Result<Self, Stop> {
        self.tag(b'{');
        Ok(self)
    }
    fn serialize_struct(mut self, _: &'static str, _: usize) -> Result<Self, Stop> {
        self.tag(b'{');
        Ok(self)
    }
    fn serialize_struct_variant(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        self.bytes(b'W', variant.as_bytes());
        Ok(self)
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<(), Stop> {
        self.serialize_str(&value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hasher as _;

    fn key<T: serde::Serialize>(v: &T) -> u64 {
        let mut h = hasher();
        feed(&mut h, v);
        h.finish()
    }

    #[test]
    fn equal_values_feed_equal_keys_and_others_differ() {
        assert_eq!(key(&("a", vec![1, 2])), key(&("a", vec![1, 2])));
        // The boundaries between strings and between list items count.
        assert_ne!(key(&("ab", "c")), key(&("a", "bc")));
        assert_ne!(key(&vec![vec![1], vec![2]]), key(&vec![vec![1, 2]]));
        assert_ne!(key(&Some(0)), key(&None::<i32>));
        assert_ne!(key(&1u32), key(&1i32));
    }

    #[test]
    fn fields_are_known_by_their_place_and_a_skipped_one_counts() {
        #[derive(serde::Serialize)]
        struct Page {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<&'static str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<&'static str>,
        }
        let page = |a, b| key(&Page { a, b });
        assert_eq!(page(Some("x"), None), page(Some("x"), None));
        assert_ne!(page(Some("x"), None), page(None, Some("x")));
        assert_ne!(page(Some("x"), None), page(Some("x"), Some("")));
        assert_ne!(page(None, None), page(Some(""), None));
    }

    /// A value serialized with its hash: page keys feed the hash, not the value, and
    /// every other serializer sees the value as it is.
    struct Keyed(u64, Vec<&'static str>);

    impl serde::Serialize for Keyed {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_keyed(self.0, &self.1, s)
        }
    }

    #[test]
    fn a_keyed_value_feeds_its_key_and_serializes_as_itself_elsewhere() {
        // The key decides, not the value.
        assert_eq!(key(&Keyed(7, vec!["a"])), key(&Keyed(7, vec!["b"])));
        assert_ne!(key(&Keyed(7, vec!["a"])), key(&Keyed(8, vec!["a"])));
        assert_ne!(key(&Keyed(7, vec![])), key(&7u64));
        // Inside a larger value, and the slot is empty again afterwards.
        assert_ne!(
            key(&(Keyed(1, vec![]), Keyed(2, vec![]))),
            key(&(Keyed(2, vec![]), Keyed(1, vec![])))
        );
        assert_eq!(key(&vec!["x"]), key(&vec!["x"]));
        assert_eq!(KEYED_SLOT.get(), None);
        // Other serializers see the value.
        assert_eq!(
            serde_json::to_string(&(Keyed(7, vec!["a", "b"]), 1))
                .ok()
                .as_deref(),
            Some(r#"[["a","b"],1]"#)
        );
        let value = tera::Value::from_serializable(&Keyed(7, vec!["a"]));
        assert_eq!(value, tera::Value::from_serializable(&vec!["a"]));
    }
}
