//! ONNX checks: the model decodes, its opsets are recorded, custom operator domains are
//! listed, and every external-data location stays inside the model's folder (relative,
//! no `..` that climbs out, no symlink that leads out). The file is memory-mapped and
//! decoded with the `prost` types of [`crate::onnx_proto`]; tensor payloads are skipped.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Component, Path};

use prost::Message;

use crate::onnx_proto::{
    DATA_LOCATION_EXTERNAL, GraphProto, ModelProto, NodeProto, SparseTensorProto, TensorProto,
};
use crate::policy::onnx_domain_is_custom;
use crate::report::{ScanReport, ScanType, Severity};

const T: ScanType = ScanType::Onnx;

/// Scans the ONNX model at `path` (shown as `rel`) into `report`.
pub fn scan_onnx(path: &Path, rel: &str, report: &mut ScanReport) {
    report.touch(T).files += 1;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return report.push(T, Severity::Error, rel, format!("cannot open: {e}")),
    };
    // SAFETY: the map is read-only and dropped before this function returns; a file
    // changed underneath can at worst make decoding fail, which is reported.
    let map = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => m,
        Err(e) => return report.push(T, Severity::Error, rel, format!("cannot map: {e}")),
    };
    report.bytes_scanned += map.len() as u64;
    let model = match ModelProto::decode(&map[..]) {
        Ok(m) => m,
        Err(e) => {
            return report.push(
                T,
                Severity::Error,
                rel,
                format!("not a valid ONNX model (protobuf: {e})"),
            );
        }
    };
    check_model(&model, path.parent().unwrap_or(Path::new(".")), rel, report);
}

/// Checks a decoded model whose file lives in `dir`.
pub fn check_model(model: &ModelProto, dir: &Path, rel: &str, report: &mut ScanReport) {
    report.field(T, "ir_version", model.ir_version.to_string());
    let mut opsets = Vec::new();
    let mut domains = BTreeSet::new();
    for o in &model.opset_import {
        let d = if o.domain.is_empty() {
            "ai.onnx"
        } else {
            &o.domain
        };
        opsets.push(format!("{d}:{}", o.version));
        domains.insert(o.domain.clone());
    }
    if opsets.is_empty() {
        report.push(T, Severity::Warning, rel, "the model declares no opset");
    } else {
        report.field(T, "opset", opsets.join(", "));
    }
    let mut v = Visitor {
        dir,
        rel,
        report,
        domains: &mut domains,
    };
    if let Some(g) = &model.graph {
        v.graph(g);
    }
    for t in &model.training_info {
        for g in t.initialization.iter().chain(&t.algorithm) {
            v.graph(g);
        }
    }
    for f in &model.functions {
        v.domains.insert(f.domain.clone());
        for n in &f.node {
            v.node(n);
        }
    }
    let custom: Vec<&String> = domains
        .iter()
        .filter(|d| onnx_domain_is_custom(d))
        .collect();
    if !custom.is_empty() {
        let list = custom
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        report.field(T, "custom_domains", list.clone());
        report.push(
            T,
            Severity::Info,
            rel,
            format!("custom operator domains (need a runtime that provides them): {list}"),
        );
    }
}

struct Visitor<'a> {
    dir: &'a Path,
    rel: &'a str,
    report: &'a mut ScanReport,
    domains: &'a mut BTreeSet<String>,
}

impl Visitor<'_> {
    fn graph(&mut self, g: &GraphProto) {
        for t in &g.initializer {
            self.tensor(t);
        }
        for s in &g.sparse_initializer {
            self.sparse(s);
        }
        for n in &g.node {
            self.node(n);
        }
    }

    fn node(&mut self, n: &NodeProto) {
        self.domains.insert(n.domain.clone());
        for a in &n.attribute {
            for t in a.t.iter().chain(&a.tensors) {
                self.tensor(t);
            }
            for s in a.sparse_tensor.iter().chain(&a.sparse_tensors) {
                self.sparse(s);
            }
            if let Some(g) = &a.g {
                self.graph(g);
            }
            for g in &a.graphs {
                self.graph(g);
            }
        }
    }

    fn sparse(&mut self, s: &SparseTensorProto) {
        for t in s.values.iter().chain(&s.indices) {
            self.tensor(t);
        }
    }

    fn tensor(&mut self, t: &TensorProto) {
        if t.data_location != DATA_LOCATION_EXTERNAL && t.external_data.is_empty() {
            return;
        }
        let location = t
            .external_data
            .iter()
            .find(|e| e.key == "location")
            .map(|e| e.value.as_str());
        let Some(location) = location else {
            return self.report.push(
                T,
                Severity::Dangerous,
                self.rel,
                format!("tensor `{}` has external data without a location", t.name),
            );
        };
        self.report.field(T, "external_data", location);
        for e in &t.external_data {
            if matches!(e.key.as_str(), "offset" | "length") && e.value.parse::<u64>().is_err() {
                self.report.push(
                    T,
                    Severity::Dangerous,
                    self.rel,
                    format!(
                        "tensor `{}`: external data {} `{}` is not a byte count",
                        t.name, e.key, e.value
                    ),
                );
            }
        }
        if let Err(problem) = location_inside(self.dir, location) {
            self.report.push(
                T,
                Severity::Dangerous,
                self.rel,
                format!(
                    "tensor `{}`: external data location `{location}` {problem}",
                    t.name
                ),
            );
        }
    }
}

