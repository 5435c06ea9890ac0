//! Vector blobs as FT.SEARCH / HSET carry them: little-endian FLOAT32, FLOAT16 or BFLOAT16.
//!
//! Every blob is converted to `f32` on the way in (indexes store and compute in f32 or in
//! TurboQuant codes). A blob whose length is not exactly `dim * element size` is rejected: the
//! FT layer counts that document as an indexing failure, as RediSearch does.

use half::{bf16, f16};
use thiserror::Error;

/// Element type of a vector field (`TYPE` in FT.CREATE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    /// IEEE 754 binary32.
    Float32,
    /// IEEE 754 binary16.
    Float16,
    /// bfloat16 (the high half of a binary32).
    BFloat16,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElementType::Float32 => 4,
            ElementType::Float16 | ElementType::BFloat16 => 2,
        }
    }

    /// The name FT.CREATE / FT.INFO use.
    pub fn name(self) -> &'static str {
        match self {
            ElementType::Float32 => "FLOAT32",
            ElementType::Float16 => "FLOAT16",
            ElementType::BFloat16 => "BFLOAT16",
        }
    }

    /// Parses an FT.CREATE `TYPE` value (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "FLOAT32" => Some(ElementType::Float32),
            "FLOAT16" => Some(ElementType::Float16),
            "BFLOAT16" => Some(ElementType::BFloat16),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            ElementType::Float32 => 0,
            ElementType::Float16 => 1,
            ElementType::BFloat16 => 2,
        }
    }

    pub(crate) fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(ElementType::Float32),
            1 => Some(ElementType::Float16),
            2 => Some(ElementType::BFloat16),
            _ => None,
        }
    }
}

/// Why a blob is not a vector of the field's type and dimension.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlobError {
    /// The blob has the wrong number of bytes.
    #[error("vector blob has {got} bytes, expected {expected} ({dim} x {ty})")]
    WrongLength {
        /// Bytes received.
        got: usize,
        /// Bytes expected (`dim * size`).
        expected: usize,
        /// Field dimension.
        dim: usize,
        /// Element type name.
        ty: &'static str,
    },
}

/// Decodes a little-endian blob of `dim` elements of type `ty` into f32.
pub fn parse_blob(ty: ElementType, dim: usize, bytes: &[u8]) -> Result<Vec<f32>, BlobError> {
    let expected = dim.saturating_mul(ty.size());
    if bytes.len() != expected {
        return Err(BlobError::WrongLength {
            got: bytes.len(),
            expected,
            dim,
            ty: ty.name(),
        });
    }
    Ok(match ty {
        ElementType::Float32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        ElementType::Float16 => bytes
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        ElementType::BFloat16 => bytes
            .chunks_exact(2)
            .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
    })
}

/// Encodes `v` as a little-endian blob of type `ty` (the inverse of [`parse_blob`], rounding
/// to nearest for the 16-bit types). Used by tests, benches and the FT layer's replies.
pub fn encode_blob(ty: ElementType, v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * ty.size());
    for &x in v {
        match ty {
            ElementType::Float32 => out.extend_from_slice(&x.to_le_bytes()),
            ElementType::Float16 => out.extend_from_slice(&f16::from_f32(x).to_le_bytes()),
            ElementType::BFloat16 => out.extend_from_slice(&bf16::from_f32(x).to_le_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_each_type_little_endian() {
        let v = [1.0f32, -2.5, 0.0, 65504.0];
        for ty in [
            ElementType::Float32,
            ElementType::Float16,
            ElementType::BFloat16,
        ] {
            let blob = encode_blob(ty, &v);
            assert_eq!(blob.len(), v.len() * ty.size());
            let back = parse_blob(ty, 4, &blob).unwrap();
            if ty == ElementType::BFloat16 {
                // 65504 is not representable in bf16 (8-bit mantissa): rounds to 65536.
                assert_eq!(back, vec![1.0, -2.5, 0.0, 65536.0]);
            } else {
                assert_eq!(back, v.to_vec());
            }
            assert_eq!(ElementType::parse(ty.name()), Some(ty));
            assert_eq!(ElementType::from_code(ty.code()), Some(ty));
        }
        // Explicit byte order: 1.0f32 = 0x3F800000 little-endian.
        assert_eq!(
            parse_blob(ElementType::Float32, 1, &[0, 0, 0x80, 0x3F]).unwrap(),
            vec![1.0]
        );
        assert_eq!(
            parse_blob(ElementType::Float16, 1, &[0x00, 0x3C]).unwrap(),
            vec![1.0]
        );
        assert_eq!(
            parse_blob(ElementType::BFloat16, 1, &[0x80, 0x3F]).unwrap(),
            vec![1.0]
        );
    }

    #[test]
    fn rejects_wrong_length() {
        let err = parse_blob(ElementType::Float32, 4, &[0; 15]).unwrap_err();
        assert_eq!(
            err,
            BlobError::WrongLength {
                got: 15,
                expected: 16,
                dim: 4,
                ty: "FLOAT32"
            }
        );
        assert!(parse_blob(ElementType::Float16, 4, &[0; 16]).is_err());
        assert!(parse_blob(ElementType::Float32, usize::MAX, &[0; 4]).is_err());
        assert_eq!(
            parse_blob(ElementType::Float32, 0, &[]).unwrap(),
            Vec::<f32>::new()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), dim in 0usize..40) {
            for ty in [ElementType::Float32, ElementType::Float16, ElementType::BFloat16] {
                let r = parse_blob(ty, dim, &bytes);
                prop_assert_eq!(r.is_ok(), bytes.len() == dim * ty.size());
                if let Ok(v) = r {
                    prop_assert_eq!(v.len(), dim);
                    // Round trip is bit-exact for the native type (NaN payloads included).
                    let again = encode_blob(ty, &v);
                    if ty == ElementType::Float32 { prop_assert_eq!(again, bytes.clone()); }
                }
            }
        }
    }
}
