//! The manifest rules that JSON Schema cannot say (spec "Rules beyond the shape", 1–10):
//! cross-field and per-kind constraints, each reported once, naming the field.

use crate::diagnostic::Violation;
use crate::manifest::{ActuatorRequirement, EmbodimentTag, Kind, Manifest, ModelFamily, Role};

/// Every broken rule of a manifest that already has the right shape.
pub fn check(m: &Manifest) -> Vec<Violation> {
    let mut out = Vec::new();
    fallback_differs(m, &mut out);
    embodiments(m, &mut out);
    processors_required(m, &mut out);
    per_kind(m, &mut out);
    processors_differ(m, &mut out);
    ros_integration(m, &mut out);
    detector_and_reward(m, &mut out);
    actuator_semantics(m, &mut out);
    slot_coverage(m, &mut out);
    out
}

/// A violation about `field` that is best shown at the `kind:` line (the field is absent).
fn missing(field: &str, rule: &str, message: String) -> Violation {
    let mut v = Violation::at(format!("/{field}"), rule, message);
    v.pointer = "/kind".into();
    v
}

// Rule 1.
fn fallback_differs(m: &Manifest, out: &mut Vec<Violation>) {
    if m.fallback_skill_id.as_deref() == Some(m.name.as_str()) {
        out.push(Violation::at(
            "/fallback_skill_id",
            "rule/1",
            format!(
                "\"{}\" must differ from `name` (a skill cannot fall back to itself)",
                m.name
            ),
        ));
    }
}

// Rules 2 and 3.
fn embodiments(m: &Manifest, out: &mut Vec<Violation>) {
    if m.embodiment_tags.is_empty() {
        out.push(Violation::at(
            "/embodiment_tags",
            "rule/2",
            "must not be empty; embodiment-agnostic skills declare [\"any\"]",
        ));
    }
    let custom = m.embodiment_tags.contains(&EmbodimentTag::Custom);
    match (custom, m.embodiment_extra.is_some()) {
        (true, false) => out.push(Violation::at(
            "/embodiment_tags",
            "rule/3",
            "`custom` requires an `embodiment_extra` block describing the robot",
        )),
        (false, true) => out.push(Violation::at(
            "/embodiment_extra",
            "rule/3",
            "is only allowed when `embodiment_tags` contains `custom`",
        )),
        _ => {}
    }
    if custom {
        for (i, a) in m.actuators_required.iter().enumerate() {
            let lacking: Vec<&str> = [
                ("n_dof", a.n_dof.is_none()),
                ("vla_action_key", a.vla_action_key.is_none()),
            ]
            .into_iter()
            .filter_map(|(f, absent)| absent.then_some(f))
            .collect();
            if !lacking.is_empty() {
                out.push(Violation::at(
                    format!("/actuators_required/{i}"),
                    "rule/3",
                    format!(
                        "with `custom` embodiment every actuator must set n_dof and vla_action_key; missing: {}",
                        lacking.join(", ")
                    ),
                ));
            }
        }
    }
}

// Rule 4.
fn processors_required(m: &Manifest, out: &mut Vec<Violation>) {
    use ModelFamily::*;
    if let Some(f) = m.model_family
        && matches!(f, Smolvla | Pi05 | Xvla | Diffusion | Rldx | Molmoact2)
        && m.processors.is_none()
    {
        let mut v = Violation::at(
            "/processors",
            "rule/4",
            format!(
                "model_family `{f}` requires `processors` (preprocessor_uri and postprocessor_uri)"
            ),
        );
        v.pointer = "/model_family".into();
        out.push(v);
    }
}

