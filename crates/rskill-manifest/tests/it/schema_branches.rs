//! Every branch of `schemas/rskill.schema.json`, each with a valid and an invalid case:
//! types, enums, patterns, ranges, null-ability, required keys, closed objects, length
//! bounds and free objects. Cases are table-driven: a valid base manifest per kind,
//! mutated at a JSON pointer, then run through `rskill_manifest::validate::check_value`, with the
//! expected `field` (YAML path) and `rule` (`schema/<keyword>`) asserted.

use crate::util::*;
use serde_json::{Value, json};

fn s(n: usize) -> String {
    "x".repeat(n)
}

// ------------------------------------------------------------------ bases

#[test]
fn every_base_manifest_is_valid() {
    for b in Base::ALL {
        let check = check(b.value());
        assert!(
            check.is_valid(),
            "base {b:?} must be valid:{}",
            describe(&check.violations)
        );
        let m = check.manifest.expect("typed manifest");
        assert_eq!(m.kind.as_str(), b.kind(), "base {b:?}");
        // The text path agrees with the value path.
        assert!(
            rskill_manifest::validate::check_text(b.yaml()).is_valid(),
            "{b:?}"
        );
    }
    let custom = Base::Custom.value();
    assert_eq!(custom["embodiment_tags"], json!(["custom"]));
    assert_eq!(Base::Detector.value()["runtime"], json!("onnx"));
}

// ------------------------------------------------------------------ required keys

const REQUIRED: [&str; 7] = [
    "name",
    "version",
    "kind",
    "chunk_size",
    "latency_budget",
    "description",
    "actions",
];

#[test]
fn schema_requires_exactly_the_spec_keys() {
    let schema = rskill_manifest::schema::schema();
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    let mut want = REQUIRED.to_vec();
    want.sort_unstable();
    assert_eq!(required, want);
}

#[test]
fn each_required_key_missing() {
    let mut cases = Vec::new();
    for key in REQUIRED {
        for base in [Base::Wam, Base::Vla, Base::Playbook] {
            cases.push(case(
                format!("{key} missing"),
                base,
                vec![rm(&format!("/{key}"))],
                bad_msg(key, "schema/required", "missing"),
            ));
        }
    }
    run_table("required keys", &cases);
}

#[test]
fn every_optional_key_may_be_omitted() {
    // Keys a `vla` must keep for the per-kind rules (5) and rule 4 (smolvla → processors).
    let keep = [
        "model_family",
        "weights_uri",
        "actuators_required",
        "processors",
        "embodiment_tags",
    ];
    let base = Base::Vla.value();
    let mut cases = Vec::new();
    for key in base.as_object().unwrap().keys() {
        if REQUIRED.contains(&key.as_str()) || keep.contains(&key.as_str()) {
            continue;
        }
        cases.push(case(
            format!("{key} omitted"),
            Base::Vla,
            vec![rm(&format!("/{key}"))],
            valid(),
        ));
    }
    let props = rskill_manifest::schema::schema()["properties"]
        .as_object()
        .unwrap();
    let mut set_keys: Vec<&String> = base.as_object().unwrap().keys().collect();
    let mut all: Vec<&String> = props.keys().collect();
    set_keys.sort();
    all.sort();
    assert_eq!(set_keys, all, "the full vla base sets every top-level key");
    run_table("optional keys", &cases);
}

// ------------------------------------------------------------------ null-ability and types

/// Top-level keys that accept `null` (spec table), and those that do not.
const NULLABLE: [&str; 22] = [
    "model_family",
    "embodiment_extra",
    "weights_uri",
    "min_vram_gb",
    "fallback_skill_id",
    "sim_env_control_mode",
    "paper_url",
    "dataset_uri",
    "source_repo",
    "envelope",
    "processors",
    "image_preprocessing",
    "state_contract",
    "action_contract",
    "n_action_steps",
    "starting_pose",
    "ros_integration",
    "detector",
    "reward",
    "reward_rskill_name",
    "playbook",
    "goal_params_schema",
];
const NOT_NULLABLE: [&str; 21] = [
    "schema_version",
    "name",
    "version",
    "license",
    "role",
    "kind",
    "embodiment_tags",
    "capabilities_required",
    "sensors_required",
    "actuators_required",
    "runtime",
    "quantization",
    "chunk_size",
    "latency_budget",
    "benchmarks",
    "evaluated_tasks",
    "description",
    "actions",
    "objects",
    "scenes",
    "policy_extras",
];

#[test]
fn null_ability_lists_cover_every_top_level_key() {
    let props = rskill_manifest::schema::schema()["properties"]
        .as_object()
        .unwrap();
    let mut schema_keys: Vec<&str> = props.keys().map(String::as_str).collect();
    schema_keys.sort_unstable();
    let mut ours: Vec<&str> = NULLABLE
        .iter()
        .chain(NOT_NULLABLE.iter())
        .copied()
        .collect();
    ours.sort_unstable();
    assert_eq!(
        schema_keys, ours,
        "top-level keys of the schema vs the spec"
    );
}

#[test]
fn top_level_null_ability() {
    let mut cases = Vec::new();
    for key in NULLABLE {
        cases.push(case(
            format!("{key}: null"),
            Base::Wam,
            vec![set(&format!("/{key}"), Value::Null)],
            valid(),
        ));
    }
    for key in NOT_NULLABLE {
        let rule = match key {
            "schema_version" => "schema/const",
            _ => "schema/type",
        };
        cases.push(case(
            format!("{key}: null"),
            Base::Wam,
            vec![set(&format!("/{key}"), Value::Null)],
            bad_among(key, rule),
        ));
    }
    run_table("null-ability", &cases);
}

