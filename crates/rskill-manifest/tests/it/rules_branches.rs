//! The manifest rules beyond the schema (spec "Rules beyond the shape", 1–10), each
//! with a valid case and an invalid case asserting `rule == "rule/N"` and the field,
//! including every per-kind requirement and prohibition of rule 5.

use crate::util::*;
use serde_json::{Value, json};

// ------------------------------------------------------------------ samples

/// A valid value for every field some kind forbids, chosen so that setting it trips
/// no other rule (model_family `act` needs no processors).
fn sample(field: &str) -> Value {
    match field {
        "action_contract" => json!({"dim": 2}),
        "detector" => json!({"labels": ["cup"]}),
        "envelope" => json!({"max_force_n": 10}),
        "image_preprocessing" => json!({"flip_180": false}),
        "min_vram_gb" => json!({"fp16": 1}),
        "model_family" => json!("act"),
        "n_action_steps" => json!(5),
        "processors" => json!({
            "preprocessor_uri": "hf://acme/m/pre.json",
            "postprocessor_uri": "hf://acme/m/post.json"
        }),
        "reward" => json!({"frame_window_s": 1, "target_fps": 1}),
        "ros_integration" => json!({
            "package": "p",
            "interface_type": "p/action/A",
            "interface_name": "/a",
            "default_goal_json": "{}"
        }),
        "starting_pose" => json!([0.0]),
        "state_contract" => json!({"dim": 3}),
        "weights_uri" => json!("hf://acme/weights"),
        "playbook" => json!({
            "trigger": "t",
            "body_uri": "playbook.md",
            "composes_tools": ["acme/x"],
            "done_predicate": "d",
            "max_steps": 3
        }),
        "reward_rskill_name" => json!("acme/rskill-reward"),
        other => panic!("no sample for {other}"),
    }
}

/// Every field a kind may forbid (rule 5).
const FORBIDDABLE: [&str; 13] = [
    "action_contract",
    "detector",
    "envelope",
    "image_preprocessing",
    "min_vram_gb",
    "model_family",
    "n_action_steps",
    "processors",
    "reward",
    "ros_integration",
    "starting_pose",
    "state_contract",
    "weights_uri",
];

/// What the spec forbids per kind.
fn forbidden(kind_base: Base) -> &'static [&'static str] {
    match kind_base {
        Base::Vla | Base::Custom => &["ros_integration", "detector", "reward"],
        Base::RosAction | Base::RosService => &[
            "model_family",
            "weights_uri",
            "processors",
            "state_contract",
            "action_contract",
            "n_action_steps",
            "image_preprocessing",
            "starting_pose",
            "detector",
            "reward",
        ],
        Base::Detector => &[
            "model_family",
            "ros_integration",
            "action_contract",
            "state_contract",
            "processors",
            "n_action_steps",
            "starting_pose",
            "reward",
        ],
        Base::Vlm => &[
            "detector",
            "reward",
            "ros_integration",
            "action_contract",
            "state_contract",
            "processors",
            "n_action_steps",
            "image_preprocessing",
            "starting_pose",
        ],
        Base::Reward => &[
            "model_family",
            "detector",
            "ros_integration",
            "action_contract",
            "state_contract",
            "processors",
            "n_action_steps",
            "image_preprocessing",
            "starting_pose",
        ],
        Base::Playbook => &[
            "weights_uri",
            "model_family",
            "min_vram_gb",
            "envelope",
            "state_contract",
            "action_contract",
            "detector",
            "reward",
            "ros_integration",
        ],
        Base::Wam => &[],
    }
}

fn actuator(kind: &str) -> Value {
    json!({"kind": kind, "control_mode_semantics": {"mode": "absolute"}, "n_dof": 1})
}

fn joint_actuator() -> Value {
    actuator("joint_position")
}

// ------------------------------------------------------------------ rule 1

#[test]
fn rule1_fallback_differs_from_name() {
    let cases = vec![
        case(
            "fallback is another skill",
            Base::Wam,
            vec![set("/fallback_skill_id", json!("acme/rskill-other"))],
            valid(),
        ),
        case(
            "fallback null",
            Base::Wam,
            vec![set("/fallback_skill_id", Value::Null)],
            valid(),
        ),
        case(
            "fallback is itself",
            Base::Wam,
            vec![set("/fallback_skill_id", json!("acme/rskill-wam"))],
            bad_msg("fallback_skill_id", "rule/1", "acme/rskill-wam"),
        ),
        case(
            "fallback is itself (vla)",
            Base::Vla,
            vec![set("/fallback_skill_id", json!("acme/rskill-vla-full"))],
            bad("fallback_skill_id", "rule/1"),
        ),
        // Repo ids are compared as written.
        case(
            "fallback differs in case",
            Base::Wam,
            vec![set("/fallback_skill_id", json!("Acme/rskill-wam"))],
            valid(),
        ),
    ];
    run_table("rule 1", &cases);
}

// ------------------------------------------------------------------ rule 2

#[test]
fn rule2_embodiment_tags_not_empty_for_any_kind() {
    let mut cases = Vec::new();
    for base in Base::ALL {
        if base == Base::Custom {
            continue; // rule 3 fires too; covered below
        }
        cases.push(case(
            format!("{base:?}: empty tags"),
            base,
            vec![set("/embodiment_tags", json!([]))],
            bad_msg("embodiment_tags", "rule/2", "[\"any\"]"),
        ));
        cases.push(case(
            format!("{base:?}: tags absent"),
            base,
            vec![rm("/embodiment_tags")],
            bad("embodiment_tags", "rule/2"),
        ));
        cases.push(case(
            format!("{base:?}: [any]"),
            base,
            vec![set("/embodiment_tags", json!(["any"]))],
            valid(),
        ));
    }
    cases.push(case(
        "custom: empty tags keeps extra",
        Base::Custom,
        vec![set("/embodiment_tags", json!([]))],
        bad_among("embodiment_tags", "rule/2"),
    ));
    run_table("rule 2", &cases);
}

