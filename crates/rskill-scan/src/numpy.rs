//! NumPy arrays (`.npy`, and `.npz`: a zip of `.npy` files): an array of dtype `object`
//! is stored as a pickle after the header, and `numpy.load(allow_pickle=True)` runs it.
//! This module reads the header (magic, version, length, the dict literal) to tell an
//! object array from a plain one without loading anything; the scanner then walks the
//! pickle after an object header, and the install guard refuses a pickle-bearing array
//! without consent.

use std::io::Read;

/// `.npy` magic: `\x93NUMPY`.
pub const NPY_MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Headers longer than this are refused unread (NumPy writes a few hundred bytes).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// What a `.npy` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The `descr` value as written (`'<f4'`, `'|O'`, `[('a', '<f4')]` …).
    pub descr: String,
    /// Whether the array holds Python objects (a pickle follows the header): its dtype,
    /// or one field of a structured dtype, is `O`. Anything that cannot be read as a
    /// plain dtype counts as objects.
    pub holds_objects: bool,
    /// Bytes before the data (magic, version, length, header).
    pub data_offset: u64,
}

/// Reads a `.npy` header from the start of `input`; `Err` names what is wrong.
pub fn read_header(mut input: impl Read) -> Result<NpyHeader, String> {
    let mut magic = [0u8; 8];
    input
        .read_exact(&mut magic)
        .map_err(|e| format!("too short for a .npy header: {e}"))?;
    if &magic[..6] != NPY_MAGIC {
        return Err("no .npy magic (\\x93NUMPY)".into());
    }
    let (len, prefix) = match magic[6] {
        1 => {
            let mut l = [0u8; 2];
            input
                .read_exact(&mut l)
                .map_err(|e| format!("truncated header length: {e}"))?;
            (u16::from_le_bytes(l) as usize, 10u64)
        }
        2 | 3 => {
            let mut l = [0u8; 4];
            input
                .read_exact(&mut l)
                .map_err(|e| format!("truncated header length: {e}"))?;
            (u32::from_le_bytes(l) as usize, 12u64)
        }
        v => return Err(format!(".npy format version {v} is unknown")),
    };
    if len > MAX_HEADER_BYTES {
        return Err(format!(
            "a header of {len} bytes, above the {MAX_HEADER_BYTES} read"
        ));
    }
    let mut header = vec![0u8; len];
    input
        .read_exact(&mut header)
        .map_err(|e| format!("truncated header: {e}"))?;
    let text = String::from_utf8_lossy(&header);
    let descr = descr_of(&text).ok_or("the header names no 'descr'")?;
    Ok(NpyHeader {
        holds_objects: !plain_dtype(&descr),
        descr,
        data_offset: prefix + len as u64,
    })
}

/// The `descr` value of a header dict literal: a quoted string, or a bracketed list
/// (structured dtype) kept whole.
fn descr_of(header: &str) -> Option<String> {
    let at = header
        .find("'descr'")
        .or_else(|| header.find("\"descr\""))?;
    let rest = header[at + 7..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    match rest.chars().next()? {
        q @ ('\'' | '"') => {
            let body = &rest[1..];
            body.find(q).map(|end| body[..end].to_string())
        }
        '[' => {
            let mut depth = 0usize;
            for (i, c) in rest.char_indices() {
                match c {
                    '[' | '(' => depth += 1,
                    ']' | ')' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return Some(rest[..=i].to_string());
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        _ => None,
    }
}

/// Whether `descr` is a dtype without objects: a simple type string (byte order, kind
/// other than `O`, item size), or a structured list all of whose type strings are.
fn plain_dtype(descr: &str) -> bool {
    let simple = |s: &str| {
        let s = s.trim_start_matches(['<', '>', '|', '=']);
        let mut chars = s.chars();
        matches!(
            chars.next(),
            Some(
                'b' | 'i'
                    | 'u'
                    | 'f'
                    | 'c'
                    | 'm'
                    | 'M'
                    | 'S'
                    | 'U'
                    | 'V'
                    | '?'
                    | 'e'
                    | 'd'
                    | 'h'
                    | 'l'
                    | 'q'
                    | 'B'
                    | 'H'
                    | 'I'
                    | 'L'
                    | 'Q'
                    | 'g'
                    | 'F'
                    | 'D'
                    | 'G'
                    | 'a'
            )
        ) && chars.all(|c| c.is_ascii_digit() || c == '[' || c == ']' || c == 's' || c == 'D')
    };
    if !descr.starts_with('[') {
        return simple(descr);
    }
    // Structured: `[('name', 'type'), …]`. Nested structures are counted as objects
    // (not worth the risk of misreading them); otherwise every type string (the second
    // of each pair) must be simple, and no string may name an object type.
    if descr.matches('[').count() > 1 {
        return false;
    }
    let mut quoted = Vec::new();
    let mut rest = descr;
    while let Some(start) = rest.find(['\'', '"']) {
        let q = if rest[start..].starts_with('"') {
            '"'
        } else {
            '\''
        };
        let body = &rest[start + 1..];
        let Some(end) = body.find(q) else {
            return false;
        };
        quoted.push(&body[..end]);
        rest = &body[end + 1..];
    }
    let object = |s: &str| s.trim_start_matches(['<', '>', '|', '=']).starts_with('O');
    !quoted.is_empty()
        && quoted.len() % 2 == 0
        && quoted.iter().skip(1).step_by(2).all(|t| simple(t))
        && !quoted.iter().any(|s| object(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str) -> Vec<u8> {
        let dict = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}");
        let mut v = NPY_MAGIC.to_vec();
        v.extend([1, 0]);
        v.extend((dict.len() as u16).to_le_bytes());
        v.extend(dict.as_bytes());
        v
    }

    #[test]
    fn object_arrays_are_told_from_plain_ones() {
        for (descr, objects) in [
            ("'<f4'", false),
            ("'|u1'", false),
            ("'<U10'", false),
            ("'|O'", true),
            ("'O'", true),
            ("'|O8'", true),
            ("[('a', '<f4'), ('b', '<i8')]", false),
            ("[('a', '<f4'), ('b', '|O')]", true),
            ("[('a', [('<f4', '|O')])]", true),
            ("[('O', '<f4')]", true),
            ("'weird'", true),
        ] {
            let h = read_header(npy(descr).as_slice()).unwrap();
            assert_eq!(h.holds_objects, objects, "{descr}");
        }
        assert!(read_header(&b"PK\x03\x04...."[..]).is_err());
    }
}
