//! The little CBOR (RFC 8949) that WebAuthn sends: attestation objects, COSE keys and extension
//! maps. Definite lengths only (CTAP2 canonical CBOR, FIDO CTAP 2.1 §8, has no other kind), no
//! tags, no floats, no `null`; nesting bounded so that no input can exhaust the stack, and every
//! claimed length checked against the bytes left before anything is allocated.

/// A decoded item, borrowing its bytes and text from the input.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Value<'a> {
    /// Major types 0 and 1: -2^64 ..= 2^64 - 1 fits an `i128`.
    Int(i128),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    Bool(bool),
}

/// Deep enough for an attestation object (object → attStmt → x5c → certificate) and extension
/// outputs; an attacker's thousand nested arrays stop here.
const MAX_DEPTH: usize = 8;

/// COSE keys have at most six entries, attestation statements four; extension maps a handful.
/// The bound also keeps the duplicate-key check (quadratic) cheap.
const MAX_MAP_ENTRIES: usize = 32;

/// The longest array a ceremony has is an attestation's certificate chain (`x5c`: a leaf and a
/// few intermediates); without a bound, an unauthenticated sign-up's body of a few tens of
/// kilobytes could make the reader reserve megabytes (one `Value` per declared item, per level).
const MAX_ARRAY_ITEMS: usize = 16;

impl<'a> Value<'a> {
    /// The value under integer label `label`, when `self` is a map.
    pub(super) fn get_int(&self, label: i128) -> Option<&Value<'a>> {
        self.entries()?
            .iter()
            .find(|(key, _)| *key == Value::Int(label))
            .map(|(_, value)| value)
    }

    /// The value under text key `key`, when `self` is a map.
    pub(super) fn get_text(&self, key: &str) -> Option<&Value<'a>> {
        self.entries()?
            .iter()
            .find(|(k, _)| *k == Value::Text(key))
            .map(|(_, value)| value)
    }

    /// The entries, when `self` is a map.
    pub(super) fn entries(&self) -> Option<&[(Value<'a>, Value<'a>)]> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// One item that must fill `input` exactly (trailing bytes refused).
pub(super) fn decode(input: &[u8]) -> Result<Value<'_>, &'static str> {
    let (value, rest) = decode_prefix(input)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err("trailing bytes after CBOR item")
    }
}

/// One item at the start of `input`, and the bytes after it (authenticator data puts the
/// extension map right after the COSE key, with no length in between).
pub(super) fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, &[u8]), &'static str> {
    let mut reader = Reader { rest: input };
    let value = reader.item(0)?;
    Ok((value, reader.rest))
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: u64) -> Result<&'a [u8], &'static str> {
        let count = usize::try_from(count).map_err(|_| "CBOR length too large")?;
        if count > self.rest.len() {
            return Err("CBOR item truncated");
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Ok(taken)
    }

    /// The argument of a head (RFC 8949 §3): in the low five bits, or in the 1, 2, 4 or 8 bytes
    /// after them.
    fn argument(&mut self, info: u8) -> Result<u64, &'static str> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Err("indefinite-length CBOR refused"),
            _ => return Err("reserved CBOR additional information"),
        };
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte)))
    }

    /// A count of items that each take at least one byte: more than the bytes left is a lie.
    fn count(&mut self, info: u8, bytes_per_item: usize) -> Result<usize, &'static str> {
        let count = usize::try_from(self.argument(info)?).map_err(|_| "CBOR count too large")?;
        match count.checked_mul(bytes_per_item) {
            Some(needed) if needed <= self.rest.len() => Ok(count),
            _ => Err("CBOR item truncated"),
        }
    }

    fn item(&mut self, depth: usize) -> Result<Value<'a>, &'static str> {
        if depth > MAX_DEPTH {
            return Err("CBOR nested too deeply");
        }
        let head = *self.take(1)?.first().ok_or("CBOR item truncated")?;
        let (major, info) = (head >> 5, head & 0x1f);
        match major {
            0 => Ok(Value::Int(i128::from(self.argument(info)?))),
            1 => Ok(Value::Int(-1 - i128::from(self.argument(info)?))),
            2 => {
                let length = self.argument(info)?;
                Ok(Value::Bytes(self.take(length)?))
            }
            3 => {
                let length = self.argument(info)?;
                let bytes = self.take(length)?;
                let text = std::str::from_utf8(bytes).map_err(|_| "CBOR text is not UTF-8")?;
                Ok(Value::Text(text))
            }
            4 => {
                let count = self.count(info, 1)?;
                if count > MAX_ARRAY_ITEMS {
                    return Err("CBOR array too long");
                }
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let count = self.count(info, 2)?;
                if count > MAX_MAP_ENTRIES {
                    return Err("CBOR map too large");
                }
                let mut entries: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(count);
                for _ in 0..count {
                    let key = self.item(depth + 1)?;
                    // Two values under one key would let two readers see two different maps.
                    if entries.iter().any(|(seen, _)| *seen == key) {
                        return Err("duplicate CBOR map key");
                    }
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            6 => Err("CBOR tags refused"),
            _ => match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                _ => Err("CBOR simple value or float refused"),
            },
        }
    }
}