// ------------------------------------------------------------------ rule 3

#[test]
fn rule3_custom_embodiment() {
    let cases = vec![
        case(
            "custom with embodiment_extra",
            Base::Custom,
            vec![],
            valid(),
        ),
        case(
            "custom plus a known tag",
            Base::Custom,
            vec![set("/embodiment_tags", json!(["custom", "ur5e"]))],
            valid(),
        ),
        case(
            "custom without embodiment_extra",
            Base::Custom,
            vec![rm("/embodiment_extra")],
            bad_msg("embodiment_tags", "rule/3", "embodiment_extra"),
        ),
        case(
            "custom with embodiment_extra null",
            Base::Custom,
            vec![set("/embodiment_extra", Value::Null)],
            bad("embodiment_tags", "rule/3"),
        ),
        case(
            "embodiment_extra without custom",
            Base::Custom,
            vec![set("/embodiment_tags", json!(["ur5e"]))],
            bad_msg("embodiment_extra", "rule/3", "custom"),
        ),
        case(
            "embodiment_extra on a wam without custom",
            Base::Wam,
            vec![set(
                "/embodiment_extra",
                Base::Custom.value()["embodiment_extra"].clone(),
            )],
            bad("embodiment_extra", "rule/3"),
        ),
        case(
            "custom actuator lacks n_dof",
            Base::Custom,
            vec![rm("/actuators_required/1/n_dof")],
            bad_msg("actuators_required[1]", "rule/3", "missing: n_dof"),
        ),
        case(
            "custom actuator n_dof null",
            Base::Custom,
            vec![set("/actuators_required/0/n_dof", Value::Null)],
            bad_msg("actuators_required[0]", "rule/3", "n_dof"),
        ),
        case(
            "custom actuator lacks vla_action_key",
            Base::Custom,
            vec![rm("/actuators_required/0/vla_action_key")],
            bad_msg("actuators_required[0]", "rule/3", "missing: vla_action_key"),
        ),
        case(
            "custom actuator lacks both",
            Base::Custom,
            vec![
                rm("/actuators_required/0/vla_action_key"),
                rm("/actuators_required/0/n_dof"),
            ],
            bad_msg("actuators_required[0]", "rule/3", "n_dof, vla_action_key"),
        ),
        // Without `custom` the two keys are optional.
        case(
            "non-custom actuator without n_dof / key",
            Base::Wam,
            vec![set(
                "/actuators_required",
                json!([{"kind": "joint_position", "control_mode_semantics": {"mode": "absolute"}}]),
            )],
            valid(),
        ),
        // The requirement is on actuators_required, not on embodiment_extra.actuators.
        case(
            "custom extra actuator without key",
            Base::Custom,
            vec![rm("/embodiment_extra/actuators/0/vla_action_key")],
            valid(),
        ),
    ];
    run_table("rule 3", &cases);
}

#[test]
fn rule3_every_lacking_custom_actuator_is_reported() {
    let doc = mutated(
        Base::Custom,
        &[
            rm("/actuators_required/0/n_dof"),
            rm("/actuators_required/1/vla_action_key"),
        ],
    );
    let c = check(doc);
    let fields: Vec<(&str, &str)> = c
        .violations
        .iter()
        .map(|v| (v.field.as_str(), v.rule.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("actuators_required[0]", "rule/3"),
            ("actuators_required[1]", "rule/3")
        ],
        "{}",
        describe(&c.violations)
    );
}

// ------------------------------------------------------------------ rule 4

#[test]
fn rule4_processors_per_model_family() {
    let mut cases = Vec::new();
    for fam in ["smolvla", "pi05", "xvla", "diffusion", "rldx", "molmoact2"] {
        cases.push(case(
            format!("{fam} with processors"),
            Base::Vla,
            vec![set("/model_family", json!(fam))],
            valid(),
        ));
        cases.push(case(
            format!("{fam} without processors"),
            Base::Vla,
            vec![set("/model_family", json!(fam)), rm("/processors")],
            bad_msg("processors", "rule/4", fam),
        ));
        cases.push(case(
            format!("{fam} with processors null"),
            Base::Vla,
            vec![
                set("/model_family", json!(fam)),
                set("/processors", Value::Null),
            ],
            bad("processors", "rule/4"),
        ));
        // Rule 4 is about the family, whatever the kind.
        cases.push(case(
            format!("{fam} on a wam without processors"),
            Base::Wam,
            vec![set("/model_family", json!(fam))],
            bad("processors", "rule/4"),
        ));
    }
    for fam in ["act", "gr00t", "openvla", "diffuser_actor"] {
        cases.push(case(
            format!("{fam} without processors"),
            Base::Vla,
            vec![set("/model_family", json!(fam)), rm("/processors")],
            valid(),
        ));
        cases.push(case(
            format!("{fam} with processors"),
            Base::Vla,
            vec![set("/model_family", json!(fam))],
            valid(),
        ));
    }
    run_table("rule 4", &cases);
}

#[test]
fn rule4_covers_every_model_family() {
    let listed = [
        "smolvla",
        "pi05",
        "xvla",
        "diffusion",
        "rldx",
        "molmoact2",
        "act",
        "gr00t",
        "openvla",
        "diffuser_actor",
    ];
    let mut all: Vec<&str> = rskill_manifest::manifest::ModelFamily::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    all.sort_unstable();
    let mut listed = listed.to_vec();
    listed.sort_unstable();
    assert_eq!(all, listed, "every family is classified by rule 4");
}

