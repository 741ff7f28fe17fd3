//! Shared fixtures for the integration tests: one valid base manifest per kind (as
//! YAML text), JSON-pointer mutations on the loaded `serde_json::Value`, and a runner
//! for tables of (description, base, mutations, expectation) cases.

use std::fmt::Write as _;

use serde_json::Value;

/// The valid base manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// `vla` / smolvla with processors, actuators, state_contract (with bindings),
    /// action_contract with slots, image_preprocessing, quantization, envelope: every
    /// optional top-level key set.
    Vla,
    RosAction,
    RosService,
    /// `detector` with runtime onnx.
    Detector,
    Vlm,
    Reward,
    Playbook,
    /// `wam`: the minimal manifest (no per-kind rule).
    Wam,
    /// `vla` / act on a `custom` embodiment with `embodiment_extra`.
    Custom,
}

impl Base {
    pub const ALL: [Base; 9] = [
        Base::Vla,
        Base::RosAction,
        Base::RosService,
        Base::Detector,
        Base::Vlm,
        Base::Reward,
        Base::Playbook,
        Base::Wam,
        Base::Custom,
    ];

    pub fn yaml(self) -> &'static str {
        match self {
            Base::Vla => VLA,
            Base::RosAction => ROS_ACTION,
            Base::RosService => ROS_SERVICE,
            Base::Detector => DETECTOR,
            Base::Vlm => VLM,
            Base::Reward => REWARD,
            Base::Playbook => PLAYBOOK,
            Base::Wam => WAM,
            Base::Custom => CUSTOM,
        }
    }

    pub fn value(self) -> Value {
        match rskill_manifest::yaml::load(self.yaml(), false) {
            Ok((v, _)) => v,
            Err(e) => panic!("base {self:?} is not loadable YAML: {e:?}"),
        }
    }

    /// The manifest `kind` of this base.
    pub fn kind(self) -> &'static str {
        match self {
            Base::Vla | Base::Custom => "vla",
            Base::RosAction => "ros_action",
            Base::RosService => "ros_service",
            Base::Detector => "detector",
            Base::Vlm => "vlm",
            Base::Reward => "reward",
            Base::Playbook => "playbook",
            Base::Wam => "wam",
        }
    }
}

pub const VLA: &str = r#"
schema_version: "0.1"
name: acme/rskill-vla-full
version: 1.2.3
license: apache-2.0
role: s1
kind: vla
model_family: smolvla
embodiment_tags: [franka_panda]
embodiment_extra: null
capabilities_required:
  language_conditioning: true
  control_rate_hz: 30
  max_speed: 0.5
  controller: cartesian_impedance
sensors_required:
  - modality: rgb
    vla_feature_key: observation.images.wrist
    min_width: 256
    min_height: 256
    count: 1
  - modality: joint_state
    vla_feature_key: observation.state
actuators_required:
  - kind: cartesian_delta
    control_mode_semantics:
      mode: delta
      reference_frame: panda_link0
      joint_order: null
      gripper_convention: null
    n_dof: 6
    vla_action_key: action
  - kind: gripper_position
    control_mode_semantics:
      mode: absolute
      gripper_convention: normalized_open_unit
      joint_order: [panda_finger_joint1]
    n_dof: 1
    vla_action_key: action
runtime: pytorch
quantization:
  dtype: bf16
  backend: pytorch
  per_channel: false
  calibration_dataset: null
  extra: {group_size: 128}
weights_uri: hf://acme/smolvla-franka@v1.0
chunk_size: 50
latency_budget:
  per_chunk_ms: 120
  warmup_ms: 2500
  load_ms: 9000
  max_execution_s: 30
min_vram_gb: {bf16: 2.5, fp32: 4}
fallback_skill_id: acme/rskill-other
benchmarks: {maniskill3_panda: 0.78}
evaluated_tasks: [PickCube-v1]
sim_env_control_mode: pd_ee_delta_pose
paper_url: https://arxiv.org/abs/2506.01844
dataset_uri: hf://acme/franka-demos
source_repo: hf://lerobot/smolvla_base
description: SmolVLA fine-tuned to pick a cube off a table with a Franka Panda.
actions: [pick, grasp]
objects: [cube]
scenes: [tabletop]
envelope:
  max_ee_speed_m_s: 0.25
  max_ee_accel_m_s2: 1.0
  max_joint_speed_factor: 0.5
  max_force_n: 30
  max_torque_nm: 10
  contact_force_threshold_n: 15
  cycle_time_violation_threshold_ms: 50
  max_cartesian_step_m: 0.02
  max_cartesian_step_rad: null
  max_ee_angular_speed_rad_s: 1.0
  max_base_linear_speed_m_s: null
  max_base_angular_speed_rad_s: null
  workspace_box_min_xyz: [0.25, -0.35, 0.0]
  workspace_box_max_xyz: [0.75, 0.35, 0.45]
  no_go_zones: [{center: [0.5, 0, 0.1], radius: 0.05}]
  deadman_required: false
  e_stop_topic: /franka/e_stop
  e_stop_qos: reliable
  human_in_loop_required: [release]
