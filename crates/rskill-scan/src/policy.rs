//! What the scanners' findings mean: the allowlist of globals a weights pickle may
//! import (the callables that rebuild tensors and plain containers, nothing else — an
//! allowlist, so a new bypass fails closed), and the custom ONNX operator domains that
//! are part of the standard.

use crate::pickle::Global;

/// Globals a tensor checkpoint needs: tensor and parameter rebuilders, storage types,
/// dtypes, ordered dicts, numpy array reconstruction, and the codec protocol 2 uses
/// for bytes.
pub const PICKLE_ALLOWLIST: &[(&str, &str)] = &[
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor_v3"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    ("torch.nn.parameter", "Parameter"),
    ("torch", "Size"),
    ("torch", "FloatStorage"),
    ("torch", "DoubleStorage"),
    ("torch", "HalfStorage"),
    ("torch", "BFloat16Storage"),
    ("torch", "LongStorage"),
    ("torch", "IntStorage"),
    ("torch", "ShortStorage"),
    ("torch", "CharStorage"),
    ("torch", "ByteStorage"),
    ("torch", "BoolStorage"),
    ("torch", "ComplexFloatStorage"),
    ("torch", "ComplexDoubleStorage"),
    ("torch", "UntypedStorage"),
    ("torch", "float16"),
    ("torch", "float32"),
    ("torch", "float64"),
    ("torch", "bfloat16"),
    ("torch", "int8"),
    ("torch", "int16"),
    ("torch", "int32"),
    ("torch", "int64"),
    ("torch", "uint8"),
    ("torch", "bool"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
];

/// Whether a pickle may import `g`.
pub fn pickle_global_allowed(g: &Global) -> bool {
    PICKLE_ALLOWLIST
        .iter()
        .any(|(m, n)| *m == g.module && *n == g.name)
}

/// The operator domains of the ONNX standard (the empty string is `ai.onnx`).
pub const ONNX_STANDARD_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
];

/// Whether `domain` is a custom operator domain (needs a runtime extension).
pub fn onnx_domain_is_custom(domain: &str) -> bool {
    !ONNX_STANDARD_DOMAINS.contains(&domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowlisted_globals_pass() {
        let g = |m: &str, n: &str| Global {
            module: m.into(),
            name: n.into(),
        };
        assert!(pickle_global_allowed(&g(
            "torch._utils",
            "_rebuild_tensor_v2"
        )));
        assert!(pickle_global_allowed(&g("collections", "OrderedDict")));
        for (m, n) in [
            ("os", "system"),
            ("builtins", "exec"),
            ("torch", "load"),
            ("torch._utils", "_rebuild_tensor_v2x"),
            ("collections.OrderedDict", ""),
            ("numpy", "load"),
        ] {
            assert!(!pickle_global_allowed(&g(m, n)), "{m}.{n}");
        }
        assert!(onnx_domain_is_custom("com.microsoft"));
        assert!(!onnx_domain_is_custom("ai.onnx.ml"));
    }
}