// ------------------------------------------------------------------ rule 5: general

#[test]
fn rule5_playbook_block_only_on_playbook_and_reward_name_only_on_vla() {
    let mut cases = Vec::new();
    for base in Base::ALL {
        if base != Base::Playbook {
            cases.push(case(
                format!("{base:?}: playbook block"),
                base,
                vec![set("/playbook", sample("playbook"))],
                bad_msg("playbook", "rule/5", base.kind()),
            ));
            cases.push(case(
                format!("{base:?}: playbook null"),
                base,
                vec![set("/playbook", Value::Null)],
                valid(),
            ));
        }
        if base.kind() != "vla" {
            cases.push(case(
                format!("{base:?}: reward_rskill_name"),
                base,
                vec![set("/reward_rskill_name", sample("reward_rskill_name"))],
                bad_msg("reward_rskill_name", "rule/5", "vla"),
            ));
            cases.push(case(
                format!("{base:?}: reward_rskill_name null"),
                base,
                vec![set("/reward_rskill_name", Value::Null)],
                valid(),
            ));
        } else {
            cases.push(case(
                format!("{base:?}: reward_rskill_name"),
                base,
                vec![set("/reward_rskill_name", sample("reward_rskill_name"))],
                valid(),
            ));
        }
    }
    run_table("rule 5 general", &cases);
}

#[test]
fn rule5_each_forbidden_field_per_kind() {
    let mut cases = Vec::new();
    for base in Base::ALL {
        let forbids = forbidden(base);
        for field in FORBIDDABLE {
            let muts = vec![set(&format!("/{field}"), sample(field))];
            if forbids.contains(&field) {
                cases.push(case(
                    format!("{base:?} forbids {field}"),
                    base,
                    muts,
                    bad_msg(
                        field,
                        "rule/5",
                        &format!("kind `{}` does not allow: {field}", base.kind()),
                    ),
                ));
                // null counts as absent.
                cases.push(case(
                    format!("{base:?}: {field} null"),
                    base,
                    vec![set(&format!("/{field}"), Value::Null)],
                    valid(),
                ));
            } else {
                cases.push(case(
                    format!("{base:?} allows {field}"),
                    base,
                    muts,
                    valid(),
                ));
            }
        }
    }
    run_table("rule 5 forbidden fields", &cases);
}

#[test]
fn rule5_ros_forbidding_several_fields_is_one_violation_listing_them_sorted() {
    for base in [Base::RosAction, Base::RosService] {
        let fields = [
            "weights_uri",
            "starting_pose",
            "model_family",
            "reward",
            "processors",
            "action_contract",
        ];
        let muts: Vec<Mutation> = fields
            .iter()
            .map(|f| set(&format!("/{f}"), sample(f)))
            .collect();
        let c = check(mutated(base, &muts));
        let rule5: Vec<_> = c.violations.iter().filter(|v| v.rule == "rule/5").collect();
        assert_eq!(rule5.len(), 1, "{base:?}:{}", describe(&c.violations));
        assert_eq!(
            c.violations.len(),
            1,
            "{base:?}:{}",
            describe(&c.violations)
        );
        let v = rule5[0];
        let sorted =
            "action_contract, model_family, processors, reward, starting_pose, weights_uri";
        assert_eq!(v.field, sorted);
        assert_eq!(
            v.message,
            format!("kind `{}` does not allow: {sorted}", base.kind())
        );
    }
}

#[test]
fn rule5_every_ros_forbidden_field_at_once() {
    let fields = forbidden(Base::RosAction);
    let muts: Vec<Mutation> = fields
        .iter()
        .map(|f| set(&format!("/{f}"), sample(f)))
        .collect();
    let c = check(mutated(Base::RosAction, &muts));
    assert_eq!(c.violations.len(), 1, "{}", describe(&c.violations));
    let mut sorted = fields.to_vec();
    sorted.sort_unstable();
    assert_eq!(c.violations[0].field, sorted.join(", "));
    assert_eq!(c.violations[0].rule, "rule/5");
}

#[test]
fn rule5_forbidden_violation_is_located_at_the_first_offending_field() {
    let mut doc = Base::RosAction.value();
    doc["weights_uri"] = sample("weights_uri");
    doc["model_family"] = sample("model_family");
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let c = rskill_manifest::validate::check_text(&text);
    assert_eq!(c.violations.len(), 1, "{}", describe(&c.violations));
    let v = &c.violations[0];
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("\"model_family\""))
        .unwrap()
        + 1;
    assert_eq!(v.line, Some(line), "{v:?}");
}

// ------------------------------------------------------------------ rule 5: requirements

