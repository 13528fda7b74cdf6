//! The little CBOR (RFC 8949) the software authenticator writes: unsigned and negative
//! integers, byte and text strings, and maps, in definite lengths.

/// A CBOR value to encode.
pub enum Cbor<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Map(Vec<(Cbor<'a>, Cbor<'a>)>),
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

impl Cbor<'_> {
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(i) if *i >= 0 => head(out, 0, *i as u64),
            Cbor::Int(i) => head(out, 1, (-1 - *i) as u64),
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Cbor::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend_from_slice(t.as_bytes());
            }
            Cbor::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Cbor;

    #[test]
    fn rfc_8949_examples() {
        assert_eq!(Cbor::Int(10).to_vec(), [0x0a]);
        assert_eq!(Cbor::Int(100).to_vec(), [0x18, 0x64]);
        assert_eq!(Cbor::Int(1000).to_vec(), [0x19, 0x03, 0xe8]);
        assert_eq!(Cbor::Int(-1).to_vec(), [0x20]);
        assert_eq!(Cbor::Int(-257).to_vec(), [0x39, 0x01, 0x00]);
        assert_eq!(Cbor::Text("a").to_vec(), [0x61, 0x61]);
        assert_eq!(Cbor::Bytes(&[1, 2, 3, 4]).to_vec(), [0x44, 1, 2, 3, 4]);
        let map = Cbor::Map(vec![(Cbor::Int(1), Cbor::Int(2)), (Cbor::Int(3), Cbor::Int(4))]);
        assert_eq!(map.to_vec(), [0xa2, 0x01, 0x02, 0x03, 0x04]);
    }
}