/// Whether an external-data `location` names a file inside `dir`: relative, without a
/// `..` that climbs above it, and (when it exists) not a symlink leading out.
pub fn location_inside(dir: &Path, location: &str) -> Result<(), String> {
    if location.is_empty() {
        return Err("is empty".into());
    }
    if location.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    let looks_windows_absolute = location.starts_with('\\')
        || location
            .as_bytes()
            .get(1..3)
            .is_some_and(|b| b[0] == b':' && (b[1] == b'\\' || b[1] == b'/'));
    if Path::new(location).is_absolute() || looks_windows_absolute {
        return Err("is an absolute path (must be relative to the model's folder)".into());
    }
    let mut depth: i64 = 0;
    for part in location.split(['/', '\\']) {
        match Path::new(part).components().next() {
            Some(Component::ParentDir) => depth -= 1,
            Some(Component::Normal(_)) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return Err("climbs out of the model's folder".into());
        }
    }
    let target = dir.join(location);
    if let (Ok(real), Ok(base)) = (target.canonicalize(), dir.canonicalize())
        && !real.starts_with(&base)
    {
        return Err(format!(
            "resolves to {} outside the model's folder (a symlink)",
            real.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx_proto::{AttributeProto, OperatorSetIdProto, StringStringEntryProto};

    fn external(location: &str) -> TensorProto {
        TensorProto {
            name: "w".into(),
            data_location: DATA_LOCATION_EXTERNAL,
            external_data: vec![StringStringEntryProto {
                key: "location".into(),
                value: location.into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn custom_domains_opsets_and_external_data_in_subgraphs() {
        // An `If` node whose `then_branch` subgraph holds an escaping initializer, and a
        // node of a custom domain.
        let sub = GraphProto {
            initializer: vec![external("../../../etc/shadow")],
            ..Default::default()
        };
        let model = ModelProto {
            ir_version: 8,
            opset_import: vec![
                OperatorSetIdProto {
                    domain: String::new(),
                    version: 17,
                },
                OperatorSetIdProto {
                    domain: "com.microsoft".into(),
                    version: 1,
                },
            ],
            graph: Some(GraphProto {
                node: vec![
                    NodeProto {
                        op_type: "If".into(),
                        attribute: vec![AttributeProto {
                            name: "then_branch".into(),
                            g: Some(Box::new(sub)),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    NodeProto {
                        op_type: "FusedGemm".into(),
                        domain: "com.example.ops".into(),
                        ..Default::default()
                    },
                ],
                initializer: vec![external("weights/model.onnx_data")],
                ..Default::default()
            }),
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx");
        std::fs::write(&path, model.encode_to_vec()).unwrap();
        let mut r = ScanReport::new("m");
        scan_onnx(&path, "m.onnx", &mut r);
        r.finish();
        let rec = r.records();
        assert_eq!(rec["scan.onnx.opset"], "ai.onnx:17, com.microsoft:1");
        assert_eq!(
            rec["scan.onnx.custom_domains"],
            "com.example.ops, com.microsoft"
        );
        assert_eq!(rec["scan.onnx.status"], "dangerous");
        let dangerous: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Dangerous)
            .collect();
        assert_eq!(dangerous.len(), 1, "{:?}", r.findings);
        assert!(dangerous[0].message.contains("../../../etc/shadow"));

        // Not a model at all: an error, not a pass.
        std::fs::write(&path, b"\xff\xff\xff\xff").unwrap();
        let mut r = ScanReport::new("m");
        scan_onnx(&path, "m.onnx", &mut r);
        r.finish();
        assert_eq!(r.status(), crate::Status::Error);
    }

    #[test]
    fn locations() {
        let d = Path::new("/nonexistent-model-dir");
        assert!(location_inside(d, "model.onnx_data").is_ok());
        assert!(location_inside(d, "weights/../model.onnx_data").is_ok());
        for bad in [
            "/etc/passwd",
            "../secret",
            "a/../../secret",
            "..\\..\\x",
            "C:\\Windows\\x",
            "\\\\server\\share",
            "",
        ] {
            assert!(location_inside(d, bad).is_err(), "{bad}");
        }
    }
}