#[test]
fn rule5_vla_requirements() {
    let mut cases = vec![
        case(
            "model_family missing",
            Base::Vla,
            vec![rm("/model_family")],
            bad_msg("model_family", "rule/5", "required for kind `vla`"),
        ),
        case(
            "model_family null",
            Base::Vla,
            vec![set("/model_family", Value::Null)],
            bad("model_family", "rule/5"),
        ),
        case(
            "weights_uri missing",
            Base::Vla,
            vec![rm("/weights_uri")],
            bad_msg("weights_uri", "rule/5", "required for kind `vla`"),
        ),
        case(
            "weights_uri null",
            Base::Vla,
            vec![set("/weights_uri", Value::Null)],
            bad("weights_uri", "rule/5"),
        ),
        case(
            "weights_uri local://",
            Base::Vla,
            vec![set("/weights_uri", json!("local://w"))],
            valid(),
        ),
        case(
            "no actuator",
            Base::Vla,
            vec![set("/actuators_required", json!([]))],
            bad_msg("actuators_required", "rule/5", "at least one actuator"),
        ),
        case(
            "actuators absent",
            Base::Vla,
            vec![rm("/actuators_required")],
            bad("actuators_required", "rule/5"),
        ),
        case(
            "chunk_size > 1 is fine",
            Base::Vla,
            vec![set("/chunk_size", json!(100))],
            valid(),
        ),
        case("custom vla", Base::Custom, vec![], valid()),
        case(
            "custom vla without actuators",
            Base::Custom,
            vec![set("/actuators_required", json!([]))],
            bad("actuators_required", "rule/5"),
        ),
    ];
    cases.push(case(
        "one actuator is enough",
        Base::Vla,
        vec![
            rm("/actuators_required/1"),
            set("/action_contract", Value::Null),
        ],
        valid(),
    ));
    run_table("rule 5 vla", &cases);
}

#[test]
fn rule5_ros_requirements() {
    let mut cases = Vec::new();
    for base in [Base::RosAction, Base::RosService] {
        let k = base.kind();
        cases.extend([
            case(
                format!("{k}: ros_integration missing"),
                base,
                vec![rm("/ros_integration")],
                bad_msg(
                    "ros_integration",
                    "rule/5",
                    &format!("required for kind `{k}`"),
                ),
            ),
            case(
                format!("{k}: ros_integration null"),
                base,
                vec![set("/ros_integration", Value::Null)],
                bad("ros_integration", "rule/5"),
            ),
            case(
                format!("{k}: no actuator"),
                base,
                vec![set("/actuators_required", json!([]))],
                bad("actuators_required", "rule/5"),
            ),
            case(
                format!("{k}: actuators absent"),
                base,
                vec![rm("/actuators_required")],
                bad("actuators_required", "rule/5"),
            ),
            case(
                format!("{k}: chunk_size 2"),
                base,
                vec![set("/chunk_size", json!(2))],
                bad_msg("chunk_size", "rule/5", "must be 1"),
            ),
            case(
                format!("{k}: chunk_size 50"),
                base,
                vec![set("/chunk_size", json!(50))],
                bad("chunk_size", "rule/5"),
            ),
            case(
                format!("{k}: two actuators"),
                base,
                vec![set("/actuators_required/1", joint_actuator())],
                valid(),
            ),
            case(
                format!("{k}: every forbidden field null"),
                base,
                forbidden(base)
                    .iter()
                    .map(|f| set(&format!("/{f}"), Value::Null))
                    .collect(),
                valid(),
            ),
        ]);
    }
    run_table("rule 5 ros", &cases);
}

#[test]
fn rule5_detector_vlm_reward_requirements() {
    let cases = vec![
        case(
            "detector: block missing",
            Base::Detector,
            vec![rm("/detector")],
            bad_msg("detector", "rule/5", "required for kind `detector`"),
        ),
        case(
            "detector: block null",
            Base::Detector,
            vec![set("/detector", Value::Null)],
            bad("detector", "rule/5"),
        ),
        case(
            "detector: weights missing",
            Base::Detector,
            vec![rm("/weights_uri")],
            bad("weights_uri", "rule/5"),
        ),
        case(
            "detector: an actuator",
            Base::Detector,
            vec![set("/actuators_required", json!([joint_actuator()]))],
            bad_msg("actuators_required", "rule/5", "must be empty"),
        ),
        case(
            "detector: actuators absent",
            Base::Detector,
            vec![rm("/actuators_required")],
            valid(),
        ),
        case(
            "detector: chunk_size 4",
            Base::Detector,
            vec![set("/chunk_size", json!(4))],
            valid(),
        ),
        case(
            "vlm: weights missing",
            Base::Vlm,
            vec![rm("/weights_uri")],
            bad_msg("weights_uri", "rule/5", "required for kind `vlm`"),
        ),
        case(
            "vlm: an actuator",
            Base::Vlm,
            vec![set("/actuators_required", json!([joint_actuator()]))],
            bad("actuators_required", "rule/5"),
        ),
        case(
            "vlm: actuators empty",
            Base::Vlm,
            vec![set("/actuators_required", json!([]))],
            valid(),
        ),
        case(
            "reward: block missing",
            Base::Reward,
            vec![rm("/reward")],
            bad_msg("reward", "rule/5", "required for kind `reward`"),
        ),
        case(
            "reward: weights missing",
            Base::Reward,
            vec![rm("/weights_uri")],
            bad("weights_uri", "rule/5"),
        ),
        case(
            "reward: an actuator",
            Base::Reward,
            vec![set("/actuators_required", json!([joint_actuator()]))],
            bad("actuators_required", "rule/5"),
        ),
    ];
    run_table("rule 5 detector / vlm / reward", &cases);
}