policy_extras: {default_instruction: pick up the cube}
processors:
  preprocessor_uri: hf://acme/smolvla-franka@v1.0/policy_preprocessor.json
  postprocessor_uri: hf://acme/smolvla-franka@v1.0/policy_postprocessor.json
image_preprocessing:
  flip_180: false
  flip_vertical: false
  input_template: "{wrist}"
  aliases: {wrist: observation.images.wrist}
  norm_tag: null
  image_max_crops: 4
state_contract:
  layout: smolvla_9d
  dim: 9
  bindings:
    eef_frame: panda_hand_tcp
    base_frame: panda_link0
    world_frame: world
    gripper_qpos_joints: [panda_finger_joint1, panda_finger_joint2]
    quaternion_convention: wxyz
action_contract:
  dim: 7
  representation: delta_ee_6d_plus_gripper
  slots:
    - range: [0, 5]
      control_mode: cartesian_delta
      discard: false
      ee: panda_hand_tcp
      frame: panda_link0
      joint_names: []
    - range: [6, 6]
      control_mode: gripper_position
      ee: null
      frame: null
n_action_steps: 25
starting_pose: [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785]
ros_integration: null
detector: null
reward: null
reward_rskill_name: acme/rskill-progress-reward
playbook: null
goal_params_schema: null
"#;

pub const ROS_ACTION: &str = r#"
name: acme/rskill-ros-grasp
version: 1.0.0
license: apache-2.0
kind: ros_action
embodiment_tags: [franka_panda]
sensors_required: [{modality: joint_state, count: 1}]
actuators_required:
  - kind: gripper_position
    control_mode_semantics: {mode: absolute, gripper_convention: width_meters}
    n_dof: 1
chunk_size: 1
latency_budget: {per_chunk_ms: 1500, max_execution_s: 5}
min_vram_gb: null
description: Closes the Franka Hand on an object through the franka_ros2 Grasp action.
actions: [grasp, close]
envelope: {max_force_n: 70, deadman_required: false}
ros_integration:
  package: franka_msgs
  interface_type: franka_msgs/action/Grasp
  interface_name: /panda_gripper/grasp
  default_goal_json: '{"width": 0.03, "speed": 0.05, "force": 40.0}'
  result_trajectory_field: null
  ros_dependencies: [franka_msgs, franka_gripper]
  goal_builder: null
goal_params_schema:
  type: object
  properties:
    width: {type: number, minimum: 0.0}
  required: [width]
"#;

pub const ROS_SERVICE: &str = r#"
name: acme/rskill-ros-vacuum
version: 2.0.1
kind: ros_service
embodiment_tags: [ur5e]
actuators_required:
  - kind: joint_position
    control_mode_semantics: {mode: absolute, joint_order: [tool_digital_out_0]}
    n_dof: 1
chunk_size: 1
latency_budget: {per_chunk_ms: 50}
description: Switches the UR5e vacuum gripper through the ur_msgs SetIO service.
actions: [grasp, release]
ros_integration:
  package: ur_msgs
  interface_type: ur_msgs/srv/SetIO
  interface_name: /io_and_status_controller/set_io
  default_goal_json: '{"fun": 1, "pin": 0, "state": 1.0}'
  goal_builder: joint
"#;

pub const DETECTOR: &str = r#"
name: acme/rskill-rtdetr-coco
version: 1.0.0
license: apache-2.0
kind: detector
embodiment_tags: [any]
sensors_required: [{modality: rgb, min_width: 640, min_height: 480}]
actuators_required: []
runtime: onnx
quantization: {dtype: fp16, backend: onnx}
weights_uri: hf://acme/rtdetr-r18-coco-onnx@v1.0
chunk_size: 1
latency_budget: {per_chunk_ms: 25}
min_vram_gb: {fp16: 1}
description: RT-DETR closed-set detector for the 80 COCO classes, exported to ONNX.
actions: [detect]
image_preprocessing: {flip_180: false}
detector:
  labels: [person, cup, bottle]
  input_size: [640, 640]
  score_threshold: 0.5
  engine: rtdetr_onnx
  mode: continuous
  max_side: 1280
"#;

pub const VLM: &str = r#"
name: acme/rskill-qwen-vlm
version: 1.0.0
kind: vlm
embodiment_tags: [any]
runtime: vllm
weights_uri: hf://Qwen/Qwen2.5-VL-7B-Instruct
chunk_size: 1
latency_budget: {per_chunk_ms: 800}
description: Visual question answering over the robot camera views.
actions: [query, look]
policy_extras: {max_new_tokens: 256}
"#;

