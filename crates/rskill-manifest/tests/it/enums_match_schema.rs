//! Every `enum` of the JSON Schema matches the Rust `string_enum!` that models it,
//! compared with the enum's own `ALL` list (no third, hand-kept copy of the values):
//! the same set, nulls only where the schema allows null; and the license postures
//! classify as the spec says.

use std::collections::BTreeSet;

use rskill_manifest::license::{CommercialUse, LicensePosture};
use rskill_manifest::manifest::*;
use serde_json::Value;

/// `(pointer, values without null, has null)` for every `enum` in the schema.
fn schema_enums() -> Vec<(String, BTreeSet<String>, bool)> {
    fn walk(node: &Value, pointer: &str, out: &mut Vec<(String, BTreeSet<String>, bool)>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Array(values)) = map.get("enum") {
                    let strings: BTreeSet<String> = values
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    let nulls = values.iter().filter(|v| v.is_null()).count();
                    assert_eq!(
                        strings.len() + nulls,
                        values.len(),
                        "{pointer}: enum values are strings (and null), without repeats"
                    );
                    assert!(nulls <= 1, "{pointer}: null listed twice");
                    out.push((format!("{pointer}/enum"), strings, nulls == 1));
                }
                for (k, v) in map {
                    let k = k.replace('~', "~0").replace('/', "~1");
                    walk(v, &format!("{pointer}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(rskill_manifest::schema::schema(), "", &mut out);
    out
}

/// The spellings the enum's values actually serialize to (and, checked on the way, what
/// `as_str` says).
fn set_of<T: Copy + serde::Serialize>(
    all: &[T],
    as_str: fn(T) -> &'static str,
) -> BTreeSet<String> {
    let set: BTreeSet<String> = all
        .iter()
        .map(|v| {
            let serialized = serde_json::to_value(v).unwrap();
            let spelled = serialized
                .as_str()
                .unwrap_or_else(|| panic!("{serialized} is not a string"))
                .to_string();
            assert_eq!(spelled, as_str(*v), "serde and as_str disagree");
            spelled
        })
        .collect();
    assert_eq!(set.len(), all.len(), "a Rust enum repeats a spelling");
    set
}

struct Expected {
    pointer: &'static str,
    rust_name: &'static str,
    /// The spellings of the Rust enum's own `ALL` list.
    rust: BTreeSet<String>,
    /// Whether the schema also allows `null` here.
    nullable: bool,
}

fn expected() -> Vec<Expected> {
    let e = |pointer, rust_name, rust, nullable| Expected {
        pointer,
        rust_name,
        rust,
        nullable,
    };
    vec![
        e(
            "/properties/license/enum",
            "LicensePosture",
            set_of(LicensePosture::ALL, LicensePosture::as_str),
            false,
        ),
        e(
            "/properties/role/enum",
            "Role",
            set_of(Role::ALL, Role::as_str),
            false,
        ),
        e(
            "/properties/kind/enum",
            "Kind",
            set_of(Kind::ALL, Kind::as_str),
            false,
        ),
        e(
            "/properties/model_family/enum",
            "ModelFamily",
            set_of(ModelFamily::ALL, ModelFamily::as_str),
            true,
        ),
        e(
            "/$defs/embodimentTag/enum",
            "EmbodimentTag",
            set_of(EmbodimentTag::ALL, EmbodimentTag::as_str),
            false,
        ),
        e(
            "/properties/runtime/enum",
            "Runtime",
            set_of(Runtime::ALL, Runtime::as_str),
            false,
        ),
        e(
            "/$defs/actionVerb/enum",
            "ActionVerb",
            set_of(ActionVerb::ALL, ActionVerb::as_str),
            false,
        ),
        e(
            "/$defs/sensorModality/enum",
            "SensorModality",
            set_of(SensorModality::ALL, SensorModality::as_str),
            false,
        ),
        e(
            "/$defs/controlMode/enum",
            "ControlMode",
            set_of(ControlMode::ALL, ControlMode::as_str),
            false,
        ),
        e(
            "/$defs/ActionSlot/properties/control_mode/enum",
            "ControlMode",
            set_of(ControlMode::ALL, ControlMode::as_str),
            true,
        ),
        e(
            "/$defs/ControlModeSemantics/properties/mode/enum",
            "CommandMode",
            set_of(CommandMode::ALL, CommandMode::as_str),
            false,
        ),
        e(
            "/$defs/ControlModeSemantics/properties/gripper_convention/enum",
            "GripperConvention",
            set_of(GripperConvention::ALL, GripperConvention::as_str),
            true,
        ),
        e(
            "/$defs/quantDtype/enum",
            "QuantDtype",
            set_of(QuantDtype::ALL, QuantDtype::as_str),
            false,
        ),
        e(
            "/$defs/QuantizationConfig/properties/backend/enum",
            "QuantBackend",
            set_of(QuantBackend::ALL, QuantBackend::as_str),
            false,
        ),
        e(
            "/properties/state_contract/properties/layout/enum",
            "StateLayout",
            set_of(StateLayout::ALL, StateLayout::as_str),
            true,
        ),
        e(
            "/properties/action_contract/properties/representation/enum",
            "ActionRepresentation",
            set_of(ActionRepresentation::ALL, ActionRepresentation::as_str),
            true,
        ),
        e(
            "/properties/state_contract/properties/bindings/properties/quaternion_convention/enum",
            "QuaternionConvention",
            set_of(QuaternionConvention::ALL, QuaternionConvention::as_str),
            false,
        ),
        e(
            "/properties/ros_integration/properties/goal_builder/enum",
            "GoalBuilder",
            set_of(GoalBuilder::ALL, GoalBuilder::as_str),
            true,
        ),
        e(
            "/properties/detector/properties/engine/enum",
            "DetectorEngine",
            set_of(DetectorEngine::ALL, DetectorEngine::as_str),
            true,
        ),
        e(
            "/properties/detector/properties/mode/enum",
            "DetectorMode",
            set_of(DetectorMode::ALL, DetectorMode::as_str),
            false,
        ),
        Expected {
            pointer: "/$defs/benchmarkName/enum",
            rust_name: "Benchmark",
            rust: set_of(Benchmark::ALL, Benchmark::as_str),
            nullable: false,
        },
    ]
}

#[test]
fn every_schema_enum_is_accounted_for() {
    let found: BTreeSet<String> = schema_enums().into_iter().map(|(p, _, _)| p).collect();
    let known: BTreeSet<String> = expected().iter().map(|e| e.pointer.to_string()).collect();
    let unknown: Vec<&String> = found.difference(&known).collect();
    let missing: Vec<&String> = known.difference(&found).collect();
    assert!(
        unknown.is_empty() && missing.is_empty(),
        "schema enums without a Rust counterpart here: {unknown:?}; expected but not in the schema: {missing:?}"
    );
}

#[test]
fn schema_enums_match_the_rust_enums_own_lists() {
    let found = schema_enums();
    let mut failures = Vec::new();
    for e in expected() {
        let Some((_, schema_set, schema_null)) = found.iter().find(|(p, _, _)| p == e.pointer)
        else {
            failures.push(format!("{}: no enum in the schema", e.pointer));
            continue;
        };
        let rust = &e.rust;
        if rust != schema_set {
            failures.push(format!(
                "{} vs {}: only in schema {:?}; only in Rust {:?}",
                e.pointer,
                e.rust_name,
                schema_set.difference(rust).collect::<Vec<_>>(),
                rust.difference(schema_set).collect::<Vec<_>>()
            ));
        }
        if *schema_null != e.nullable {
            failures.push(format!(
                "{}: null allowed in the schema = {schema_null}, expected {}",
                e.pointer, e.nullable
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rust_enums_round_trip_their_spelling() {
    fn check<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy
            + PartialEq
            + std::fmt::Debug
            + std::str::FromStr
            + std::fmt::Display
            + serde::Serialize
            + serde::de::DeserializeOwned,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for v in all {
            let s = as_str(*v);
            assert_eq!(s.parse::<T>().unwrap(), *v);
            assert_eq!(v.to_string(), s);
            // What the value itself serializes to, and back.
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json, Value::String(s.to_string()));
            assert_eq!(serde_json::from_value::<T>(json).unwrap(), *v);
        }
        assert!("definitely-not-a-value".parse::<T>().is_err());
    }
    check(LicensePosture::ALL, LicensePosture::as_str);
    check(Role::ALL, Role::as_str);
    check(Kind::ALL, Kind::as_str);
    check(ModelFamily::ALL, ModelFamily::as_str);
    check(EmbodimentTag::ALL, EmbodimentTag::as_str);
    check(Runtime::ALL, Runtime::as_str);
    check(ActionVerb::ALL, ActionVerb::as_str);
    check(SensorModality::ALL, SensorModality::as_str);
    check(ControlMode::ALL, ControlMode::as_str);
    check(CommandMode::ALL, CommandMode::as_str);
    check(GripperConvention::ALL, GripperConvention::as_str);
    check(QuantDtype::ALL, QuantDtype::as_str);
    check(QuantBackend::ALL, QuantBackend::as_str);
    check(StateLayout::ALL, StateLayout::as_str);
    check(ActionRepresentation::ALL, ActionRepresentation::as_str);
    check(QuaternionConvention::ALL, QuaternionConvention::as_str);
    check(GoalBuilder::ALL, GoalBuilder::as_str);
    check(DetectorEngine::ALL, DetectorEngine::as_str);
    check(DetectorMode::ALL, DetectorMode::as_str);
    check(Benchmark::ALL, Benchmark::as_str);
}

#[test]
fn min_vram_gb_keys_are_the_quantization_dtypes() {
    let s = rskill_manifest::schema::schema();
    assert_eq!(
        s["properties"]["min_vram_gb"]["propertyNames"]["$ref"],
        "#/$defs/quantDtype"
    );
    assert_eq!(
        s["properties"]["benchmarks"]["propertyNames"]["$ref"],
        "#/$defs/benchmarkName"
    );
    assert_eq!(s["properties"]["schema_version"]["const"], "0.1");
    assert_eq!(
        s["$defs"]["SafetyEnvelope"]["properties"]["e_stop_qos"]["const"],
        "reliable"
    );
}

// ------------------------------------------------------------------ license postures

#[test]
fn license_postures_classify_as_the_spec_says() {
    use LicensePosture::*;
    let allowed = [Apache2, Mit, Bsd, NvidiaOpenModel];
    let non_commercial = [PermissiveResearch, NvidiaNonCommercial, RlwrldNonCommercial];
    let unclear = [Proprietary, Unknown];
    assert_eq!(
        allowed.len() + non_commercial.len() + unclear.len(),
        LicensePosture::ALL.len(),
        "every posture is classified"
    );
    for p in allowed {
        assert_eq!(p.commercial_use(), CommercialUse::Allowed, "{p}");
        assert!(p.commercial_use_allowed() && !p.is_non_commercial(), "{p}");
    }
    for p in non_commercial {
        assert_eq!(p.commercial_use(), CommercialUse::NonCommercial, "{p}");
        assert!(p.is_non_commercial() && !p.commercial_use_allowed(), "{p}");
    }
    for p in unclear {
        assert_eq!(p.commercial_use(), CommercialUse::Unclear, "{p}");
        // Not cleared, but not blocked either.
        assert!(!p.commercial_use_allowed() && !p.is_non_commercial(), "{p}");
    }
    assert_eq!(
        LicensePosture::default(),
        Unknown,
        "the spec default is unknown"
    );
    let by_spelling: Vec<(&str, CommercialUse)> = LicensePosture::ALL
        .iter()
        .map(|p| (p.as_str(), p.commercial_use()))
        .collect();
    assert!(by_spelling.contains(&("apache-2.0", CommercialUse::Allowed)));
    assert!(by_spelling.contains(&("nvidia_open_model", CommercialUse::Allowed)));
    assert!(by_spelling.contains(&("permissive_research", CommercialUse::NonCommercial)));
    assert!(by_spelling.contains(&("proprietary", CommercialUse::Unclear)));
}

#[test]
fn every_posture_has_card_license_metadata_that_agrees_with_itself() {
    for p in LicensePosture::ALL {
        let (id, name) = p.card_license();
        assert!(p.card_agrees(Some(id), name), "{p}");
        assert!(
            !p.card_agrees(None, None),
            "{p}: absent metadata never agrees"
        );
        // Every other posture's metadata disagrees (no two postures look alike on a card).
        for q in LicensePosture::ALL.iter().filter(|q| *q != p) {
            let (qid, qname) = q.card_license();
            assert!(
                !p.card_agrees(Some(qid), qname),
                "{p} accepts {q}'s metadata"
            );
        }
    }
    assert!(LicensePosture::Bsd.card_agrees(Some("bsd-2-clause"), None));
    assert!(!LicensePosture::Mit.card_agrees(Some("MIT"), None));
}

#[test]
fn opt_in_variables_and_pickle_extensions() {
    assert_eq!(
        rskill_manifest::license::ALLOW_NONCOMMERCIAL_ENV,
        "OPENRAL_ALLOW_NONCOMMERCIAL"
    );
    assert_eq!(
        rskill_manifest::license::ALLOW_UNSAFE_PICKLE_ENV,
        "OPENRAL_ALLOW_UNSAFE_PICKLE"
    );
    // Exactly `1` opts in. A variable private to this test, so no other test sees it.
    let var = "RSKILL_TEST_ENUMS_OPT_IN_PROBE";
    for (value, expected) in [
        ("1", true),
        ("0", false),
        ("true", false),
        ("yes", false),
        (" 1", false),
        ("1 ", false),
        ("", false),
    ] {
        // SAFETY: the variable name is unique to this test; nothing else reads it.
        unsafe { std::env::set_var(var, value) };
        assert_eq!(
            rskill_manifest::license::env_opt_in(var),
            expected,
            "{value:?}"
        );
    }
    unsafe { std::env::remove_var(var) };
    assert!(!rskill_manifest::license::env_opt_in(var));
    for f in ["m.pt", "m.pth", "m.bin", "m.ckpt", "m.pkl", "dir/M.PKL"] {
        assert!(rskill_manifest::license::is_pickle_file(f), "{f}");
    }
    for f in [
        "model.safetensors",
        "model.onnx",
        "model-00001-of-00002.safetensors",
        "model.safetensors.index.json",
    ] {
        assert!(!rskill_manifest::license::is_pickle_file(f), "{f}");
    }
}