#[test]
fn rule5_playbook_requirements() {
    let cases = vec![
        case(
            "playbook block missing",
            Base::Playbook,
            vec![rm("/playbook")],
            bad_msg("playbook", "rule/5", "required for kind `playbook`"),
        ),
        case(
            "playbook block null",
            Base::Playbook,
            vec![set("/playbook", Value::Null)],
            bad("playbook", "rule/5"),
        ),
        case(
            "role s1",
            Base::Playbook,
            vec![set("/role", json!("s1"))],
            bad_msg("role", "rule/5", "s2"),
        ),
        case(
            "role s0",
            Base::Playbook,
            vec![set("/role", json!("s0"))],
            bad("role", "rule/5"),
        ),
        case(
            "role absent (default s1)",
            Base::Playbook,
            vec![rm("/role")],
            bad("role", "rule/5"),
        ),
        case(
            "no plan among actions",
            Base::Playbook,
            vec![set("/actions", json!(["pick_and_place"]))],
            bad_msg("actions", "rule/5", "plan"),
        ),
        case(
            "plan alone",
            Base::Playbook,
            vec![set("/actions", json!(["plan"]))],
            valid(),
        ),
        case(
            "plan last",
            Base::Playbook,
            vec![set("/actions", json!(["pick", "plan"]))],
            valid(),
        ),
        case(
            "chunk_size 2",
            Base::Playbook,
            vec![set("/chunk_size", json!(2))],
            bad_msg("chunk_size", "rule/5", "must be 1"),
        ),
        case(
            "an actuator",
            Base::Playbook,
            vec![set("/actuators_required", json!([joint_actuator()]))],
            bad("actuators_required", "rule/5"),
        ),
        case(
            "actuators absent",
            Base::Playbook,
            vec![rm("/actuators_required")],
            valid(),
        ),
        case(
            "processors allowed",
            Base::Playbook,
            vec![set("/processors", sample("processors"))],
            valid(),
        ),
        case(
            "weights_uri + model_family + min_vram_gb + envelope",
            Base::Playbook,
            vec![
                set("/weights_uri", sample("weights_uri")),
                set("/model_family", sample("model_family")),
                set("/min_vram_gb", sample("min_vram_gb")),
                set("/envelope", sample("envelope")),
            ],
            bad_msg(
                "envelope, min_vram_gb, model_family, weights_uri",
                "rule/5",
                "kind `playbook` does not allow: envelope, min_vram_gb, model_family, weights_uri",
            ),
        ),
        case(
            "every contract / detector / reward / ROS block",
            Base::Playbook,
            vec![
                set("/state_contract", sample("state_contract")),
                set("/action_contract", sample("action_contract")),
                set("/detector", sample("detector")),
                set("/reward", sample("reward")),
                set("/ros_integration", sample("ros_integration")),
            ],
            bad(
                "action_contract, detector, reward, ros_integration, state_contract",
                "rule/5",
            ),
        ),
    ];
    run_table("rule 5 playbook", &cases);
}

#[test]
fn rule5_playbook_breaking_everything_reports_each_requirement_once() {
    let doc = mutated(
        Base::Playbook,
        &[
            rm("/playbook"),
            set("/role", json!("s1")),
            set("/actions", json!(["pick"])),
            set("/chunk_size", json!(8)),
            set("/actuators_required", json!([joint_actuator()])),
            set("/weights_uri", sample("weights_uri")),
        ],
    );
    let c = check(doc);
    let mut fields: Vec<&str> = c.violations.iter().map(|v| v.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec![
            "actions",
            "actuators_required",
            "chunk_size",
            "playbook",
            "role",
            "weights_uri"
        ],
        "{}",
        describe(&c.violations)
    );
    assert!(c.violations.iter().all(|v| v.rule == "rule/5"));
}

#[test]
fn rule5_wam_has_no_extra_rule() {
    let muts: Vec<Mutation> = FORBIDDABLE
        .iter()
        .map(|f| set(&format!("/{f}"), sample(f)))
        .chain([
            set("/actuators_required", json!([])),
            set("/chunk_size", json!(64)),
            set("/role", json!("s0")),
        ])
        .collect();
    run_table(
        "rule 5 wam",
        &[
            case("wam with every optional block", Base::Wam, muts, valid()),
            case(
                "wam without weights",
                Base::Wam,
                vec![set("/weights_uri", Value::Null)],
                valid(),
            ),
        ],
    );
}

// ------------------------------------------------------------------ rule 6

#[test]
fn rule6_processor_uris_differ() {
    let cases = vec![
        case("different", Base::Vla, vec![], valid()),
        case(
            "same",
            Base::Vla,
            vec![set(
                "/processors/postprocessor_uri",
                json!("hf://acme/smolvla-franka@v1.0/policy_preprocessor.json"),
            )],
            bad_msg("processors.postprocessor_uri", "rule/6", "preprocessor_uri"),
        ),
        case(
            "differ only in revision",
            Base::Vla,
            vec![set(
                "/processors/postprocessor_uri",
                json!("hf://acme/smolvla-franka@v2.0/policy_preprocessor.json"),
            )],
            valid(),
        ),
        case(
            "same on a wam",
            Base::Wam,
            vec![set(
                "/processors",
                json!({"preprocessor_uri": "hf://a/b/p.json", "postprocessor_uri": "hf://a/b/p.json"}),
            )],
            bad("processors.postprocessor_uri", "rule/6"),
        ),
    ];
    run_table("rule 6", &cases);
}

// ------------------------------------------------------------------ rule 7