/// The optional fields a kind may forbid, and whether the manifest sets them.
fn set_fields(m: &Manifest) -> [(&'static str, bool); 15] {
    [
        ("action_contract", m.action_contract.is_some()),
        ("detector", m.detector.is_some()),
        ("envelope", m.envelope.is_some()),
        ("image_preprocessing", m.image_preprocessing.is_some()),
        ("min_vram_gb", m.min_vram_gb.is_some()),
        ("model_family", m.model_family.is_some()),
        ("n_action_steps", m.n_action_steps.is_some()),
        ("playbook", m.playbook.is_some()),
        ("processors", m.processors.is_some()),
        ("reward", m.reward.is_some()),
        ("reward_rskill_name", m.reward_rskill_name.is_some()),
        ("ros_integration", m.ros_integration.is_some()),
        ("starting_pose", m.starting_pose.is_some()),
        ("state_contract", m.state_contract.is_some()),
        ("weights_uri", m.weights_uri.is_some()),
    ]
}

fn forbid(m: &Manifest, forbidden: &[&str], out: &mut Vec<Violation>) {
    let mut offending: Vec<&str> = set_fields(m)
        .into_iter()
        .filter(|(f, set)| *set && forbidden.contains(f))
        .map(|(f, _)| f)
        .collect();
    offending.sort_unstable();
    if let Some(first) = offending.first() {
        let mut v = Violation::at(
            format!("/{first}"),
            "rule/5",
            format!("kind `{}` does not allow: {}", m.kind, offending.join(", ")),
        );
        v.field = offending.join(", ");
        out.push(v);
    }
}

/// What a kind needs of `actuators_required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actuators {
    /// At least one (the skill commands the robot).
    Some,
    /// None (the skill commands no actuator).
    None,
    /// No rule.
    Any,
}

/// Rule 5 for some kinds: the optional fields they require and forbid, what they need
/// of `actuators_required`, and whether their `chunk_size` must be 1.
struct KindRule {
    kinds: &'static [Kind],
    required: &'static [&'static str],
    forbidden: &'static [&'static str],
    actuators: Actuators,
    chunk_size_one: bool,
}