pub const REWARD: &str = r#"
name: acme/rskill-progress-reward
version: 1.0.0
license: permissive_research
kind: reward
embodiment_tags: [any]
weights_uri: hf://acme/siglip-progress-reward
chunk_size: 1
latency_budget: {per_chunk_ms: 45}
description: Task-progress reward model scoring progress from 0 to 1.
actions: [monitor]
reward:
  frame_window_s: 4.0
  target_fps: 5
  progress_range: [0.0, 1.0]
  success_threshold: 0.9
  check_floor: 0.6
  preference: false
  instruction_required: true
  num_bins: 50
  plateau_window_s: 6.0
  default_patience_s: 20.0
  plateau_tolerance: 0.02
"#;

pub const PLAYBOOK: &str = r#"
name: acme/rskill-playbook-tidy
version: 1.0.0
license: mit
role: s2
kind: playbook
embodiment_tags: [any]
actuators_required: []
chunk_size: 1
latency_budget: {per_chunk_ms: 2000, max_execution_s: 600}
description: High-level playbook that clears a table into a bin.
actions: [plan, pick_and_place]
playbook:
  trigger: The user asks to tidy a table.
  body_uri: playbook.md
  composes_tools: [acme/rskill-qwen-vlm, acme/rskill-rtdetr-coco]
  done_predicate: No loose objects remain on the table.
  max_steps: 40
goal_params_schema: {type: object}
"#;

pub const WAM: &str = r#"
name: acme/rskill-wam
version: 0.1.0
kind: wam
embodiment_tags: [franka_panda]
chunk_size: 16
latency_budget: {per_chunk_ms: 900}
description: World action model predicting frames and actions.
actions: [generalist]
"#;

pub const CUSTOM: &str = r#"
name: acme/rskill-gantry
version: 1.0.0
license: proprietary
kind: vla
model_family: act
embodiment_tags: [custom]
embodiment_extra:
  sensors:
    - modality: rgb
      vla_feature_key: observation.images.overhead
      min_width: 1280
      min_height: 720
      count: 1
  actuators:
    - kind: joint_position
      control_mode_semantics: {mode: absolute, joint_order: [x, y, z, theta]}
      n_dof: 4
      vla_action_key: action.axes
    - kind: gripper_binary
      control_mode_semantics: {mode: absolute, gripper_convention: binary_close_one}
      n_dof: 1
      vla_action_key: action.vacuum
actuators_required:
  - kind: joint_position
    control_mode_semantics: {mode: absolute}
    n_dof: 4
    vla_action_key: action.axes
  - kind: gripper_binary
    control_mode_semantics: {mode: absolute, gripper_convention: binary_close_one}
    n_dof: 1
    vla_action_key: action.vacuum
weights_uri: local://models/gantry-act
chunk_size: 40
latency_budget: {per_chunk_ms: 20}
description: ACT policy for an in-house four-axis gantry with a vacuum cup.
actions: [pick_and_place]
action_contract:
  dim: 5
  representation: joint_positions
  slots:
    - range: [0, 3]
      control_mode: joint_position
    - range: [4, 4]
      control_mode: gripper_binary
"#;

// ---------------------------------------------------------------- mutations

/// One edit of a document: set the value at a JSON pointer (`Some`) or remove it (`None`).
pub type Mutation = (String, Option<Value>);

pub fn set(pointer: &str, value: Value) -> Mutation {
    (pointer.to_string(), Some(value))
}

pub fn rm(pointer: &str) -> Mutation {
    (pointer.to_string(), None)
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// Applies a mutation; panics (a bug in the test) when the parent does not exist.
pub fn apply(doc: &mut Value, m: &Mutation) {
    let (pointer, value) = m;
    let (parent_ptr, last) = pointer
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("bad pointer {pointer:?}"));
    let last = unescape(last);
    let parent = doc
        .pointer_mut(parent_ptr)
        .unwrap_or_else(|| panic!("no parent {parent_ptr:?} for {pointer:?}"));
    match (parent, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(last, v.clone());
        }
        (Value::Object(map), None) => {
            assert!(
                map.remove(&last).is_some(),
                "removing absent key {pointer:?}"
            );
        }
        (Value::Array(items), Some(v)) => {
            let i: usize = last.parse().expect("array index");
            if i == items.len() {
                items.push(v.clone());
            } else {
                items[i] = v.clone();
            }
        }
        (Value::Array(items), None) => {
            let i: usize = last.parse().expect("array index");
            items.remove(i);
        }
        (other, _) => panic!("parent of {pointer:?} is not a container: {other}"),
    }
}

pub fn mutated(base: Base, muts: &[Mutation]) -> Value {
    let mut v = base.value();
    for m in muts {
        apply(&mut v, m);
    }
    v
}