#[test]
fn rule7_ros_interface_name_and_default_goal() {
    let name = "/ros_integration/interface_name";
    let goal = "/ros_integration/default_goal_json";
    let mut cases = vec![
        case(
            "absolute name",
            Base::RosAction,
            vec![set(name, json!("/a/b"))],
            valid(),
        ),
        case(
            "root only",
            Base::RosAction,
            vec![set(name, json!("/"))],
            valid(),
        ),
        case(
            "relative name",
            Base::RosAction,
            vec![set(name, json!("navigate_to_pose"))],
            bad_msg("ros_integration.interface_name", "rule/7", "`/`"),
        ),
        case(
            "tilde name",
            Base::RosAction,
            vec![set(name, json!("~/grasp"))],
            bad("ros_integration.interface_name", "rule/7"),
        ),
        case(
            "leading space",
            Base::RosService,
            vec![set(name, json!(" /set_io"))],
            bad("ros_integration.interface_name", "rule/7"),
        ),
        case(
            "goal {}",
            Base::RosAction,
            vec![set(goal, json!("{}"))],
            valid(),
        ),
        case(
            "goal nested object",
            Base::RosAction,
            vec![set(goal, json!("{\"a\": {\"b\": [1, 2]}, \"c\": null}"))],
            valid(),
        ),
        case(
            "goal with whitespace",
            Base::RosAction,
            vec![set(goal, json!("  {\"a\": 1}\n"))],
            valid(),
        ),
        case(
            "goal not JSON",
            Base::RosAction,
            vec![set(goal, json!("{width: 0.03}"))],
            bad_msg(
                "ros_integration.default_goal_json",
                "rule/7",
                "not valid JSON",
            ),
        ),
        case(
            "goal truncated JSON",
            Base::RosAction,
            vec![set(goal, json!("{\"a\": 1"))],
            bad_msg(
                "ros_integration.default_goal_json",
                "rule/7",
                "not valid JSON",
            ),
        ),
        case(
            "goal a JSON array",
            Base::RosAction,
            vec![set(goal, json!("[1, 2]"))],
            bad_msg("ros_integration.default_goal_json", "rule/7", "JSON object"),
        ),
        case(
            "goal a JSON string",
            Base::RosAction,
            vec![set(goal, json!("\"x\""))],
            bad_msg("ros_integration.default_goal_json", "rule/7", "JSON object"),
        ),
        case(
            "goal a JSON number",
            Base::RosService,
            vec![set(goal, json!("42"))],
            bad_msg("ros_integration.default_goal_json", "rule/7", "JSON object"),
        ),
        case(
            "goal null (JSON)",
            Base::RosService,
            vec![set(goal, json!("null"))],
            bad("ros_integration.default_goal_json", "rule/7"),
        ),
    ];
    // Rule 7 applies wherever ros_integration appears (wam allows the block).
    cases.push(case(
        "wam with a relative name",
        Base::Wam,
        vec![set("/ros_integration", json!({"package": "p", "interface_type": "t", "interface_name": "x", "default_goal_json": "{}"}))],
        bad("ros_integration.interface_name", "rule/7"),
    ));
    run_table("rule 7", &cases);
}

#[test]
fn rule7_both_problems_are_reported() {
    let doc = mutated(
        Base::RosAction,
        &[
            set("/ros_integration/interface_name", json!("grasp")),
            set("/ros_integration/default_goal_json", json!("[]")),
        ],
    );
    let c = check(doc);
    let fields: Vec<(&str, &str)> = c
        .violations
        .iter()
        .map(|v| (v.field.as_str(), v.rule.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("ros_integration.interface_name", "rule/7"),
            ("ros_integration.default_goal_json", "rule/7")
        ]
    );
}

// ------------------------------------------------------------------ rule 8

#[test]
fn rule8_detector_and_reward_ranges() {
    let cases = vec![
        case(
            "input_size positive",
            Base::Detector,
            vec![set("/detector/input_size", json!([1, 1]))],
            valid(),
        ),
        case(
            "input_size width 0",
            Base::Detector,
            vec![set("/detector/input_size", json!([0, 640]))],
            bad_msg("detector.input_size[0]", "rule/8", "> 0"),
        ),
        case(
            "input_size height -1",
            Base::Detector,
            vec![set("/detector/input_size", json!([640, -1]))],
            bad_msg("detector.input_size[1]", "rule/8", "-1"),
        ),
        case(
            "progress_range 0..1",
            Base::Reward,
            vec![set("/reward/progress_range", json!([0, 1]))],
            valid(),
        ),
        case(
            "progress_range negative min",
            Base::Reward,
            vec![set("/reward/progress_range", json!([-1, 1]))],
            valid(),
        ),
        case(
            "progress_range max == min",
            Base::Reward,
            vec![set("/reward/progress_range", json!([1, 1]))],
            bad_msg(
                "reward.progress_range",
                "rule/8",
                "max must be greater than min",
            ),
        ),
        case(
            "progress_range max < min",
            Base::Reward,
            vec![set("/reward/progress_range", json!([1, 0]))],
            bad("reward.progress_range", "rule/8"),
        ),
        case(
            "check_floor == success_threshold",
            Base::Reward,
            vec![set("/reward/check_floor", json!(0.9))],
            valid(),
        ),
        case(
            "check_floor > success_threshold",
            Base::Reward,
            vec![set("/reward/check_floor", json!(0.95))],
            bad_msg("reward.check_floor", "rule/8", "success_threshold"),
        ),
        case(
            "check_floor without threshold",
            Base::Reward,
            vec![
                rm("/reward/success_threshold"),
                set("/reward/check_floor", json!(1.0)),
            ],
            valid(),
        ),
        // Rule 8 applies to the blocks wherever they appear.
        case(
            "wam with detector input_size 0",
            Base::Wam,
            vec![set(
                "/detector",
                json!({"labels": ["a"], "input_size": [0, 0]}),
            )],
            bad_among("detector.input_size[0]", "rule/8"),
        ),
    ];
    run_table("rule 8", &cases);
}

#[test]
fn rule8_both_input_size_entries_reported() {
    let c = check(mutated(
        Base::Detector,
        &[set("/detector/input_size", json!([0, -5]))],
    ));
    let fields: Vec<&str> = c.violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["detector.input_size[0]", "detector.input_size[1]"]
    );
    assert!(c.violations.iter().all(|v| v.rule == "rule/8"));
}

// ------------------------------------------------------------------ rule 9