#[test]
fn every_top_level_key_rejects_a_wrong_type() {
    // No top-level key is a boolean; each must be reported at its own field.
    let mut failures = Vec::new();
    for key in NULLABLE.iter().chain(NOT_NULLABLE.iter()) {
        let mut doc = Base::Wam.value();
        doc[*key] = json!(true);
        let check = check(doc);
        let hit = check
            .violations
            .iter()
            .any(|v| v.field == *key && v.rule.starts_with("schema/"));
        if !hit {
            failures.push(format!("{key}: true:{}", describe(&check.violations)));
        }
        for v in &check.violations {
            if let Some(p) = wording_problems(v) {
                failures.push(format!("{key}: {p}: {}", v.message));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn null_type_errors_read_naturally() {
    // "expected string, found null null" repeats itself; the value and its type are
    // the same word for null.
    let mut doc = Base::Wam.value();
    doc["name"] = Value::Null;
    let check = check(doc);
    let v = check
        .violations
        .iter()
        .find(|v| v.field == "name" && v.rule == "schema/type")
        .expect("a type violation at name");
    assert!(!v.message.contains("null null"), "{:?}", v.message);
}

// ------------------------------------------------------------------ unknown keys

#[test]
fn unknown_keys_in_every_closed_object() {
    let parents: [(Base, &str, &str); 20] = [
        (Base::Wam, "", ""),
        (Base::Custom, "/embodiment_extra", "embodiment_extra."),
        (
            Base::Custom,
            "/embodiment_extra/sensors/0",
            "embodiment_extra.sensors[0].",
        ),
        (
            Base::Custom,
            "/embodiment_extra/actuators/0",
            "embodiment_extra.actuators[0].",
        ),
        (Base::Vla, "/sensors_required/0", "sensors_required[0]."),
        (Base::Vla, "/actuators_required/1", "actuators_required[1]."),
        (
            Base::Vla,
            "/actuators_required/0/control_mode_semantics",
            "actuators_required[0].control_mode_semantics.",
        ),
        (
            Base::Vla,
            "/action_contract/slots/1",
            "action_contract.slots[1].",
        ),
        (Base::Vla, "/quantization", "quantization."),
        (Base::Vla, "/envelope", "envelope."),
        (Base::Vla, "/latency_budget", "latency_budget."),
        (Base::Vla, "/processors", "processors."),
        (Base::Vla, "/image_preprocessing", "image_preprocessing."),
        (Base::Vla, "/state_contract", "state_contract."),
        (
            Base::Vla,
            "/state_contract/bindings",
            "state_contract.bindings.",
        ),
        (Base::Vla, "/action_contract", "action_contract."),
        (Base::RosAction, "/ros_integration", "ros_integration."),
        (Base::Detector, "/detector", "detector."),
        (Base::Reward, "/reward", "reward."),
        (Base::Playbook, "/playbook", "playbook."),
    ];
    let mut cases = Vec::new();
    for (base, parent, field_prefix) in parents {
        cases.push(case(
            format!("unknown key under {parent:?}"),
            base,
            vec![set(&format!("{parent}/zzz_unknown"), json!(1))],
            bad_msg(
                &format!("{field_prefix}zzz_unknown"),
                "schema/additionalProperties",
                "unknown key \"zzz_unknown\"",
            ),
        ));
    }
    run_table("unknown keys", &cases);
}

#[test]
fn unknown_keys_suggest_the_key_meant() {
    let cases = vec![
        case(
            "typo at top level",
            Base::Wam,
            vec![set("/descripton", json!("x"))],
            bad_msg(
                "descripton",
                "schema/additionalProperties",
                "did you mean \"description\"",
            ),
        ),
        case(
            "typo in latency_budget",
            Base::Wam,
            vec![set("/latency_budget/warmup_msec", json!(1))],
            bad_msg(
                "latency_budget.warmup_msec",
                "schema/additionalProperties",
                "warmup_ms",
            ),
        ),
    ];
    run_table("suggestions", &cases);
}

// ------------------------------------------------------------------ free objects

#[test]
fn free_objects_stay_free() {
    let anything = json!({"a": {"b": [1, null, "c", {"d": true}]}, "Weird Key": 2.5});
    let cases = vec![
        case(
            "policy_extras is free",
            Base::Vlm,
            vec![set("/policy_extras", anything.clone())],
            valid(),
        ),
        case(
            "policy_extras empty",
            Base::Vlm,
            vec![set("/policy_extras", json!({}))],
            valid(),
        ),
        case(
            "policy_extras list",
            Base::Vlm,
            vec![set("/policy_extras", json!([1]))],
            bad("policy_extras", "schema/type"),
        ),
        case(
            "goal_params_schema is free",
            Base::RosAction,
            vec![set("/goal_params_schema", anything.clone())],
            valid(),
        ),
        case(
            "goal_params_schema empty",
            Base::RosAction,
            vec![set("/goal_params_schema", json!({}))],
            valid(),
        ),
        case(
            "goal_params_schema list",
            Base::RosAction,
            vec![set("/goal_params_schema", json!([]))],
            bad("goal_params_schema", "schema/type"),
        ),
        case(
            "goal_params_schema string",
            Base::RosAction,
            vec![set("/goal_params_schema", json!("object"))],
            bad("goal_params_schema", "schema/type"),
        ),
        case(
            "quantization.extra is free",
            Base::Vla,
            vec![set("/quantization/extra", anything.clone())],
            valid(),
        ),
        case(
            "quantization.extra number",
            Base::Vla,
            vec![set("/quantization/extra", json!(5))],
            bad("quantization.extra", "schema/type"),
        ),
        case(
            "quantization.extra null",
            Base::Vla,
            vec![set("/quantization/extra", Value::Null)],
            bad("quantization.extra", "schema/type"),
        ),
        case(
            "capabilities_required keys are free",
            Base::Wam,
            vec![set(
                "/capabilities_required",
                json!({"any key": 1, "x.y": "z"}),
            )],
            valid(),
        ),
        case(
            "no_go_zones items are free objects",
            Base::Vla,
            vec![set("/envelope/no_go_zones", json!([anything.clone(), {}]))],
            valid(),
        ),
        case(
            "image_preprocessing.aliases keys are free",
            Base::Vla,
            vec![set(
                "/image_preprocessing/aliases",
                json!({"any": "x", "other key": "y"}),
            )],
            valid(),
        ),
    ];
    run_table("free objects", &cases);
}

// ------------------------------------------------------------------ identity

#[test]
fn schema_version() {
    let cases = vec![
        case("absent (default 0.1)", Base::Wam, vec![], valid()),
        case(
            "\"0.1\"",
            Base::Wam,
            vec![set("/schema_version", json!("0.1"))],
            valid(),
        ),
        case(
            "\"0.2\"",
            Base::Wam,
            vec![set("/schema_version", json!("0.2"))],
            bad_msg("schema_version", "schema/const", "\"0.1\""),
        ),
        case(
            "0.1 as a number",
            Base::Wam,
            vec![set("/schema_version", json!(0.1))],
            bad_msg("schema_version", "schema/const", "\"0.1\""),
        ),
        case(
            "\"0.10\"",
            Base::Wam,
            vec![set("/schema_version", json!("0.10"))],
            bad("schema_version", "schema/const"),
        ),
    ];
    run_table("schema_version", &cases);
}

#[test]
fn name_pattern() {
    let mut cases = Vec::new();
    for ok in [
        "a/b",
        "Org.Name_1-x/repo.v2_x-y",
        "9lives/x",
        "acme/rskill-x",
    ] {
        cases.push(case(
            format!("name {ok:?}"),
            Base::Wam,
            vec![set("/name", json!(ok))],
            valid(),
        ));
    }
    for no in [
        "noslash", "a/b/c", "-a/b", "/b", "a/", "a b/c", "a/b c", "_a/b", "hf://a/b", "",
    ] {
        cases.push(case(
            format!("name {no:?}"),
            Base::Wam,
            vec![set("/name", json!(no))],
            bad("name", "schema/pattern"),
        ));
    }
    cases.push(case(
        "name 5",
        Base::Wam,
        vec![set("/name", json!(5))],
        bad_msg("name", "schema/type", "string"),
    ));
    cases.push(case(
        "name list",
        Base::Wam,
        vec![set("/name", json!(["a/b"]))],
        bad("name", "schema/type"),
    ));
    run_table("name", &cases);
}

#[test]
fn version_semver() {
    let mut cases = Vec::new();
    for ok in [
        "0.0.0",
        "10.20.30",
        "1.0.0-rc.1",
        "1.0.0-alpha-1",
        "1.0.0+build.5",
        "1.0.0+20130313144700",
        "1.0.0-beta.2+exp.sha.5114f85",
    ] {
        cases.push(case(
            format!("version {ok:?}"),
            Base::Wam,
            vec![set("/version", json!(ok))],
            valid(),
        ));
    }
    for no in [
        "1.2",
        "v1.2.3",
        "1.2.3-",
        "1.2.3+",
        "1.2.3.4",
        "1.2.3 ",
        "1.2.3-rc_1",
        "1.2.3+b@1",
        "a.b.c",
        "",
    ] {
        cases.push(case(
            format!("version {no:?}"),
            Base::Wam,
            vec![set("/version", json!(no))],
            bad("version", "schema/pattern"),
        ));
    }
    cases.push(case(
        "version 1.2 (number)",
        Base::Wam,
        vec![set("/version", json!(1.2))],
        bad("version", "schema/type"),
    ));
    cases.push(case(
        "version 1 (integer)",
        Base::Wam,
        vec![set("/version", json!(1))],
        bad("version", "schema/type"),
    ));
    run_table("version", &cases);
}

#[test]
fn license_role_kind_model_family() {
    let mut cases = Vec::new();
    for p in [
        "apache-2.0",
        "mit",
        "bsd",
        "permissive_research",
        "nvidia_non_commercial",
        "nvidia_open_model",
        "rlwrld_non_commercial",
        "proprietary",
        "unknown",
    ] {
        cases.push(case(
            format!("license {p}"),
            Base::Wam,
            vec![set("/license", json!(p))],
            valid(),
        ));
    }
    for no in ["Apache-2.0", "gpl-3.0", "other", ""] {
        cases.push(case(
            format!("license {no:?}"),
            Base::Wam,
            vec![set("/license", json!(no))],
            bad_msg("license", "schema/enum", "apache-2.0"),
        ));
    }
    cases.push(case(
        "license 5",
        Base::Wam,
        vec![set("/license", json!(5))],
        bad_among("license", "schema/type"),
    ));
    for r in ["s0", "s1", "s2"] {
        cases.push(case(
            format!("role {r}"),
            Base::Wam,
            vec![set("/role", json!(r))],
            valid(),
        ));
    }
    for no in ["s3", "S1", "1"] {
        cases.push(case(
            format!("role {no:?}"),
            Base::Wam,
            vec![set("/role", json!(no))],
            bad_msg("role", "schema/enum", "s0, s1, s2"),
        ));
    }
    for no in ["vlaa", "VLA", "policy", ""] {
        cases.push(case(
            format!("kind {no:?}"),
            Base::Wam,
            vec![set("/kind", json!(no))],
            bad_msg(
                "kind",
                "schema/enum",
                &format!("{} is not one of vla, wam", json!(no)),
            ),
        ));
    }
    cases.push(case(
        "kind 1",
        Base::Wam,
        vec![set("/kind", json!(1))],
        bad_among("kind", "schema/type"),
    ));
    // model_family on a wam: the families that need no processors (rule 4 is tested elsewhere).
    for f in ["act", "gr00t", "openvla", "diffuser_actor"] {
        cases.push(case(
            format!("model_family {f}"),
            Base::Wam,
            vec![set("/model_family", json!(f))],
            valid(),
        ));
    }
    cases.push(case(
        "model_family null",
        Base::Wam,
        vec![set("/model_family", Value::Null)],
        valid(),
    ));
    for no in [json!("SmolVLA"), json!("rt2"), json!(5), json!("")] {
        cases.push(case(
            format!("model_family {no}"),
            Base::Wam,
            vec![set("/model_family", no)],
            bad_msg("model_family", "schema/enum", "smolvla"),
        ));
    }
    run_table("license / role / kind / model_family", &cases);
}

// ------------------------------------------------------------------ embodiment

const EMBODIMENTS: [&str; 20] = [
    "aloha",
    "aloha_agilex",
    "any",
    "custom",
    "franka_panda",
    "g1",
    "google_robot",
    "gr1",
    "h1",
    "mobile_base",
    "openarm",
    "panda_mobile",
    "pusht",
    "rizon4",
    "sawyer",
    "so100_follower",
    "so101_follower",
    "ur10e",
    "ur5e",
    "widowx",
];

#[test]
fn embodiment_tags() {
    let mut cases = Vec::new();
    for t in EMBODIMENTS.iter().filter(|t| **t != "custom") {
        cases.push(case(
            format!("embodiment {t}"),
            Base::Wam,
            vec![set("/embodiment_tags", json!([t]))],
            valid(),
        ));
    }
    cases.push(case(
        "custom with embodiment_extra",
        Base::Custom,
        vec![],
        valid(),
    ));
    cases.push(case(
        "several tags",
        Base::Wam,
        vec![set("/embodiment_tags", json!(["ur5e", "ur10e"]))],
        valid(),
    ));
    cases.push(case(
        "unknown tag",
        Base::Wam,
        vec![set("/embodiment_tags", json!(["ur5e", "franka"]))],
        bad_msg("embodiment_tags[1]", "schema/enum", "\"franka\""),
    ));
    cases.push(case(
        "a string, not a list",
        Base::Wam,
        vec![set("/embodiment_tags", json!("franka_panda"))],
        bad("embodiment_tags", "schema/type"),
    ));
    cases.push(case(
        "a number in the list",
        Base::Wam,
        vec![set("/embodiment_tags", json!([5]))],
        bad_among("embodiment_tags[0]", "schema/type"),
    ));
    run_table("embodiment_tags", &cases);
}

#[test]
fn embodiment_extra() {
    let cases = vec![
        case(
            "a number",
            Base::Custom,
            vec![set("/embodiment_extra", json!(5))],
            bad("embodiment_extra", "schema/type"),
        ),
        case(
            "sensors empty",
            Base::Custom,
            vec![set("/embodiment_extra/sensors", json!([]))],
            bad_msg("embodiment_extra.sensors", "schema/minItems", "at least 1"),
        ),
        case(
            "actuators empty",
            Base::Custom,
            vec![set("/embodiment_extra/actuators", json!([]))],
            bad("embodiment_extra.actuators", "schema/minItems"),
        ),
        case(
            "sensors missing",
            Base::Custom,
            vec![rm("/embodiment_extra/sensors")],
            bad("embodiment_extra.sensors", "schema/required"),
        ),
        case(
            "actuators missing",
            Base::Custom,
            vec![rm("/embodiment_extra/actuators")],
            bad("embodiment_extra.actuators", "schema/required"),
        ),
        case(
            "sensor modality unknown",
            Base::Custom,
            vec![set("/embodiment_extra/sensors/0/modality", json!("sonar"))],
            bad("embodiment_extra.sensors[0].modality", "schema/enum"),
        ),
        case(
            "sensor count 0",
            Base::Custom,
            vec![set("/embodiment_extra/sensors/0/count", json!(0))],
            bad("embodiment_extra.sensors[0].count", "schema/minimum"),
        ),
        case(
            "actuator kind unknown",
            Base::Custom,
            vec![set("/embodiment_extra/actuators/0/kind", json!("teleport"))],
            bad("embodiment_extra.actuators[0].kind", "schema/enum"),
        ),
        case(
            "actuator n_dof 0",
            Base::Custom,
            vec![set("/embodiment_extra/actuators/0/n_dof", json!(0))],
            bad(
                "embodiment_extra.actuators[0].n_dof",
                "schema/exclusiveMinimum",
            ),
        ),
        case(
            "actuator semantics missing",
            Base::Custom,
            vec![rm("/embodiment_extra/actuators/0/control_mode_semantics")],
            bad(
                "embodiment_extra.actuators[0].control_mode_semantics",
                "schema/required",
            ),
        ),
        case(
            "sensors a mapping",
            Base::Custom,
            vec![set("/embodiment_extra/sensors", json!({"modality": "rgb"}))],
            bad("embodiment_extra.sensors", "schema/type"),
        ),
    ];
    run_table("embodiment_extra", &cases);
}

#[test]
fn capabilities_required_value_types() {
    let cases = vec![
        case(
            "bool, int, number, string",
            Base::Wam,
            vec![set(
                "/capabilities_required",
                json!({"a": true, "b": 3, "c": 0.5, "d": "x", "e": -1}),
            )],
            valid(),
        ),
        case(
            "empty",
            Base::Wam,
            vec![set("/capabilities_required", json!({}))],
            valid(),
        ),
        case(
            "list value",
            Base::Wam,
            vec![set("/capabilities_required", json!({"a": [1]}))],
            bad("capabilities_required.a", "schema/type"),
        ),
        case(
            "null value",
            Base::Wam,
            vec![set("/capabilities_required", json!({"a": null}))],
            bad("capabilities_required.a", "schema/type"),
        ),
        case(
            "mapping value",
            Base::Wam,
            vec![set("/capabilities_required", json!({"a": {"b": 1}}))],
            bad("capabilities_required.a", "schema/type"),
        ),
        case(
            "a list",
            Base::Wam,
            vec![set("/capabilities_required", json!(["a"]))],
            bad("capabilities_required", "schema/type"),
        ),
    ];
    run_table("capabilities_required", &cases);
}

// ------------------------------------------------------------------ sensors / actuators

const MODALITIES: [&str; 14] = [
    "rgb",
    "depth",
    "stereo",
    "ir",
    "point_cloud",
    "lidar_2d",
    "imu",
    "force_torque",
    "joint_state",
    "tactile_vision",
    "tactile_array",
    "audio",
    "gps",
    "battery",
];

#[test]
fn sensor_requirement() {
    let p = "/sensors_required/0";
    let f = "sensors_required[0]";
    let mut cases = Vec::new();
    for m in MODALITIES {
        cases.push(case(
            format!("modality {m}"),
            Base::Vla,
            vec![set(&format!("{p}/modality"), json!(m))],
            valid(),
        ));
    }
    let at = |k: &str| format!("{p}/{k}");
    let fld = |k: &str| format!("{f}.{k}");
    cases.extend([
        case(
            "only modality",
            Base::Vla,
            vec![set(p, json!({"modality": "depth"}))],
            valid(),
        ),
        case(
            "modality missing",
            Base::Vla,
            vec![rm(&at("modality"))],
            bad_msg(&fld("modality"), "schema/required", "missing"),
        ),
        case(
            "modality unknown",
            Base::Vla,
            vec![set(&at("modality"), json!("sonar"))],
            bad_msg(&fld("modality"), "schema/enum", "\"sonar\""),
        ),
        case(
            "vla_feature_key null",
            Base::Vla,
            vec![set(&at("vla_feature_key"), Value::Null)],
            valid(),
        ),
        case(
            "vla_feature_key number",
            Base::Vla,
            vec![set(&at("vla_feature_key"), json!(5))],
            bad(&fld("vla_feature_key"), "schema/type"),
        ),
        case(
            "min_width null",
            Base::Vla,
            vec![set(&at("min_width"), Value::Null)],
            valid(),
        ),
        case(
            "min_width 1",
            Base::Vla,
            vec![set(&at("min_width"), json!(1))],
            valid(),
        ),
        case(
            "min_width 0",
            Base::Vla,
            vec![set(&at("min_width"), json!(0))],
            bad_msg(&fld("min_width"), "schema/exclusiveMinimum", "> 0"),
        ),
        case(
            "min_width -1",
            Base::Vla,
            vec![set(&at("min_width"), json!(-1))],
            bad(&fld("min_width"), "schema/exclusiveMinimum"),
        ),
        case(
            "min_width 1.5",
            Base::Vla,
            vec![set(&at("min_width"), json!(1.5))],
            bad(&fld("min_width"), "schema/type"),
        ),
        case(
            "min_height 0",
            Base::Vla,
            vec![set(&at("min_height"), json!(0))],
            bad(&fld("min_height"), "schema/exclusiveMinimum"),
        ),
        case(
            "min_height null",
            Base::Vla,
            vec![set(&at("min_height"), Value::Null)],
            valid(),
        ),
        case(
            "count 1",
            Base::Vla,
            vec![set(&at("count"), json!(1))],
            valid(),
        ),
        case(
            "count 4",
            Base::Vla,
            vec![set(&at("count"), json!(4))],
            valid(),
        ),
        case(
            "count 0",
            Base::Vla,
            vec![set(&at("count"), json!(0))],
            bad_msg(&fld("count"), "schema/minimum", ">= 1"),
        ),
        case(
            "count null",
            Base::Vla,
            vec![set(&at("count"), Value::Null)],
            bad(&fld("count"), "schema/type"),
        ),
        case(
            "count 2.5",
            Base::Vla,
            vec![set(&at("count"), json!(2.5))],
            bad(&fld("count"), "schema/type"),
        ),
        case(
            "sensors_required empty",
            Base::Vla,
            vec![set("/sensors_required", json!([]))],
            valid(),
        ),
        case(
            "sensors_required a mapping",
            Base::Vla,
            vec![set("/sensors_required", json!({"modality": "rgb"}))],
            bad("sensors_required", "schema/type"),
        ),
        case(
            "sensor a string",
            Base::Vla,
            vec![set(p, json!("rgb"))],
            bad(f, "schema/type"),
        ),
    ]);
    run_table("SensorRequirement", &cases);
}

#[test]
fn actuator_requirement() {
    let p = "/actuators_required/0";
    let f = "actuators_required[0]";
    let at = |k: &str| format!("{p}/{k}");
    let fld = |k: &str| format!("{f}.{k}");
    let sem = |k: &str| format!("{p}/control_mode_semantics/{k}");
    let semf = |k: &str| format!("{f}.control_mode_semantics.{k}");
    let mut cases = vec![
        case(
            "kind missing",
            Base::Vla,
            vec![rm(&at("kind"))],
            bad(&fld("kind"), "schema/required"),
        ),
        case(
            "semantics missing",
            Base::Vla,
            vec![rm(&at("control_mode_semantics"))],
            bad(&fld("control_mode_semantics"), "schema/required"),
        ),
        case(
            "kind unknown",
            Base::Vla,
            vec![set(&at("kind"), json!("teleport"))],
            bad_msg(&fld("kind"), "schema/enum", "joint_position"),
        ),
        case(
            "n_dof null",
            Base::Vla,
            vec![set(&at("n_dof"), Value::Null)],
            valid(),
        ),
        case(
            "n_dof 1",
            Base::Vla,
            vec![set(&at("n_dof"), json!(1))],
            valid(),
        ),
        case(
            "n_dof 0",
            Base::Vla,
            vec![set(&at("n_dof"), json!(0))],
            bad(&fld("n_dof"), "schema/exclusiveMinimum"),
        ),
        case(
            "n_dof 1.5",
            Base::Vla,
            vec![set(&at("n_dof"), json!(1.5))],
            bad(&fld("n_dof"), "schema/type"),
        ),
        case(
            "vla_action_key null",
            Base::Vla,
            vec![set(&at("vla_action_key"), Value::Null)],
            valid(),
        ),
        case(
            "vla_action_key 5",
            Base::Vla,
            vec![set(&at("vla_action_key"), json!(5))],
            bad(&fld("vla_action_key"), "schema/type"),
        ),
        case(
            "semantics null",
            Base::Vla,
            vec![set(&at("control_mode_semantics"), Value::Null)],
            bad(&fld("control_mode_semantics"), "schema/type"),
        ),
        case(
            "mode missing",
            Base::Vla,
            vec![rm(&sem("mode"))],
            bad(&semf("mode"), "schema/required"),
        ),
        case(
            "mode absolute",
            Base::Vla,
            vec![set(&sem("mode"), json!("absolute"))],
            valid(),
        ),
        case(
            "mode relative",
            Base::Vla,
            vec![set(&sem("mode"), json!("relative"))],
            bad_msg(&semf("mode"), "schema/enum", "absolute, delta"),
        ),
        case(
            "mode null",
            Base::Vla,
            vec![set(&sem("mode"), Value::Null)],
            bad(&semf("mode"), "schema/enum"),
        ),
        case(
            "joint_order null",
            Base::Vla,
            vec![set(&sem("joint_order"), Value::Null)],
            valid(),
        ),
        case(
            "joint_order names",
            Base::Vla,
            vec![set(&sem("joint_order"), json!(["j1", "j2"]))],
            valid(),
        ),
        case(
            "joint_order numbers",
            Base::Vla,
            vec![set(&sem("joint_order"), json!([1]))],
            bad(&semf("joint_order[0]"), "schema/type"),
        ),
        case(
            "joint_order string",
            Base::Vla,
            vec![set(&sem("joint_order"), json!("j1"))],
            bad(&semf("joint_order"), "schema/type"),
        ),
        case(
            "reference_frame 5",
            Base::Vla,
            vec![set(&sem("reference_frame"), json!(5))],
            bad(&semf("reference_frame"), "schema/type"),
        ),
        case(
            "gripper_convention unknown",
            Base::Vla,
            vec![set(
                "/actuators_required/1/control_mode_semantics/gripper_convention",
                json!("percent"),
            )],
            bad(
                "actuators_required[1].control_mode_semantics.gripper_convention",
                "schema/enum",
            ),
        ),
        case(
            "actuators_required a mapping",
            Base::Vla,
            vec![set("/actuators_required", json!({}))],
            bad("actuators_required", "schema/type"),
        ),
    ];
    for g in [
        "normalized_open_unit",
        "normalized_open_symmetric",
        "binary_close_one",
        "raw_joint_rad",
        "width_meters",
    ] {
        cases.push(case(
            format!("gripper_convention {g}"),
            Base::Vla,
            vec![set(
                "/actuators_required/1/control_mode_semantics/gripper_convention",
                json!(g),
            )],
            valid(),
        ));
    }
    run_table("ActuatorRequirement", &cases);
}

// ------------------------------------------------------------------ runtime / quantization

#[test]
fn runtime_and_quantization() {
    let mut cases = Vec::new();
    for r in [
        "pytorch", "onnx", "tensorrt", "trt_llm", "vllm", "gguf", "mlx", "jax",
    ] {
        cases.push(case(
            format!("runtime {r}"),
            Base::Wam,
            vec![set("/runtime", json!(r))],
            valid(),
        ));
    }
    cases.push(case(
        "runtime tflite",
        Base::Wam,
        vec![set("/runtime", json!("tflite"))],
        bad_msg("runtime", "schema/enum", "trt_llm"),
    ));
    for d in ["fp32", "fp16", "bf16", "int8", "int4", "fp4_nvfp4"] {
        cases.push(case(
            format!("dtype {d}"),
            Base::Vla,
            vec![set("/quantization/dtype", json!(d))],
            valid(),
        ));
    }
    for b in ["pytorch", "onnx", "tensorrt", "gguf", "mlx"] {
        cases.push(case(
            format!("backend {b}"),
            Base::Vla,
            vec![set("/quantization/backend", json!(b))],
            valid(),
        ));
    }
    cases.extend([
        case(
            "dtype int2",
            Base::Vla,
            vec![set("/quantization/dtype", json!("int2"))],
            bad("quantization.dtype", "schema/enum"),
        ),
        case(
            "backend vllm (a runtime, not a backend)",
            Base::Vla,
            vec![set("/quantization/backend", json!("vllm"))],
            bad("quantization.backend", "schema/enum"),
        ),
        case(
            "per_channel string",
            Base::Vla,
            vec![set("/quantization/per_channel", json!("yes"))],
            bad("quantization.per_channel", "schema/type"),
        ),
        case(
            "per_channel true",
            Base::Vla,
            vec![set("/quantization/per_channel", json!(true))],
            valid(),
        ),
        case(
            "calibration_dataset string",
            Base::Vla,
            vec![set("/quantization/calibration_dataset", json!("c4"))],
            valid(),
        ),
        case(
            "calibration_dataset 5",
            Base::Vla,
            vec![set("/quantization/calibration_dataset", json!(5))],
            bad("quantization.calibration_dataset", "schema/type"),
        ),
        case(
            "quantization empty",
            Base::Vla,
            vec![set("/quantization", json!({}))],
            valid(),
        ),
        case(
            "quantization a string",
            Base::Vla,
            vec![set("/quantization", json!("bf16"))],
            bad("quantization", "schema/type"),
        ),
    ]);
    run_table("runtime / quantization", &cases);
}

// ------------------------------------------------------------------ URIs

#[test]
fn weights_uri_forms() {
    let mut cases = Vec::new();
    for ok in [
        "hf://org/repo",
        "hf://Org-1.x/Repo_2.y",
        "hf://org/repo@v1.0",
        "hf://org/repo@main",
        "hf://org/repo@0123456789abcdef0123456789abcdef01234567",
        "local://models/x",
        "local://x.safetensors",
        "local://a/b/c_d-e.f",
    ] {
        cases.push(case(
            format!("weights_uri {ok:?}"),
            Base::Wam,
            vec![set("/weights_uri", json!(ok))],
            valid(),
        ));
    }
    for no in [
        "https://huggingface.co/org/repo",
        "hf://org",
        "hf://org/repo/model.safetensors",
        "hf://org/repo@",
        "hf://org/repo@v1@v2",
        "hf://org/repo@v 1",
        "hf://-org/repo",
        "hf:/org/repo",
        "HF://org/repo",
        "local://",
        "local://a b",
        "s3://bucket/x",
        "org/repo",
        "",
    ] {
        cases.push(case(
            format!("weights_uri {no:?}"),
            Base::Wam,
            vec![set("/weights_uri", json!(no))],
            bad("weights_uri", "schema/pattern"),
        ));
    }
    cases.push(case(
        "weights_uri 5",
        Base::Wam,
        vec![set("/weights_uri", json!(5))],
        bad("weights_uri", "schema/type"),
    ));
    run_table("weights_uri", &cases);
}

#[test]
fn dataset_uri_and_source_repo() {
    let mut cases = Vec::new();
    for key in ["dataset_uri", "source_repo"] {
        let p = format!("/{key}");
        for ok in ["hf://org/ds", "hf://org/ds@main", "hf://Org_1/ds.v2@v1.0"] {
            cases.push(case(
                format!("{key} {ok:?}"),
                Base::Wam,
                vec![set(&p, json!(ok))],
                valid(),
            ));
        }
        for no in [
            "local://data",
            "local://data/x",
            "hf://org",
            "https://hf.co/org/ds",
            "hf://org/ds/file.json",
            "org/ds",
        ] {
            cases.push(case(
                format!("{key} {no:?}"),
                Base::Wam,
                vec![set(&p, json!(no))],
                bad(key, "schema/pattern"),
            ));
        }
        cases.push(case(
            format!("{key} 5"),
            Base::Wam,
            vec![set(&p, json!(5))],
            bad(key, "schema/type"),
        ));
    }
    run_table("dataset_uri / source_repo", &cases);
}

#[test]
fn paper_url_and_fallback_skill_id() {
    let mut cases = Vec::new();
    for ok in [
        "https://arxiv.org/abs/2506.01844",
        "http://example.com",
        "https://x.y/a?b=c#d",
    ] {
        cases.push(case(
            format!("paper_url {ok:?}"),
            Base::Wam,
            vec![set("/paper_url", json!(ok))],
            valid(),
        ));
    }
    for no in [
        "ftp://x/y",
        "https://",
        "https://a b",
        "arxiv.org/abs/1",
        "HTTPS://x",
        " https://x",
        "",
    ] {
        cases.push(case(
            format!("paper_url {no:?}"),
            Base::Wam,
            vec![set("/paper_url", json!(no))],
            bad("paper_url", "schema/pattern"),
        ));
    }
    cases.push(case(
        "paper_url 5",
        Base::Wam,
        vec![set("/paper_url", json!(5))],
        bad("paper_url", "schema/type"),
    ));
    cases.push(case(
        "fallback org/repo",
        Base::Wam,
        vec![set("/fallback_skill_id", json!("acme/other"))],
        valid(),
    ));
    for no in ["acme", "hf://acme/x", "acme/x/y", "-acme/x"] {
        cases.push(case(
            format!("fallback {no:?}"),
            Base::Wam,
            vec![set("/fallback_skill_id", json!(no))],
            bad("fallback_skill_id", "schema/pattern"),
        ));
    }
    cases.push(case(
        "fallback 5",
        Base::Wam,
        vec![set("/fallback_skill_id", json!(5))],
        bad("fallback_skill_id", "schema/type"),
    ));
    run_table("paper_url / fallback_skill_id", &cases);
}

#[test]
fn processors_uris() {
    let pre = "/processors/preprocessor_uri";
    let mut cases = vec![
        case(
            "preprocessor missing",
            Base::Vla,
            vec![rm(pre)],
            bad("processors.preprocessor_uri", "schema/required"),
        ),
        case(
            "postprocessor missing",
            Base::Vla,
            vec![rm("/processors/postprocessor_uri")],
            bad("processors.postprocessor_uri", "schema/required"),
        ),
        case(
            "processors a string",
            Base::Vla,
            vec![set("/processors", json!("hf://a/b/c.json"))],
            bad("processors", "schema/type"),
        ),
        case(
            "processors null on a wam",
            Base::Wam,
            vec![set("/processors", Value::Null)],
            valid(),
        ),
        case(
            "postprocessor pattern",
            Base::Vla,
            vec![set("/processors/postprocessor_uri", json!("hf://org/repo"))],
            bad("processors.postprocessor_uri", "schema/pattern"),
        ),
        case(
            "preprocessor 5",
            Base::Vla,
            vec![set(pre, json!(5))],
            bad("processors.preprocessor_uri", "schema/type"),
        ),
    ];
    for ok in [
        "hf://org/repo/pre.json",
        "hf://org/repo@v1/sub/dir/pre.safetensors",
        "hf://Org.1/re_po-x@abc123/a-b_c.d/e.JSON",
    ] {
        cases.push(case(
            format!("preprocessor {ok:?}"),
            Base::Vla,
            vec![set(pre, json!(ok))],
            valid(),
        ));
    }
    for no in [
        "hf://org/repo",
        "hf://org/repo/file",
        "hf://org/repo/file.",
        "hf://org/repo@/file.json",
        "local://x/y.json",
        "https://hf.co/org/repo/file.json",
        "hf://org/repo/a b.json",
    ] {
        cases.push(case(
            format!("preprocessor {no:?}"),
            Base::Vla,
            vec![set(pre, json!(no))],
            bad("processors.preprocessor_uri", "schema/pattern"),
        ));
    }
    run_table("processors", &cases);
}

// ------------------------------------------------------------------ numbers

#[test]
fn chunk_size_and_latency_budget() {
    let cases = vec![
        case(
            "chunk_size 1",
            Base::Wam,
            vec![set("/chunk_size", json!(1))],
            valid(),
        ),
        case(
            "chunk_size 1000",
            Base::Wam,
            vec![set("/chunk_size", json!(1000))],
            valid(),
        ),
        case(
            "chunk_size 0",
            Base::Wam,
            vec![set("/chunk_size", json!(0))],
            bad_msg("chunk_size", "schema/exclusiveMinimum", "0 must be > 0"),
        ),
        case(
            "chunk_size -1",
            Base::Wam,
            vec![set("/chunk_size", json!(-1))],
            bad("chunk_size", "schema/exclusiveMinimum"),
        ),
        case(
            "chunk_size 1.5",
            Base::Wam,
            vec![set("/chunk_size", json!(1.5))],
            bad_msg("chunk_size", "schema/type", "integer"),
        ),
        case(
            "chunk_size \"1\"",
            Base::Wam,
            vec![set("/chunk_size", json!("1"))],
            bad("chunk_size", "schema/type"),
        ),
        case(
            "per_chunk_ms missing",
            Base::Wam,
            vec![rm("/latency_budget/per_chunk_ms")],
            bad("latency_budget.per_chunk_ms", "schema/required"),
        ),
        case(
            "per_chunk_ms 0",
            Base::Wam,
            vec![set("/latency_budget/per_chunk_ms", json!(0))],
            bad("latency_budget.per_chunk_ms", "schema/exclusiveMinimum"),
        ),
        case(
            "per_chunk_ms -5",
            Base::Wam,
            vec![set("/latency_budget/per_chunk_ms", json!(-5))],
            bad("latency_budget.per_chunk_ms", "schema/exclusiveMinimum"),
        ),
        case(
            "per_chunk_ms 0.001",
            Base::Wam,
            vec![set("/latency_budget/per_chunk_ms", json!(0.001))],
            valid(),
        ),
        case(
            "per_chunk_ms string",
            Base::Wam,
            vec![set("/latency_budget/per_chunk_ms", json!("10"))],
            bad("latency_budget.per_chunk_ms", "schema/type"),
        ),
        case(
            "warmup_ms 0",
            Base::Wam,
            vec![set("/latency_budget/warmup_ms", json!(0))],
            valid(),
        ),
        case(
            "warmup_ms -1",
            Base::Wam,
            vec![set("/latency_budget/warmup_ms", json!(-1))],
            bad("latency_budget.warmup_ms", "schema/minimum"),
        ),
        case(
            "load_ms 0",
            Base::Wam,
            vec![set("/latency_budget/load_ms", json!(0))],
            valid(),
        ),
        case(
            "load_ms -0.5",
            Base::Wam,
            vec![set("/latency_budget/load_ms", json!(-0.5))],
            bad("latency_budget.load_ms", "schema/minimum"),
        ),
        case(
            "max_execution_s null",
            Base::Wam,
            vec![set("/latency_budget/max_execution_s", Value::Null)],
            valid(),
        ),
        case(
            "max_execution_s 0.5",
            Base::Wam,
            vec![set("/latency_budget/max_execution_s", json!(0.5))],
            valid(),
        ),
        case(
            "max_execution_s 0",
            Base::Wam,
            vec![set("/latency_budget/max_execution_s", json!(0))],
            bad("latency_budget.max_execution_s", "schema/exclusiveMinimum"),
        ),
        case(
            "latency_budget a list",
            Base::Wam,
            vec![set("/latency_budget", json!([120]))],
            bad("latency_budget", "schema/type"),
        ),
    ];
    run_table("chunk_size / latency_budget", &cases);
}

/// An integer written with a decimal point (`chunk_size: 1.0`) is an integer for JSON
/// Schema; the typed model must then accept it too, or the schema must reject it at the
/// field. Either way the author must never see "passes the schema but not the typed model".
#[test]
fn integral_floats_in_integer_fields_are_handled_consistently() {
    let probes: [(Base, &str, &str, Value); 6] = [
        (Base::Wam, "/chunk_size", "chunk_size", json!(1.0)),
        (Base::Vla, "/n_action_steps", "n_action_steps", json!(25.0)),
        (
            Base::Vla,
            "/actuators_required/0/n_dof",
            "actuators_required[0].n_dof",
            json!(6.0),
        ),
        (
            Base::Vla,
            "/action_contract/dim",
            "action_contract.dim",
            json!(7.0),
        ),
        (
            Base::Playbook,
            "/playbook/max_steps",
            "playbook.max_steps",
            json!(40.0),
        ),
        (Base::Wam, "/chunk_size", "chunk_size", json!(1e20)),
    ];
    let mut failures = Vec::new();
    for (base, ptr, field, value) in probes {
        let doc = mutated(base, &[set(ptr, value.clone())]);
        let check = check(doc);
        let ok = check.is_valid() || check.violations.iter().all(|v| v.field == field);
        if !ok || check.violations.iter().any(|v| v.rule == "schema/model") {
            failures.push(format!("{field}: {value}:{}", describe(&check.violations)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn min_vram_gb() {
    let cases = vec![
        case(
            "null",
            Base::Wam,
            vec![set("/min_vram_gb", Value::Null)],
            valid(),
        ),
        case(
            "empty",
            Base::Wam,
            vec![set("/min_vram_gb", json!({}))],
            valid(),
        ),
        case(
            "every dtype",
            Base::Wam,
            vec![set(
                "/min_vram_gb",
                json!({"fp32": 8, "fp16": 4, "bf16": 4, "int8": 2, "int4": 1, "fp4_nvfp4": 0.5}),
            )],
            valid(),
        ),
        case(
            "tiny positive",
            Base::Wam,
            vec![set("/min_vram_gb", json!({"fp16": 0.01}))],
            valid(),
        ),
        case(
            "zero",
            Base::Wam,
            vec![set("/min_vram_gb", json!({"fp16": 0}))],
            bad_msg("min_vram_gb.fp16", "schema/exclusiveMinimum", "> 0"),
        ),
        case(
            "negative",
            Base::Wam,
            vec![set("/min_vram_gb", json!({"bf16": -1}))],
            bad("min_vram_gb.bf16", "schema/exclusiveMinimum"),
        ),
        case(
            "string value",
            Base::Wam,
            vec![set("/min_vram_gb", json!({"fp16": "2"}))],
            bad("min_vram_gb.fp16", "schema/type"),
        ),
        case(
            "unknown dtype key",
            Base::Wam,
            vec![set("/min_vram_gb", json!({"fp64": 2}))],
            bad_msg("min_vram_gb.fp64", "schema/propertyNames", "fp64"),
        ),
        case(
            "a number",
            Base::Wam,
            vec![set("/min_vram_gb", json!(4))],
            bad("min_vram_gb", "schema/type"),
        ),
    ];
    run_table("min_vram_gb", &cases);
}

const BENCHMARKS: [&str; 16] = [
    "aloha",
    "aloha_insertion",
    "aloha_transfer_cube",
    "gr1_tabletop",
    "libero_10",
    "libero_goal",
    "libero_object",
    "libero_spatial",
    "maniskill3_panda",
    "metaworld_mt10",
    "metaworld_mt50",
    "pusht",
    "rlbench",
    "robocasa_pnp",
    "robotwin",
    "simpler_env_widowx",
];

#[test]
fn benchmarks() {
    let mut cases = vec![
        case(
            "value 0",
            Base::Wam,
            vec![set("/benchmarks", json!({"libero_10": 0}))],
            valid(),
        ),
        case(
            "value 1",
            Base::Wam,
            vec![set("/benchmarks", json!({"libero_10": 1}))],
            valid(),
        ),
        case(
            "value 0.0 / 1.0",
            Base::Wam,
            vec![set("/benchmarks", json!({"libero_10": 0.0, "pusht": 1.0}))],
            valid(),
        ),
        case(
            "value -0.01",
            Base::Wam,
            vec![set("/benchmarks", json!({"libero_10": -0.01}))],
            bad_msg("benchmarks.libero_10", "schema/minimum", ">= 0"),
        ),
        case(
            "value 1.01",
            Base::Wam,
            vec![set("/benchmarks", json!({"libero_10": 1.01}))],
            bad_msg("benchmarks.libero_10", "schema/maximum", "<= 1"),
        ),
        case(
            "value a string",
            Base::Wam,
            vec![set("/benchmarks", json!({"libero_10": "0.5"}))],
            bad("benchmarks.libero_10", "schema/type"),
        ),
        case(
            "unknown benchmark key",
            Base::Wam,
            vec![set("/benchmarks", json!({"libero_11": 0.5}))],
            bad_msg("benchmarks.libero_11", "schema/propertyNames", "libero_11"),
        ),
        case(
            "empty",
            Base::Wam,
            vec![set("/benchmarks", json!({}))],
            valid(),
        ),
        case(
            "a list",
            Base::Wam,
            vec![set("/benchmarks", json!([0.5]))],
            bad("benchmarks", "schema/type"),
        ),
    ];
    for b in BENCHMARKS {
        cases.push(case(
            format!("benchmark {b}"),
            Base::Wam,
            vec![set("/benchmarks", json!({b: 0.5}))],
            valid(),
        ));
    }
    run_table("benchmarks", &cases);
}

// ------------------------------------------------------------------ strings and lists

#[test]
fn description_length_bounds() {
    let cases = vec![
        case(
            "1 char",
            Base::Wam,
            vec![set("/description", json!("x"))],
            valid(),
        ),
        case(
            "499 chars",
            Base::Wam,
            vec![set("/description", json!(s(499)))],
            valid(),
        ),
        case(
            "500 chars",
            Base::Wam,
            vec![set("/description", json!(s(500)))],
            valid(),
        ),
        case(
            "501 chars",
            Base::Wam,
            vec![set("/description", json!(s(501)))],
            bad_msg("description", "schema/maxLength", "501 characters"),
        ),
        case(
            "empty",
            Base::Wam,
            vec![set("/description", json!(""))],
            bad_msg("description", "schema/minLength", "at least 1"),
        ),
        // Characters, not bytes.
        case(
            "500 two-byte chars",
            Base::Wam,
            vec![set("/description", json!("é".repeat(500)))],
            valid(),
        ),
        case(
            "501 two-byte chars",
            Base::Wam,
            vec![set("/description", json!("é".repeat(501)))],
            bad("description", "schema/maxLength"),
        ),
        case(
            "500 four-byte chars",
            Base::Wam,
            vec![set("/description", json!("🤖".repeat(500)))],
            valid(),
        ),
        case(
            "a number",
            Base::Wam,
            vec![set("/description", json!(5))],
            bad("description", "schema/type"),
        ),
    ];
    run_table("description", &cases);
}

const VERBS: [&str; 25] = [
    "pick",
    "place",
    "pick_and_place",
    "transfer",
    "grasp",
    "release",
    "open",
    "close",
    "push",
    "pull",
    "slide",
    "insert",
    "pour",
    "wipe",
    "rotate",
    "reach",
    "look",
    "navigate",
    "wave",
    "shake",
    "generalist",
    "detect",
    "query",
    "monitor",
    "plan",
];

#[test]
fn actions_and_string_lists() {
    let mut cases = vec![
        case(
            "actions empty",
            Base::Wam,
            vec![set("/actions", json!([]))],
            bad_msg("actions", "schema/minItems", "at least 1"),
        ),
        case(
            "actions unknown verb",
            Base::Wam,
            vec![set("/actions", json!(["pick", "fly"]))],
            bad_msg("actions[1]", "schema/enum", "\"fly\""),
        ),
        case(
            "actions a string",
            Base::Wam,
            vec![set("/actions", json!("pick"))],
            bad("actions", "schema/type"),
        ),
        case(
            "all verbs",
            Base::Wam,
            vec![set("/actions", json!(VERBS))],
            valid(),
        ),
    ];
    for v in VERBS {
        cases.push(case(
            format!("verb {v}"),
            Base::Wam,
            vec![set("/actions", json!([v]))],
            valid(),
        ));
    }
    for key in ["evaluated_tasks", "objects", "scenes"] {
        let p = format!("/{key}");
        cases.push(case(
            format!("{key} empty"),
            Base::Wam,
            vec![set(&p, json!([]))],
            valid(),
        ));
        cases.push(case(
            format!("{key} strings"),
            Base::Wam,
            vec![set(&p, json!(["a", "b c"]))],
            valid(),
        ));
        cases.push(case(
            format!("{key} number item"),
            Base::Wam,
            vec![set(&p, json!(["a", 1]))],
            bad(&format!("{key}[1]"), "schema/type"),
        ));
        cases.push(case(
            format!("{key} a string"),
            Base::Wam,
            vec![set(&p, json!("a"))],
            bad(key, "schema/type"),
        ));
    }
    cases.push(case(
        "sim_env_control_mode string",
        Base::Wam,
        vec![set("/sim_env_control_mode", json!("OSC_POSE"))],
        valid(),
    ));
    cases.push(case(
        "sim_env_control_mode 5",
        Base::Wam,
        vec![set("/sim_env_control_mode", json!(5))],
        bad("sim_env_control_mode", "schema/type"),
    ));
    cases.push(case(
        "reward_rskill_name 5",
        Base::Vla,
        vec![set("/reward_rskill_name", json!(5))],
        bad("reward_rskill_name", "schema/type"),
    ));
    cases.push(case(
        "reward_rskill_name null",
        Base::Vla,
        vec![set("/reward_rskill_name", Value::Null)],
        valid(),
    ));
    run_table("actions / lists", &cases);
}

// ------------------------------------------------------------------ envelope

#[test]
fn safety_envelope() {
    let numeric = [
        "max_ee_speed_m_s",
        "max_ee_accel_m_s2",
        "max_joint_speed_factor",
        "max_force_n",
        "max_torque_nm",
        "contact_force_threshold_n",
        "cycle_time_violation_threshold_ms",
    ];
    let nullable_numeric = [
        "max_cartesian_step_m",
        "max_cartesian_step_rad",
        "max_ee_angular_speed_rad_s",
        "max_base_linear_speed_m_s",
        "max_base_angular_speed_rad_s",
    ];
    let mut cases = vec![
        case(
            "null",
            Base::Vla,
            vec![set("/envelope", Value::Null)],
            valid(),
        ),
        case(
            "empty",
            Base::Vla,
            vec![set("/envelope", json!({}))],
            valid(),
        ),
        case(
            "a list",
            Base::Vla,
            vec![set("/envelope", json!([]))],
            bad("envelope", "schema/type"),
        ),
        case(
            "a number",
            Base::Vla,
            vec![set("/envelope", json!(1))],
            bad("envelope", "schema/type"),
        ),
    ];
    for k in numeric {
        let p = format!("/envelope/{k}");
        let f = format!("envelope.{k}");
        cases.push(case(
            format!("{k} 0.5"),
            Base::Vla,
            vec![set(&p, json!(0.5))],
            valid(),
        ));
        cases.push(case(
            format!("{k} string"),
            Base::Vla,
            vec![set(&p, json!("fast"))],
            bad(&f, "schema/type"),
        ));
        cases.push(case(
            format!("{k} null"),
            Base::Vla,
            vec![set(&p, Value::Null)],
            bad(&f, "schema/type"),
        ));
    }
    for k in nullable_numeric {
        let p = format!("/envelope/{k}");
        let f = format!("envelope.{k}");
        cases.push(case(
            format!("{k} 0.5"),
            Base::Vla,
            vec![set(&p, json!(0.5))],
            valid(),
        ));
        cases.push(case(
            format!("{k} null"),
            Base::Vla,
            vec![set(&p, Value::Null)],
            valid(),
        ));
        cases.push(case(
            format!("{k} string"),
            Base::Vla,
            vec![set(&p, json!("slow"))],
            bad(&f, "schema/type"),
        ));
    }
    for k in ["workspace_box_min_xyz", "workspace_box_max_xyz"] {
        let p = format!("/envelope/{k}");
        let f = format!("envelope.{k}");
        cases.push(case(
            format!("{k} null"),
            Base::Vla,
            vec![set(&p, Value::Null)],
            valid(),
        ));
        cases.push(case(
            format!("{k} xyz"),
            Base::Vla,
            vec![set(&p, json!([0, -1.5, 2]))],
            valid(),
        ));
        cases.push(case(
            format!("{k} two numbers"),
            Base::Vla,
            vec![set(&p, json!([0, 0]))],
            bad_msg(&f, "schema/minItems", "at least 3"),
        ));
        cases.push(case(
            format!("{k} four numbers"),
            Base::Vla,
            vec![set(&p, json!([0, 0, 0, 0]))],
            bad_msg(&f, "schema/maxItems", "at most 3"),
        ));
        cases.push(case(
            format!("{k} a string item"),
            Base::Vla,
            vec![set(&p, json!(["a", 0, 0]))],
            bad(&format!("{f}[0]"), "schema/type"),
        ));
    }
    cases.extend([
        case(
            "no_go_zones empty",
            Base::Vla,
            vec![set("/envelope/no_go_zones", json!([]))],
            valid(),
        ),
        case(
            "no_go_zones number item",
            Base::Vla,
            vec![set("/envelope/no_go_zones", json!([5]))],
            bad("envelope.no_go_zones[0]", "schema/type"),
        ),
        case(
            "no_go_zones null",
            Base::Vla,
            vec![set("/envelope/no_go_zones", Value::Null)],
            bad("envelope.no_go_zones", "schema/type"),
        ),
        case(
            "deadman_required true",
            Base::Vla,
            vec![set("/envelope/deadman_required", json!(true))],
            valid(),
        ),
        case(
            "deadman_required string",
            Base::Vla,
            vec![set("/envelope/deadman_required", json!("no"))],
            bad("envelope.deadman_required", "schema/type"),
        ),
        case(
            "e_stop_topic 5",
            Base::Vla,
            vec![set("/envelope/e_stop_topic", json!(5))],
            bad("envelope.e_stop_topic", "schema/type"),
        ),
        case(
            "e_stop_qos best_effort",
            Base::Vla,
            vec![set("/envelope/e_stop_qos", json!("best_effort"))],
            bad_msg("envelope.e_stop_qos", "schema/const", "\"reliable\""),
        ),
        case(
            "human_in_loop_required number",
            Base::Vla,
            vec![set("/envelope/human_in_loop_required", json!([1]))],
            bad("envelope.human_in_loop_required[0]", "schema/type"),
        ),
        case(
            "human_in_loop_required empty",
            Base::Vla,
            vec![set("/envelope/human_in_loop_required", json!([]))],
            valid(),
        ),
    ]);
    run_table("envelope", &cases);
}

// ------------------------------------------------------------------ policy blocks

#[test]
fn image_preprocessing() {
    let p = |k: &str| format!("/image_preprocessing/{k}");
    let f = |k: &str| format!("image_preprocessing.{k}");
    let cases = vec![
        case(
            "null",
            Base::Vla,
            vec![set("/image_preprocessing", Value::Null)],
            valid(),
        ),
        case(
            "empty",
            Base::Vla,
            vec![set("/image_preprocessing", json!({}))],
            valid(),
        ),
        case(
            "a string",
            Base::Vla,
            vec![set("/image_preprocessing", json!("flip"))],
            bad("image_preprocessing", "schema/type"),
        ),
        case(
            "flip_180 true",
            Base::Vla,
            vec![set(&p("flip_180"), json!(true))],
            valid(),
        ),
        case(
            "flip_180 string",
            Base::Vla,
            vec![set(&p("flip_180"), json!("no"))],
            bad(&f("flip_180"), "schema/type"),
        ),
        case(
            "flip_vertical 1",
            Base::Vla,
            vec![set(&p("flip_vertical"), json!(1))],
            bad(&f("flip_vertical"), "schema/type"),
        ),
        case(
            "input_template 5",
            Base::Vla,
            vec![set(&p("input_template"), json!(5))],
            bad(&f("input_template"), "schema/type"),
        ),
        case(
            "input_template null",
            Base::Vla,
            vec![set(&p("input_template"), Value::Null)],
            bad(&f("input_template"), "schema/type"),
        ),
        case(
            "aliases number value",
            Base::Vla,
            vec![set(&p("aliases"), json!({"a": 5}))],
            bad("image_preprocessing.aliases.a", "schema/type"),
        ),
        case(
            "aliases a list",
            Base::Vla,
            vec![set(&p("aliases"), json!(["a"]))],
            bad(&f("aliases"), "schema/type"),
        ),
        case(
            "norm_tag string",
            Base::Vla,
            vec![set(&p("norm_tag"), json!("imagenet"))],
            valid(),
        ),
        case(
            "norm_tag 5",
            Base::Vla,
            vec![set(&p("norm_tag"), json!(5))],
            bad(&f("norm_tag"), "schema/type"),
        ),
        case(
            "image_max_crops null",
            Base::Vla,
            vec![set(&p("image_max_crops"), Value::Null)],
            valid(),
        ),
        case(
            "image_max_crops 1",
            Base::Vla,
            vec![set(&p("image_max_crops"), json!(1))],
            valid(),
        ),
        case(
            "image_max_crops 0",
            Base::Vla,
            vec![set(&p("image_max_crops"), json!(0))],
            bad_msg(&f("image_max_crops"), "schema/minimum", ">= 1"),
        ),
        case(
            "image_max_crops 1.5",
            Base::Vla,
            vec![set(&p("image_max_crops"), json!(1.5))],
            bad(&f("image_max_crops"), "schema/type"),
        ),
    ];
    run_table("image_preprocessing", &cases);
}

#[test]
fn state_contract() {
    let p = |k: &str| format!("/state_contract/{k}");
    let b = |k: &str| format!("/state_contract/bindings/{k}");
    let bf = |k: &str| format!("state_contract.bindings.{k}");
    let mut cases = vec![
        case(
            "null",
            Base::Vla,
            vec![set("/state_contract", Value::Null)],
            valid(),
        ),
        case(
            "empty",
            Base::Vla,
            vec![set("/state_contract", json!({}))],
            valid(),
        ),
        case(
            "a list",
            Base::Vla,
            vec![set("/state_contract", json!([]))],
            bad("state_contract", "schema/type"),
        ),
        case(
            "layout null",
            Base::Vla,
            vec![set(&p("layout"), Value::Null)],
            valid(),
        ),
        case(
            "layout unknown",
            Base::Vla,
            vec![set(&p("layout"), json!("smolvla_10d"))],
            bad_msg("state_contract.layout", "schema/enum", "libero_eef8d"),
        ),
        case(
            "dim null",
            Base::Vla,
            vec![set(&p("dim"), Value::Null)],
            valid(),
        ),
        case("dim 1", Base::Vla, vec![set(&p("dim"), json!(1))], valid()),
        case(
            "dim 0",
            Base::Vla,
            vec![set(&p("dim"), json!(0))],
            bad("state_contract.dim", "schema/exclusiveMinimum"),
        ),
        case(
            "dim 1.5",
            Base::Vla,
            vec![set(&p("dim"), json!(1.5))],
            bad("state_contract.dim", "schema/type"),
        ),
        case(
            "bindings null",
            Base::Vla,
            vec![set(&p("bindings"), Value::Null)],
            valid(),
        ),
        case(
            "bindings empty",
            Base::Vla,
            vec![set(&p("bindings"), json!({}))],
            valid(),
        ),
        case(
            "bindings a string",
            Base::Vla,
            vec![set(&p("bindings"), json!("x"))],
            bad("state_contract.bindings", "schema/type"),
        ),
        case(
            "quaternion xyzw",
            Base::Vla,
            vec![set(&b("quaternion_convention"), json!("xyzw"))],
            valid(),
        ),
        case(
            "quaternion zyxw",
            Base::Vla,
            vec![set(&b("quaternion_convention"), json!("zyxw"))],
            bad_msg(&bf("quaternion_convention"), "schema/enum", "xyzw, wxyz"),
        ),
        case(
            "quaternion null",
            Base::Vla,
            vec![set(&b("quaternion_convention"), Value::Null)],
            bad_among(&bf("quaternion_convention"), "schema/type"),
        ),
        case(
            "gripper_qpos_joints numbers",
            Base::Vla,
            vec![set(&b("gripper_qpos_joints"), json!([1]))],
            bad(&bf("gripper_qpos_joints[0]"), "schema/type"),
        ),
        case(
            "gripper_qpos_joints null",
            Base::Vla,
            vec![set(&b("gripper_qpos_joints"), Value::Null)],
            bad(&bf("gripper_qpos_joints"), "schema/type"),
        ),
    ];
    for k in ["eef_frame", "base_frame", "world_frame"] {
        cases.push(case(
            format!("{k} null"),
            Base::Vla,
            vec![set(&b(k), Value::Null)],
            valid(),
        ));
        cases.push(case(
            format!("{k} 5"),
            Base::Vla,
            vec![set(&b(k), json!(5))],
            bad(&bf(k), "schema/type"),
        ));
    }
    for l in [
        "smolvla_9d",
        "human300_16d",
        "gr1",
        "rc365",
        "simpler_widowx",
        "simpler_google",
        "libero_eef8d",
    ] {
        cases.push(case(
            format!("layout {l}"),
            Base::Vla,
            vec![set(&p("layout"), json!(l))],
            valid(),
        ));
    }
    run_table("state_contract", &cases);
}

#[test]
fn action_contract() {
    let p = |k: &str| format!("/action_contract/{k}");
    let sl = |k: &str| format!("/action_contract/slots/1/{k}");
    let sf = |k: &str| format!("action_contract.slots[1].{k}");
    let mut cases = vec![
        case(
            "null",
            Base::Vla,
            vec![set("/action_contract", Value::Null)],
            valid(),
        ),
        case(
            "dim only",
            Base::Vla,
            vec![set("/action_contract", json!({"dim": 3}))],
            valid(),
        ),
        case(
            "a list",
            Base::Vla,
            vec![set("/action_contract", json!([7]))],
            bad("action_contract", "schema/type"),
        ),
        case(
            "dim missing",
            Base::Vla,
            vec![rm(&p("dim"))],
            bad("action_contract.dim", "schema/required"),
        ),
        case(
            "dim 0",
            Base::Vla,
            vec![set("/action_contract", json!({"dim": 0}))],
            bad("action_contract.dim", "schema/exclusiveMinimum"),
        ),
        case(
            "dim 1.5",
            Base::Vla,
            vec![set("/action_contract", json!({"dim": 1.5}))],
            bad("action_contract.dim", "schema/type"),
        ),
        case(
            "representation null",
            Base::Vla,
            vec![set(&p("representation"), Value::Null)],
            valid(),
        ),
        case(
            "representation unknown",
            Base::Vla,
            vec![set(&p("representation"), json!("delta_ee_7d"))],
            bad("action_contract.representation", "schema/enum"),
        ),
        case(
            "slots null",
            Base::Vla,
            vec![set(&p("slots"), Value::Null)],
            valid(),
        ),
        case(
            "slots a string",
            Base::Vla,
            vec![set(&p("slots"), json!("0-6"))],
            bad("action_contract.slots", "schema/type"),
        ),
        case(
            "slot range missing",
            Base::Vla,
            vec![rm(&sl("range"))],
            bad(&sf("range"), "schema/required"),
        ),
        case(
            "slot range one number",
            Base::Vla,
            vec![set(&sl("range"), json!([6]))],
            bad_msg(&sf("range"), "schema/minItems", "at least 2"),
        ),
        case(
            "slot range three numbers",
            Base::Vla,
            vec![set(&sl("range"), json!([6, 6, 6]))],
            bad_msg(&sf("range"), "schema/maxItems", "at most 2"),
        ),
        case(
            "slot range float",
            Base::Vla,
            vec![set(&sl("range"), json!([5.5, 6]))],
            bad(&sf("range[0]"), "schema/type"),
        ),
        case(
            "slot control_mode null",
            Base::Vla,
            vec![set(&sl("control_mode"), Value::Null)],
            valid(),
        ),
        case(
            "slot control_mode unknown",
            Base::Vla,
            vec![set(&sl("control_mode"), json!("gripper"))],
            bad(&sf("control_mode"), "schema/enum"),
        ),
        case(
            "slot discard true",
            Base::Vla,
            vec![set(&sl("discard"), json!(true))],
            valid(),
        ),
        case(
            "slot discard string",
            Base::Vla,
            vec![set(&sl("discard"), json!("y"))],
            bad(&sf("discard"), "schema/type"),
        ),
        case(
            "slot ee 5",
            Base::Vla,
            vec![set(&sl("ee"), json!(5))],
            bad(&sf("ee"), "schema/type"),
        ),
        case(
            "slot frame 5",
            Base::Vla,
            vec![set(&sl("frame"), json!(5))],
            bad(&sf("frame"), "schema/type"),
        ),
        case(
            "slot joint_names numbers",
            Base::Vla,
            vec![set(&sl("joint_names"), json!([1]))],
            bad(&sf("joint_names[0]"), "schema/type"),
        ),
        case(
            "slot joint_names null",
            Base::Vla,
            vec![set(&sl("joint_names"), Value::Null)],
            bad(&sf("joint_names"), "schema/type"),
        ),
        case(
            "n_action_steps null",
            Base::Vla,
            vec![set("/n_action_steps", Value::Null)],
            valid(),
        ),
        case(
            "n_action_steps 1",
            Base::Vla,
            vec![set("/n_action_steps", json!(1))],
            valid(),
        ),
        case(
            "n_action_steps 0",
            Base::Vla,
            vec![set("/n_action_steps", json!(0))],
            bad("n_action_steps", "schema/exclusiveMinimum"),
        ),
        case(
            "n_action_steps 1.5",
            Base::Vla,
            vec![set("/n_action_steps", json!(1.5))],
            bad("n_action_steps", "schema/type"),
        ),
        case(
            "starting_pose null",
            Base::Vla,
            vec![set("/starting_pose", Value::Null)],
            valid(),
        ),
        case(
            "starting_pose empty",
            Base::Vla,
            vec![set("/starting_pose", json!([]))],
            valid(),
        ),
        case(
            "starting_pose string item",
            Base::Vla,
            vec![set("/starting_pose", json!([0.0, "a"]))],
            bad("starting_pose[1]", "schema/type"),
        ),
        case(
            "starting_pose a number",
            Base::Vla,
            vec![set("/starting_pose", json!(0.0))],
            bad("starting_pose", "schema/type"),
        ),
    ];
    for r in [
        "joint_positions",
        "joint_velocities",
        "delta_ee_6d_plus_gripper",
        "delta_ee_6d",
        "delta_ee_3d_plus_gripper",
        "cartesian_pose",
    ] {
        cases.push(case(
            format!("representation {r}"),
            Base::Vla,
            vec![set(&p("representation"), json!(r))],
            valid(),
        ));
    }
    run_table("action_contract", &cases);
}

// ------------------------------------------------------------------ ROS / detector / reward / playbook

#[test]
fn ros_integration() {
    let p = |k: &str| format!("/ros_integration/{k}");
    let f = |k: &str| format!("ros_integration.{k}");
    // A JSON object string of exactly `n` characters.
    let goal = |n: usize| format!("{{\"k\": \"{}\"}}", "x".repeat(n - 9));
    assert_eq!(goal(10_000).chars().count(), 10_000);
    let mut cases = vec![
        case(
            "a string",
            Base::RosAction,
            vec![set("/ros_integration", json!("x"))],
            bad("ros_integration", "schema/type"),
        ),
        case(
            "default_goal_json {}",
            Base::RosAction,
            vec![set(&p("default_goal_json"), json!("{}"))],
            valid(),
        ),
        case(
            "default_goal_json 1 char",
            Base::RosAction,
            vec![set(&p("default_goal_json"), json!("{"))],
            bad_msg(&f("default_goal_json"), "schema/minLength", "at least 2"),
        ),
        case(
            "default_goal_json 10000 chars",
            Base::RosAction,
            vec![set(&p("default_goal_json"), json!(goal(10_000)))],
            valid(),
        ),
        case(
            "default_goal_json 10001 chars",
            Base::RosAction,
            vec![set(&p("default_goal_json"), json!(goal(10_001)))],
            bad_msg(&f("default_goal_json"), "schema/maxLength", "at most 10000"),
        ),
        case(
            "default_goal_json a mapping",
            Base::RosAction,
            vec![set(&p("default_goal_json"), json!({"width": 1}))],
            bad(&f("default_goal_json"), "schema/type"),
        ),
        case(
            "interface_name 200 chars",
            Base::RosAction,
            vec![set(&p("interface_name"), json!(format!("/{}", s(199))))],
            valid(),
        ),
        case(
            "interface_name 201 chars",
            Base::RosAction,
            vec![set(&p("interface_name"), json!(format!("/{}", s(200))))],
            bad(&f("interface_name"), "schema/maxLength"),
        ),
        case(
            "interface_name empty",
            Base::RosAction,
            vec![set(&p("interface_name"), json!(""))],
            bad(&f("interface_name"), "schema/minLength"),
        ),
        case(
            "result_trajectory_field null",
            Base::RosAction,
            vec![set(&p("result_trajectory_field"), Value::Null)],
            valid(),
        ),
        case(
            "result_trajectory_field empty",
            Base::RosAction,
            vec![set(&p("result_trajectory_field"), json!(""))],
            valid(),
        ),
        case(
            "result_trajectory_field 200",
            Base::RosAction,
            vec![set(&p("result_trajectory_field"), json!(s(200)))],
            valid(),
        ),
        case(
            "result_trajectory_field 201",
            Base::RosAction,
            vec![set(&p("result_trajectory_field"), json!(s(201)))],
            bad(&f("result_trajectory_field"), "schema/maxLength"),
        ),
        case(
            "result_trajectory_field 5",
            Base::RosAction,
            vec![set(&p("result_trajectory_field"), json!(5))],
            bad(&f("result_trajectory_field"), "schema/type"),
        ),
        case(
            "ros_dependencies empty",
            Base::RosAction,
            vec![set(&p("ros_dependencies"), json!([]))],
            valid(),
        ),
        case(
            "ros_dependencies numbers",
            Base::RosAction,
            vec![set(&p("ros_dependencies"), json!([1]))],
            bad(&f("ros_dependencies[0]"), "schema/type"),
        ),
        case(
            "ros_dependencies null",
            Base::RosAction,
            vec![set(&p("ros_dependencies"), Value::Null)],
            bad(&f("ros_dependencies"), "schema/type"),
        ),
        case(
            "goal_builder null",
            Base::RosAction,
            vec![set(&p("goal_builder"), Value::Null)],
            valid(),
        ),
        case(
            "goal_builder unknown",
            Base::RosAction,
            vec![set(&p("goal_builder"), json!("twist"))],
            bad_msg(&f("goal_builder"), "schema/enum", "look_at"),
        ),
    ];
    for g in ["joint", "pose", "look_at"] {
        cases.push(case(
            format!("goal_builder {g}"),
            Base::RosAction,
            vec![set(&p("goal_builder"), json!(g))],
            valid(),
        ));
    }
    for k in [
        "package",
        "interface_type",
        "interface_name",
        "default_goal_json",
    ] {
        cases.push(case(
            format!("{k} missing"),
            Base::RosAction,
            vec![rm(&p(k))],
            bad(&f(k), "schema/required"),
        ));
        cases.push(case(
            format!("{k} 5"),
            Base::RosAction,
            vec![set(&p(k), json!(5))],
            bad(&f(k), "schema/type"),
        ));
    }
    for k in ["package", "interface_type"] {
        cases.push(case(
            format!("{k} 1 char"),
            Base::RosAction,
            vec![set(&p(k), json!("x"))],
            valid(),
        ));
        cases.push(case(
            format!("{k} 200 chars"),
            Base::RosAction,
            vec![set(&p(k), json!(s(200)))],
            valid(),
        ));
        cases.push(case(
            format!("{k} 201 chars"),
            Base::RosAction,
            vec![set(&p(k), json!(s(201)))],
            bad_msg(&f(k), "schema/maxLength", "201 characters"),
        ));
        cases.push(case(
            format!("{k} empty"),
            Base::RosAction,
            vec![set(&p(k), json!(""))],
            bad(&f(k), "schema/minLength"),
        ));
    }
    run_table("ros_integration", &cases);
}

#[test]
fn detector() {
    let p = |k: &str| format!("/detector/{k}");
    let f = |k: &str| format!("detector.{k}");
    let mut cases = vec![
        case(
            "labels only",
            Base::Detector,
            vec![set("/detector", json!({"labels": ["cup"]}))],
            valid(),
        ),
        case(
            "a list",
            Base::Detector,
            vec![set("/detector", json!(["cup"]))],
            bad("detector", "schema/type"),
        ),
        case(
            "labels missing",
            Base::Detector,
            vec![rm(&p("labels"))],
            bad(&f("labels"), "schema/required"),
        ),
        case(
            "labels empty",
            Base::Detector,
            vec![set(&p("labels"), json!([]))],
            bad_msg(&f("labels"), "schema/minItems", "at least 1"),
        ),
        case(
            "labels numbers",
            Base::Detector,
            vec![set(&p("labels"), json!([1]))],
            bad(&f("labels[0]"), "schema/type"),
        ),
        case(
            "input_size one",
            Base::Detector,
            vec![set(&p("input_size"), json!([640]))],
            bad(&f("input_size"), "schema/minItems"),
        ),
        case(
            "input_size three",
            Base::Detector,
            vec![set(&p("input_size"), json!([1, 2, 3]))],
            bad(&f("input_size"), "schema/maxItems"),
        ),
        case(
            "input_size float",
            Base::Detector,
            vec![set(&p("input_size"), json!([640.5, 480]))],
            bad(&f("input_size[0]"), "schema/type"),
        ),
        case(
            "input_size null",
            Base::Detector,
            vec![set(&p("input_size"), Value::Null)],
            bad(&f("input_size"), "schema/type"),
        ),
        case(
            "score_threshold 0",
            Base::Detector,
            vec![set(&p("score_threshold"), json!(0))],
            valid(),
        ),
        case(
            "score_threshold 1",
            Base::Detector,
            vec![set(&p("score_threshold"), json!(1))],
            valid(),
        ),
        case(
            "score_threshold 1.5",
            Base::Detector,
            vec![set(&p("score_threshold"), json!(1.5))],
            bad_msg(&f("score_threshold"), "schema/maximum", "<= 1"),
        ),
        case(
            "score_threshold -0.1",
            Base::Detector,
            vec![set(&p("score_threshold"), json!(-0.1))],
            bad(&f("score_threshold"), "schema/minimum"),
        ),
        case(
            "engine null",
            Base::Detector,
            vec![set(&p("engine"), Value::Null)],
            valid(),
        ),
        case(
            "engine yolo",
            Base::Detector,
            vec![set(&p("engine"), json!("yolo"))],
            bad_msg(&f("engine"), "schema/enum", "rtdetr_onnx"),
        ),
        case(
            "mode sometimes",
            Base::Detector,
            vec![set(&p("mode"), json!("sometimes"))],
            bad_msg(&f("mode"), "schema/enum", "continuous, on_demand"),
        ),
        case(
            "mode null",
            Base::Detector,
            vec![set(&p("mode"), Value::Null)],
            bad_among(&f("mode"), "schema/type"),
        ),
        case(
            "max_side null",
            Base::Detector,
            vec![set(&p("max_side"), Value::Null)],
            valid(),
        ),
        case(
            "max_side 1",
            Base::Detector,
            vec![set(&p("max_side"), json!(1))],
            valid(),
        ),
        case(
            "max_side 0",
            Base::Detector,
            vec![set(&p("max_side"), json!(0))],
            bad(&f("max_side"), "schema/exclusiveMinimum"),
        ),
    ];
    for e in ["rtdetr_onnx", "vlm_sidecar", "zeroshot_hf"] {
        cases.push(case(
            format!("engine {e}"),
            Base::Detector,
            vec![set(&p("engine"), json!(e))],
            valid(),
        ));
    }
    for m in ["continuous", "on_demand"] {
        cases.push(case(
            format!("mode {m}"),
            Base::Detector,
            vec![set(&p("mode"), json!(m))],
            valid(),
        ));
    }
    run_table("detector", &cases);
}

#[test]
fn reward() {
    let p = |k: &str| format!("/reward/{k}");
    let f = |k: &str| format!("reward.{k}");
    let mut cases = vec![
        case(
            "required only",
            Base::Reward,
            vec![set(
                "/reward",
                json!({"frame_window_s": 1, "target_fps": 1}),
            )],
            valid(),
        ),
        case(
            "a number",
            Base::Reward,
            vec![set("/reward", json!(1))],
            bad("reward", "schema/type"),
        ),
        case(
            "progress_range one",
            Base::Reward,
            vec![set(&p("progress_range"), json!([0]))],
            bad(&f("progress_range"), "schema/minItems"),
        ),
        case(
            "progress_range three",
            Base::Reward,
            vec![set(&p("progress_range"), json!([0, 1, 2]))],
            bad(&f("progress_range"), "schema/maxItems"),
        ),
        case(
            "progress_range string",
            Base::Reward,
            vec![set(&p("progress_range"), json!(["a", 1]))],
            bad(&f("progress_range[0]"), "schema/type"),
        ),
        case(
            "success_threshold 1",
            Base::Reward,
            vec![set(&p("success_threshold"), json!(1))],
            valid(),
        ),
        case(
            "success_threshold 0 (floor 0)",
            Base::Reward,
            vec![
                set(&p("success_threshold"), json!(0)),
                set(&p("check_floor"), json!(0)),
            ],
            valid(),
        ),
        case(
            "success_threshold 1.1",
            Base::Reward,
            vec![set(&p("success_threshold"), json!(1.1))],
            bad(&f("success_threshold"), "schema/maximum"),
        ),
        case(
            "success_threshold -0.1",
            Base::Reward,
            vec![
                set(&p("success_threshold"), json!(-0.1)),
                rm(&p("check_floor")),
            ],
            bad(&f("success_threshold"), "schema/minimum"),
        ),
        case(
            "check_floor 0",
            Base::Reward,
            vec![set(&p("check_floor"), json!(0))],
            valid(),
        ),
        case(
            "check_floor -0.1",
            Base::Reward,
            vec![set(&p("check_floor"), json!(-0.1))],
            bad(&f("check_floor"), "schema/minimum"),
        ),
        case(
            "check_floor 1.1",
            Base::Reward,
            vec![
                set(&p("check_floor"), json!(1.1)),
                rm(&p("success_threshold")),
            ],
            bad(&f("check_floor"), "schema/maximum"),
        ),
        case(
            "preference string",
            Base::Reward,
            vec![set(&p("preference"), json!("no"))],
            bad(&f("preference"), "schema/type"),
        ),
        case(
            "instruction_required string",
            Base::Reward,
            vec![set(&p("instruction_required"), json!("yes"))],
            bad(&f("instruction_required"), "schema/type"),
        ),
        case(
            "num_bins 1",
            Base::Reward,
            vec![set(&p("num_bins"), json!(1))],
            valid(),
        ),
        case(
            "num_bins 0",
            Base::Reward,
            vec![set(&p("num_bins"), json!(0))],
            bad(&f("num_bins"), "schema/exclusiveMinimum"),
        ),
        case(
            "num_bins 1.5",
            Base::Reward,
            vec![set(&p("num_bins"), json!(1.5))],
            bad(&f("num_bins"), "schema/type"),
        ),
        case(
            "plateau_tolerance 0",
            Base::Reward,
            vec![set(&p("plateau_tolerance"), json!(0))],
            valid(),
        ),
        case(
            "plateau_tolerance -0.1",
            Base::Reward,
            vec![set(&p("plateau_tolerance"), json!(-0.1))],
            bad(&f("plateau_tolerance"), "schema/minimum"),
        ),
    ];
    for k in ["frame_window_s", "target_fps"] {
        cases.push(case(
            format!("{k} missing"),
            Base::Reward,
            vec![rm(&p(k))],
            bad(&f(k), "schema/required"),
        ));
    }
    for k in [
        "frame_window_s",
        "target_fps",
        "plateau_window_s",
        "default_patience_s",
    ] {
        cases.push(case(
            format!("{k} 0.01"),
            Base::Reward,
            vec![set(&p(k), json!(0.01))],
            valid(),
        ));
        cases.push(case(
            format!("{k} 0"),
            Base::Reward,
            vec![set(&p(k), json!(0))],
            bad_msg(&f(k), "schema/exclusiveMinimum", "> 0"),
        ));
        cases.push(case(
            format!("{k} string"),
            Base::Reward,
            vec![set(&p(k), json!("1"))],
            bad(&f(k), "schema/type"),
        ));
    }
    run_table("reward", &cases);
}

#[test]
fn playbook() {
    let p = |k: &str| format!("/playbook/{k}");
    let f = |k: &str| format!("playbook.{k}");
    let mut cases = vec![
        case(
            "a string",
            Base::Playbook,
            vec![set("/playbook", json!("playbook.md"))],
            bad("playbook", "schema/type"),
        ),
        case(
            "body_uri 1 char",
            Base::Playbook,
            vec![set(&p("body_uri"), json!("p"))],
            valid(),
        ),
        case(
            "body_uri empty",
            Base::Playbook,
            vec![set(&p("body_uri"), json!(""))],
            bad_msg(&f("body_uri"), "schema/minLength", "at least 1"),
        ),
        case(
            "body_uri long",
            Base::Playbook,
            vec![set(&p("body_uri"), json!(s(5000)))],
            valid(),
        ),
        case(
            "composes_tools empty",
            Base::Playbook,
            vec![set(&p("composes_tools"), json!([]))],
            bad(&f("composes_tools"), "schema/minItems"),
        ),
        case(
            "composes_tools numbers",
            Base::Playbook,
            vec![set(&p("composes_tools"), json!([1]))],
            bad(&f("composes_tools[0]"), "schema/type"),
        ),
        case(
            "max_steps 1",
            Base::Playbook,
            vec![set(&p("max_steps"), json!(1))],
            valid(),
        ),
        case(
            "max_steps 0",
            Base::Playbook,
            vec![set(&p("max_steps"), json!(0))],
            bad(&f("max_steps"), "schema/exclusiveMinimum"),
        ),
        case(
            "max_steps 1.5",
            Base::Playbook,
            vec![set(&p("max_steps"), json!(1.5))],
            bad(&f("max_steps"), "schema/type"),
        ),
    ];
    for k in [
        "trigger",
        "body_uri",
        "composes_tools",
        "done_predicate",
        "max_steps",
    ] {
        cases.push(case(
            format!("{k} missing"),
            Base::Playbook,
            vec![rm(&p(k))],
            bad(&f(k), "schema/required"),
        ));
    }
    for k in ["trigger", "done_predicate"] {
        cases.push(case(
            format!("{k} 1 char"),
            Base::Playbook,
            vec![set(&p(k), json!("x"))],
            valid(),
        ));
        cases.push(case(
            format!("{k} 500 chars"),
            Base::Playbook,
            vec![set(&p(k), json!(s(500)))],
            valid(),
        ));
        cases.push(case(
            format!("{k} 501 chars"),
            Base::Playbook,
            vec![set(&p(k), json!(s(501)))],
            bad_msg(&f(k), "schema/maxLength", "at most 500"),
        ));
        cases.push(case(
            format!("{k} empty"),
            Base::Playbook,
            vec![set(&p(k), json!(""))],
            bad(&f(k), "schema/minLength"),
        ));
        cases.push(case(
            format!("{k} 5"),
            Base::Playbook,
            vec![set(&p(k), json!(5))],
            bad(&f(k), "schema/type"),
        ));
    }
    run_table("playbook", &cases);
}
