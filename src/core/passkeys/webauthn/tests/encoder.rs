//! The encoding side the tests need: hex for the spec's vectors, and a tiny CBOR encoder
//! (RFC 8949, shortest heads, definite lengths) for what authenticators send.

pub fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// CBOR items to encode (RFC 8949, shortest heads).
#[derive(Clone, Debug)]
pub enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    Bool(bool),
}

pub fn text(value: &str) -> Cbor {
    Cbor::Text(value.to_owned())
}

impl Cbor {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => head(0, n.unsigned_abs(), out),
            Cbor::Int(n) => head(1, (-1 - n) as u64, out),
            Cbor::Bytes(bytes) => {
                head(2, bytes.len() as u64, out);
                out.extend_from_slice(bytes);
            }
            Cbor::Text(text) => {
                head(3, text.len() as u64, out);
                out.extend_from_slice(text.as_bytes());
            }
            Cbor::Array(items) => {
                head(4, items.len() as u64, out);
                items.iter().for_each(|item| item.write(out));
            }
            Cbor::Map(entries) => {
                head(5, entries.len() as u64, out);
                for (key, value) in entries {
                    key.write(out);
                    value.write(out);
                }
            }
            Cbor::Bool(value) => out.push(if *value { 0xf5 } else { 0xf4 }),
        }
    }
}

pub fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend([major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(n.to_be_bytes());
        }
    }
}