/// Validates a parsed document: the single call site of `rskill_manifest::validate::check_value`.
pub fn check(doc: Value) -> rskill_manifest::validate::ManifestCheck {
    rskill_manifest::validate::check_value(doc)
}

// ---------------------------------------------------------------- expectations

#[derive(Debug, Clone)]
pub enum Expect {
    Valid,
    /// A violation with this `field` and `rule` (and, when not empty, a message
    /// containing `contains`), and no other violation.
    Invalid {
        field: String,
        rule: String,
        contains: String,
    },
    /// As `Invalid`, but other violations may accompany it.
    InvalidAmong {
        field: String,
        rule: String,
        contains: String,
    },
}

pub fn valid() -> Expect {
    Expect::Valid
}

pub fn bad(field: &str, rule: &str) -> Expect {
    Expect::Invalid {
        field: field.into(),
        rule: rule.into(),
        contains: String::new(),
    }
}

pub fn bad_msg(field: &str, rule: &str, contains: &str) -> Expect {
    Expect::Invalid {
        field: field.into(),
        rule: rule.into(),
        contains: contains.into(),
    }
}

pub fn bad_among(field: &str, rule: &str) -> Expect {
    Expect::InvalidAmong {
        field: field.into(),
        rule: rule.into(),
        contains: String::new(),
    }
}

pub struct Case {
    pub desc: String,
    pub base: Base,
    pub muts: Vec<Mutation>,
    pub expect: Expect,
}

pub fn case(desc: impl Into<String>, base: Base, muts: Vec<Mutation>, expect: Expect) -> Case {
    Case {
        desc: desc.into(),
        base,
        muts,
        expect,
    }
}

/// Phrases of raw JSON Schema validator output that must never reach an author.
pub const JARGON: &[&str] = &[
    "is not valid under any of the given schemas",
    "is valid under more than one of the schemas",
    "Additional properties are not allowed",
    "is a required property",
    "False schema",
    "$ref",
    "$defs",
    "#/",
    "propertyNames",
    "additionalProperties",
    "exclusiveMinimum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
];

/// Problems with one violation's wording, if any.
pub fn wording_problems(v: &rskill_manifest::diagnostic::Violation) -> Option<String> {
    if v.message.trim().is_empty() {
        return Some("empty message".into());
    }
    if let Some(j) = JARGON.iter().find(|j| v.message.contains(**j)) {
        return Some(format!("message contains raw JSON Schema jargon {j:?}"));
    }
    None
}

pub fn describe(vs: &[rskill_manifest::diagnostic::Violation]) -> String {
    let mut s = String::new();
    for v in vs {
        let _ = write!(s, "\n      [{}] {}: {}", v.rule, v.field, v.message);
    }
    if vs.is_empty() {
        s.push_str(" (none)");
    }
    s
}

/// Runs one case; `None` when it behaves as expected, else what went wrong.
pub fn run_case(c: &Case) -> Option<String> {
    let doc = mutated(c.base, &c.muts);
    let check = check(doc);
    let vs = &check.violations;
    let fail = |why: String| {
        Some(format!(
            "{} (base {:?}): {why}; violations:{}",
            c.desc,
            c.base,
            describe(vs)
        ))
    };
    for v in vs {
        if let Some(p) = wording_problems(v) {
            return fail(p);
        }
        if v.rule == "schema/model" {
            return fail("the schema and the typed model disagree".into());
        }
    }
    match &c.expect {
        Expect::Valid => {
            if !vs.is_empty() {
                return fail("expected valid".into());
            }
            if check.manifest.is_none() {
                return fail("valid, but no typed manifest".into());
            }
        }
        Expect::Invalid {
            field,
            rule,
            contains,
        }
        | Expect::InvalidAmong {
            field,
            rule,
            contains,
        } => {
            let hit = vs.iter().any(|v| {
                &v.field == field && &v.rule == rule && v.message.contains(contains.as_str())
            });
            if !hit {
                return fail(format!(
                    "expected [{rule}] at `{field}`{}",
                    if contains.is_empty() {
                        String::new()
                    } else {
                        format!(" with a message containing {contains:?}")
                    }
                ));
            }
            if matches!(c.expect, Expect::Invalid { .. }) && vs.len() != 1 {
                return fail("expected exactly one violation".into());
            }
            if check.is_valid() {
                return fail("is_valid() is true".into());
            }
        }
    }
    None
}

/// Runs a table and fails once, listing every case that misbehaved.
pub fn run_table(name: &str, cases: &[Case]) {
    assert!(!cases.is_empty(), "{name}: empty table");
    let failures: Vec<String> = cases.iter().filter_map(run_case).collect();
    assert!(
        failures.is_empty(),
        "{name}: {} of {} case(s) failed:\n  - {}",
        failures.len(),
        cases.len(),
        failures.join("\n  - ")
    );
}