const GRIPPER: [&str; 2] = ["gripper_binary", "gripper_position"];
const CARTESIAN: [&str; 3] = ["cartesian_pose", "cartesian_delta", "cartesian_twist"];
const OTHER: [&str; 8] = [
    "joint_position",
    "joint_velocity",
    "joint_torque",
    "joint_trajectory",
    "body_twist",
    "foot_placement",
    "dex_hand_joint",
    "composite_mode",
];

#[test]
fn rule9_classification_covers_every_control_mode() {
    let mut ours: Vec<&str> = GRIPPER
        .iter()
        .chain(CARTESIAN.iter())
        .chain(OTHER.iter())
        .copied()
        .collect();
    ours.sort_unstable();
    let mut all: Vec<&str> = rskill_manifest::manifest::ControlMode::ALL
        .iter()
        .map(|m| m.as_str())
        .collect();
    all.sort_unstable();
    assert_eq!(ours, all);
}

fn semantics_cases(base: Base, list_ptr: &str, list_field: &str) -> Vec<Case> {
    // The actuator under test becomes the only entry of the list.
    let f = |k: &str| format!("{list_field}[0].control_mode_semantics.{k}");
    let with = |kind: &str, sem: Value| {
        let mut a = json!({"kind": kind, "control_mode_semantics": sem, "n_dof": 1, "vla_action_key": "action"});
        if base != Base::Custom {
            a.as_object_mut().unwrap().remove("vla_action_key");
        }
        vec![set(list_ptr, json!([a]))]
    };
    let bare = json!({"mode": "absolute"});
    let grip = json!({"mode": "absolute", "gripper_convention": "normalized_open_unit"});
    let frame = json!({"mode": "delta", "reference_frame": "base_link"});
    let both = json!({"mode": "absolute", "gripper_convention": "width_meters", "reference_frame": "base_link"});
    let mut cases = Vec::new();
    for k in GRIPPER {
        cases.push(case(
            format!("{list_field}: {k} with convention"),
            base,
            with(k, grip.clone()),
            valid(),
        ));
        cases.push(case(
            format!("{list_field}: {k} bare"),
            base,
            with(k, bare.clone()),
            bad_msg(&f("gripper_convention"), "rule/9", k),
        ));
        cases.push(case(
            format!("{list_field}: {k} with a frame only"),
            base,
            with(k, frame.clone()),
            bad(&f("gripper_convention"), "rule/9"),
        ));
        cases.push(case(
            format!("{list_field}: {k} convention null"),
            base,
            with(k, json!({"mode": "absolute", "gripper_convention": null})),
            bad(&f("gripper_convention"), "rule/9"),
        ));
    }
    for k in CARTESIAN {
        cases.push(case(
            format!("{list_field}: {k} with frame"),
            base,
            with(k, frame.clone()),
            valid(),
        ));
        cases.push(case(
            format!("{list_field}: {k} bare"),
            base,
            with(k, bare.clone()),
            bad_msg(&f("reference_frame"), "rule/9", k),
        ));
        cases.push(case(
            format!("{list_field}: {k} with a convention only"),
            base,
            with(k, grip.clone()),
            bad(&f("reference_frame"), "rule/9"),
        ));
        cases.push(case(
            format!("{list_field}: {k} frame null"),
            base,
            with(k, json!({"mode": "delta", "reference_frame": null})),
            bad(&f("reference_frame"), "rule/9"),
        ));
    }
    for k in OTHER {
        cases.push(case(
            format!("{list_field}: {k} bare"),
            base,
            with(k, bare.clone()),
            valid(),
        ));
        cases.push(case(
            format!("{list_field}: {k} with joint_order"),
            base,
            with(k, json!({"mode": "delta", "joint_order": ["a"]})),
            valid(),
        ));
        cases.push(case(
            format!("{list_field}: {k} explicit nulls"),
            base,
            with(
                k,
                json!({"mode": "absolute", "gripper_convention": null, "reference_frame": null}),
            ),
            valid(),
        ));
        cases.push(case(
            format!("{list_field}: {k} with a convention"),
            base,
            with(k, grip.clone()),
            bad_msg(&f("gripper_convention"), "rule/9", "not allowed"),
        ));
        cases.push(case(
            format!("{list_field}: {k} with a frame"),
            base,
            with(k, frame.clone()),
            bad_msg(&f("reference_frame"), "rule/9", "not allowed"),
        ));
        cases.push(case(
            format!("{list_field}: {k} with both"),
            base,
            with(k, both.clone()),
            bad_among(&f("gripper_convention"), "rule/9"),
        ));
        cases.push(case(
            format!("{list_field}: {k} with both (frame)"),
            base,
            with(k, both.clone()),
            bad_among(&f("reference_frame"), "rule/9"),
        ));
    }
    cases
}

#[test]
fn rule9_actuators_required() {
    run_table(
        "rule 9 actuators_required",
        &semantics_cases(Base::Wam, "/actuators_required", "actuators_required"),
    );
}

#[test]
fn rule9_embodiment_extra_actuators() {
    run_table(
        "rule 9 embodiment_extra.actuators",
        &semantics_cases(
            Base::Custom,
            "/embodiment_extra/actuators",
            "embodiment_extra.actuators",
        ),
    );
}

#[test]
fn rule9_other_kind_with_both_reports_two() {
    let doc = mutated(
        Base::Wam,
        &[set(
            "/actuators_required",
            json!([{"kind": "joint_torque", "control_mode_semantics": {"mode": "absolute", "gripper_convention": "raw_joint_rad", "reference_frame": "base"}}]),
        )],
    );
    let c = check(doc);
    let fields: Vec<&str> = c.violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "actuators_required[0].control_mode_semantics.gripper_convention",
            "actuators_required[0].control_mode_semantics.reference_frame"
        ]
    );
}