/// Rule 5, one row per kind (every kind appears exactly once).
const KIND_RULES: &[KindRule] = &[
    KindRule {
        kinds: &[Kind::Vla],
        required: &["model_family", "weights_uri"],
        forbidden: &["ros_integration", "detector", "reward"],
        actuators: Actuators::Some,
        chunk_size_one: false,
    },
    KindRule {
        kinds: &[Kind::RosAction, Kind::RosService],
        required: &["ros_integration"],
        forbidden: &[
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
        actuators: Actuators::Some,
        chunk_size_one: true,
    },
    KindRule {
        kinds: &[Kind::Detector],
        required: &["detector", "weights_uri"],
        forbidden: &[
            "model_family",
            "ros_integration",
            "action_contract",
            "state_contract",
            "processors",
            "n_action_steps",
            "starting_pose",
            "reward",
        ],
        actuators: Actuators::None,
        chunk_size_one: false,
    },
    KindRule {
        kinds: &[Kind::Vlm],
        required: &["weights_uri"],
        forbidden: &[
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
        actuators: Actuators::None,
        chunk_size_one: false,
    },
    KindRule {
        kinds: &[Kind::Reward],
        required: &["reward", "weights_uri"],
        forbidden: &[
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
        actuators: Actuators::None,
        chunk_size_one: false,
    },
    KindRule {
        kinds: &[Kind::Playbook],
        required: &["playbook"],
        forbidden: &[
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
        actuators: Actuators::None,
        chunk_size_one: true,
    },
    KindRule {
        kinds: &[Kind::Wam],
        required: &[],
        forbidden: &[],
        actuators: Actuators::Any,
        chunk_size_one: false,
    },
];

// Rule 5.
fn per_kind(m: &Manifest, out: &mut Vec<Violation>) {
    if m.playbook.is_some() && m.kind != Kind::Playbook {
        out.push(Violation::at(
            "/playbook",
            "rule/5",
            format!(
                "a `playbook` block is only allowed on kind `playbook`, not `{}`",
                m.kind
            ),
        ));
    }
    if m.reward_rskill_name.is_some() && m.kind != Kind::Vla {
        out.push(Violation::at(
            "/reward_rskill_name",
            "rule/5",
            format!("is only allowed on kind `vla`, not `{}`", m.kind),
        ));
    }
    let Some(rule) = KIND_RULES.iter().find(|r| r.kinds.contains(&m.kind)) else {
        return;
    };
    let set = set_fields(m);
    for field in rule.required {
        let present = set.iter().any(|(f, is_set)| f == field && *is_set);
        if !present {
            out.push(missing(
                field,
                "rule/5",
                format!("is required for kind `{}`", m.kind),
            ));
        }
    }
    if m.kind == Kind::Playbook {
        if m.role != Role::S2 {
            out.push(Violation::at(
                "/role",
                "rule/5",
                format!("must be `s2` for kind `playbook` (found `{}`)", m.role),
            ));
        }
        if !m.actions.contains(&crate::manifest::ActionVerb::Plan) {
            out.push(Violation::at(
                "/actions",
                "rule/5",
                "must include `plan` for kind `playbook`",
            ));
        }
    }
    match rule.actuators {
        Actuators::Some if m.actuators_required.is_empty() => out.push(missing(
            "actuators_required",
            "rule/5",
            format!("kind `{}` needs at least one actuator", m.kind),
        )),
        Actuators::None if !m.actuators_required.is_empty() => out.push(Violation::at(
            "/actuators_required",
            "rule/5",
            format!(
                "must be empty for kind `{}` (it commands no actuator)",
                m.kind
            ),
        )),
        _ => {}
    }
    if rule.chunk_size_one && m.chunk_size != 1 {
        out.push(Violation::at(
            "/chunk_size",
            "rule/5",
            format!("must be 1 for kind `{}` (found {})", m.kind, m.chunk_size),
        ));
    }
    forbid(m, rule.forbidden, out);
}

// Rule 6.
fn processors_differ(m: &Manifest, out: &mut Vec<Violation>) {
    if let Some(p) = &m.processors
        && p.preprocessor_uri == p.postprocessor_uri
    {
        out.push(Violation::at(
            "/processors/postprocessor_uri",
            "rule/6",
            "must differ from preprocessor_uri",
        ));
    }
}

// Rule 7.
fn ros_integration(m: &Manifest, out: &mut Vec<Violation>) {
    let Some(ros) = &m.ros_integration else {
        return;
    };
    if !ros.interface_name.starts_with('/') {
        out.push(Violation::at(
            "/ros_integration/interface_name",
            "rule/7",
            format!(
                "\"{}\" must be an absolute ROS name starting with `/`",
                ros.interface_name
            ),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(&ros.default_goal_json) {
        Ok(serde_json::Value::Object(_)) => {}
        Ok(other) => out.push(Violation::at(
            "/ros_integration/default_goal_json",
            "rule/7",
            format!("must be a JSON object, found {other}"),
        )),
        Err(e) => out.push(Violation::at(
            "/ros_integration/default_goal_json",
            "rule/7",
            format!("is not valid JSON: {e}"),
        )),
    }
}

// Rule 8.
fn detector_and_reward(m: &Manifest, out: &mut Vec<Violation>) {
    if let Some(size) = m.detector.as_ref().and_then(|d| d.input_size) {
        for (i, s) in size.iter().enumerate() {
            if *s <= 0 {
                out.push(Violation::at(
                    format!("/detector/input_size/{i}"),
                    "rule/8",
                    format!("{s} must be > 0"),
                ));
            }
        }
    }
    let Some(r) = &m.reward else { return };
    if let Some([lo, hi]) = r.progress_range
        && hi <= lo
    {
        out.push(Violation::at(
            "/reward/progress_range",
            "rule/8",
            format!("[{lo}, {hi}]: max must be greater than min"),
        ));
    }
    if let (Some(floor), Some(threshold)) = (r.check_floor, r.success_threshold)
        && floor > threshold
    {
        out.push(Violation::at(
            "/reward/check_floor",
            "rule/8",
            format!("{floor} must be <= success_threshold ({threshold})"),
        ));
    }
}

// Rule 9.
fn actuator_semantics(m: &Manifest, out: &mut Vec<Violation>) {
    let lists: [(&str, &[ActuatorRequirement]); 2] = [
        ("/actuators_required", &m.actuators_required),
        (
            "/embodiment_extra/actuators",
            m.embodiment_extra.as_ref().map_or(&[], |e| &e.actuators),
        ),
    ];
    for (base, actuators) in lists {
        for (i, a) in actuators.iter().enumerate() {
            let sem = &a.control_mode_semantics;
            let at = |f: &str| format!("{base}/{i}/control_mode_semantics/{f}");
            let kind = a.kind;
            if kind.is_gripper() {
                if sem.gripper_convention.is_none() {
                    out.push(Violation::at(
                        at("gripper_convention"),
                        "rule/9",
                        format!("is required for actuator kind `{kind}`"),
                    ));
                    out.last_mut().unwrap().pointer = format!("{base}/{i}/control_mode_semantics");
                }
            } else if kind.is_cartesian() {
                if sem.reference_frame.is_none() {
                    out.push(Violation::at(
                        at("reference_frame"),
                        "rule/9",
                        format!("is required for actuator kind `{kind}`"),
                    ));
                    out.last_mut().unwrap().pointer = format!("{base}/{i}/control_mode_semantics");
                }
            } else {
                for (field, set) in [
                    ("gripper_convention", sem.gripper_convention.is_some()),
                    ("reference_frame", sem.reference_frame.is_some()),
                ] {
                    if set {
                        out.push(Violation::at(
                            at(field),
                            "rule/9",
                            format!("is not allowed for actuator kind `{kind}` (only gripper / cartesian kinds carry it)"),
                        ));
                    }
                }
            }
        }
    }
}

// Rule 10.
fn slot_coverage(m: &Manifest, out: &mut Vec<Violation>) {
    let Some(contract) = &m.action_contract else {
        return;
    };
    let Some(slots) = &contract.slots else { return };
    let dim = contract.dim as i64;
    let mut bad_bounds = false;
    for (i, s) in slots.iter().enumerate() {
        let [lo, hi] = s.range;
        if lo < 0 || lo > hi || hi >= dim {
            bad_bounds = true;
            out.push(Violation::at(
                format!("/action_contract/slots/{i}/range"),
                "rule/10",
                format!("[{lo}, {hi}] must satisfy 0 <= start <= end < dim ({dim})"),
            ));
        }
    }
    if bad_bounds {
        return;
    }
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&i| slots[i].range);
    let mut next = 0i64;
    for i in order {
        let [lo, hi] = slots[i].range;
        let at = format!("/action_contract/slots/{i}/range");
        if lo > next {
            out.push(Violation::at(
                at.clone(),
                "rule/10",
                format!(
                    "gap: action dimensions {next}..{} are covered by no slot",
                    lo - 1
                ),
            ));
        } else if lo < next {
            out.push(Violation::at(
                at.clone(),
                "rule/10",
                format!("overlap: [{lo}, {hi}] covers dimensions another slot already covers"),
            ));
        }
        next = next.max(hi + 1);
    }
    if next < dim {
        out.push(Violation::at(
            "/action_contract/slots",
            "rule/10",
            format!(
                "gap: action dimensions {next}..{} are covered by no slot",
                dim - 1
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_rule_row_naming_known_fields() {
        let any = crate::validate::parse_valid(include_str!(
            "../../../rskills/smolvla-franka-pick-cube/rskill.yaml"
        ))
        .expect("a corpus manifest is valid");
        let known: Vec<&str> = set_fields(&any).iter().map(|(f, _)| *f).collect();
        for kind in Kind::ALL {
            let rows = KIND_RULES.iter().filter(|r| r.kinds.contains(kind)).count();
            assert_eq!(rows, 1, "kind {kind} has {rows} rule rows");
        }
        for r in KIND_RULES {
            for f in r.required.iter().chain(r.forbidden) {
                assert!(known.contains(f), "{f} is not an optional field");
            }
        }
    }
}