// ------------------------------------------------------------------ rule 10

fn slots(ranges: &[[i64; 2]]) -> Value {
    Value::Array(ranges.iter().map(|r| json!({"range": r})).collect())
}

#[test]
fn rule10_slots_cover_dim_exactly_once() {
    let p = "/action_contract/slots";
    let sf = |i: usize| format!("action_contract.slots[{i}].range");
    let cases = vec![
        case(
            "exact cover",
            Base::Vla,
            vec![set(p, slots(&[[0, 2], [3, 5], [6, 6]]))],
            valid(),
        ),
        case(
            "one slot covers all",
            Base::Vla,
            vec![set(p, slots(&[[0, 6]]))],
            valid(),
        ),
        case(
            "unsorted but covering",
            Base::Vla,
            vec![set(p, slots(&[[6, 6], [0, 2], [3, 5]]))],
            valid(),
        ),
        case(
            "single-index slots",
            Base::Vla,
            vec![
                set("/action_contract/dim", json!(2)),
                set(p, slots(&[[1, 1], [0, 0]])),
            ],
            valid(),
        ),
        case(
            "no slots (null)",
            Base::Vla,
            vec![set(p, Value::Null)],
            valid(),
        ),
        case("no slots (absent)", Base::Vla, vec![rm(p)], valid()),
        case(
            "gap in the middle",
            Base::Vla,
            vec![set(p, slots(&[[0, 2], [4, 6]]))],
            bad_msg(&sf(1), "rule/10", "gap: action dimensions 3..3"),
        ),
        case(
            "gap at the start",
            Base::Vla,
            vec![set(p, slots(&[[1, 6]]))],
            bad_msg(&sf(0), "rule/10", "gap: action dimensions 0..0"),
        ),
        case(
            "gap at the end",
            Base::Vla,
            vec![set(p, slots(&[[0, 2], [3, 4]]))],
            bad_msg(
                "action_contract.slots",
                "rule/10",
                "gap: action dimensions 5..6",
            ),
        ),
        case(
            "empty slot list",
            Base::Vla,
            vec![set(p, json!([]))],
            bad_msg("action_contract.slots", "rule/10", "0..6"),
        ),
        case(
            "overlap",
            Base::Vla,
            vec![set(p, slots(&[[0, 3], [3, 6]]))],
            bad_msg(&sf(1), "rule/10", "overlap"),
        ),
        case(
            "duplicate slot",
            Base::Vla,
            vec![set(p, slots(&[[0, 6], [0, 6]]))],
            bad_msg(&sf(1), "rule/10", "overlap"),
        ),
        case(
            "contained slot",
            Base::Vla,
            vec![set(p, slots(&[[0, 6], [2, 3]]))],
            bad(&sf(1), "rule/10"),
        ),
        case(
            "unsorted overlap reported at its own index",
            Base::Vla,
            vec![set(p, slots(&[[3, 6], [0, 3]]))],
            bad(&sf(0), "rule/10"),
        ),
        case(
            "end == dim (out of range)",
            Base::Vla,
            vec![set(p, slots(&[[0, 2], [3, 7]]))],
            bad_msg(&sf(1), "rule/10", "< dim (7)"),
        ),
        case(
            "end far past dim",
            Base::Vla,
            vec![set(p, slots(&[[0, 100]]))],
            bad(&sf(0), "rule/10"),
        ),
        case(
            "negative start",
            Base::Vla,
            vec![set(p, slots(&[[-1, 2], [3, 6]]))],
            bad_msg(&sf(0), "rule/10", "0 <= start"),
        ),
        case(
            "start > end",
            Base::Vla,
            vec![set(p, slots(&[[0, 2], [5, 3], [6, 6]]))],
            bad_among(&sf(1), "rule/10"),
        ),
        case(
            "wam contract checked too",
            Base::Wam,
            vec![set(
                "/action_contract",
                json!({"dim": 3, "slots": [{"range": [0, 1]}]}),
            )],
            bad("action_contract.slots", "rule/10"),
        ),
    ];
    run_table("rule 10", &cases);
}

#[test]
fn rule10_reversed_range_is_reported_once_as_a_bound() {
    let c = check(mutated(
        Base::Vla,
        &[set(
            "/action_contract/slots",
            slots(&[[0, 2], [5, 3], [6, 6]]),
        )],
    ));
    // A malformed range is a bounds problem; coverage is not judged on top of it.
    assert_eq!(c.violations.len(), 1, "{}", describe(&c.violations));
    assert_eq!(c.violations[0].field, "action_contract.slots[1].range");
    assert!(c.violations[0].message.contains("[5, 3]"));
}

// ------------------------------------------------------------------ several rules at once

#[test]
fn independent_rules_are_all_reported() {
    let doc = mutated(
        Base::Vla,
        &[
            set("/fallback_skill_id", json!("acme/rskill-vla-full")),
            set(
                "/processors/postprocessor_uri",
                json!("hf://acme/smolvla-franka@v1.0/policy_preprocessor.json"),
            ),
            set("/action_contract/slots", slots(&[[0, 5]])),
            set(
                "/actuators_required/0/control_mode_semantics/reference_frame",
                Value::Null,
            ),
        ],
    );
    let c = check(doc);
    let mut rules: Vec<&str> = c.violations.iter().map(|v| v.rule.as_str()).collect();
    rules.sort_unstable();
    assert_eq!(
        rules,
        vec!["rule/1", "rule/10", "rule/6", "rule/9"],
        "{}",
        describe(&c.violations)
    );
    assert!(
        c.manifest.is_some(),
        "rule failures keep the typed manifest"
    );
}
