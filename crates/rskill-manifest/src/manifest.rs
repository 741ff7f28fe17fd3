//! The typed rSkill manifest (`rskill.yaml`, schema_version "0.1").
//!
//! The JSON Schema decides the shape; once a document passes it, it deserializes into
//! these types, which the cross-field rules, tags, search and install work on. The
//! vocabularies here must match the schema's enums exactly (a test checks it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::license::LicensePosture;
use crate::string_enum;

string_enum! {
    /// Where a skill sits in the control stack.
    pub enum Role { S0 = "s0", S1 = "s1", S2 = "s2" }
}

string_enum! {
    /// What a skill is.
    pub enum Kind {
        Vla = "vla", Wam = "wam", RosAction = "ros_action", RosService = "ros_service",
        Detector = "detector", Vlm = "vlm", Reward = "reward", Playbook = "playbook",
    }
}

string_enum! {
    pub enum ModelFamily {
        Smolvla = "smolvla", Pi05 = "pi05", Xvla = "xvla", Act = "act", Diffusion = "diffusion",
        Rldx = "rldx", Molmoact2 = "molmoact2", Gr00t = "gr00t", DiffuserActor = "diffuser_actor",
        Openvla = "openvla",
    }
}

string_enum! {
    /// Robots (and `any`, `custom`) a skill runs on.
    pub enum EmbodimentTag {
        Aloha = "aloha", AlohaAgilex = "aloha_agilex", Any = "any", Custom = "custom",
        FrankaPanda = "franka_panda", G1 = "g1", GoogleRobot = "google_robot", Gr1 = "gr1",
        H1 = "h1", MobileBase = "mobile_base", Openarm = "openarm", PandaMobile = "panda_mobile",
        Pusht = "pusht", Rizon4 = "rizon4", Sawyer = "sawyer", So100Follower = "so100_follower",
        So101Follower = "so101_follower", Ur10e = "ur10e", Ur5e = "ur5e", Widowx = "widowx",
    }
}

string_enum! {
    /// Benchmarks a manifest reports success rates on (keys of `benchmarks`).
    pub enum Benchmark {
        Aloha = "aloha", AlohaInsertion = "aloha_insertion",
        AlohaTransferCube = "aloha_transfer_cube", Gr1Tabletop = "gr1_tabletop",
        Libero10 = "libero_10", LiberoGoal = "libero_goal", LiberoObject = "libero_object",
        LiberoSpatial = "libero_spatial", Maniskill3Panda = "maniskill3_panda",
        MetaworldMt10 = "metaworld_mt10", MetaworldMt50 = "metaworld_mt50", Pusht = "pusht",
        Rlbench = "rlbench", RobocasaPnp = "robocasa_pnp", Robotwin = "robotwin",
        SimplerEnvWidowx = "simpler_env_widowx",
    }
}

string_enum! {
    pub enum Runtime {
        Pytorch = "pytorch", Onnx = "onnx", Tensorrt = "tensorrt", TrtLlm = "trt_llm",
        Vllm = "vllm", Gguf = "gguf", Mlx = "mlx", Jax = "jax",
    }
}

string_enum! {
    pub enum ActionVerb {
        Pick = "pick", Place = "place", PickAndPlace = "pick_and_place", Transfer = "transfer",
        Grasp = "grasp", Release = "release", Open = "open", Close = "close", Push = "push",
        Pull = "pull", Slide = "slide", Insert = "insert", Pour = "pour", Wipe = "wipe",
        Rotate = "rotate", Reach = "reach", Look = "look", Navigate = "navigate", Wave = "wave",
        Shake = "shake", Generalist = "generalist", Detect = "detect", Query = "query",
        Monitor = "monitor", Plan = "plan",
    }
}

string_enum! {
    pub enum SensorModality {
        Rgb = "rgb", Depth = "depth", Stereo = "stereo", Ir = "ir", PointCloud = "point_cloud",
        Lidar2d = "lidar_2d", Imu = "imu", ForceTorque = "force_torque", JointState = "joint_state",
        TactileVision = "tactile_vision", TactileArray = "tactile_array", Audio = "audio",
        Gps = "gps", Battery = "battery",
    }
}

string_enum! {
    /// How an actuator is commanded.
    pub enum ControlMode {
        JointPosition = "joint_position", JointVelocity = "joint_velocity",
        JointTorque = "joint_torque", JointTrajectory = "joint_trajectory",
        CartesianPose = "cartesian_pose", CartesianDelta = "cartesian_delta",
        CartesianTwist = "cartesian_twist", BodyTwist = "body_twist",
        FootPlacement = "foot_placement", GripperBinary = "gripper_binary",
        GripperPosition = "gripper_position", DexHandJoint = "dex_hand_joint",
        CompositeMode = "composite_mode",
    }
}

impl ControlMode {
    pub fn is_gripper(self) -> bool {
        matches!(
            self,
            ControlMode::GripperBinary | ControlMode::GripperPosition
        )
    }
    pub fn is_cartesian(self) -> bool {
        matches!(
            self,
            ControlMode::CartesianPose | ControlMode::CartesianDelta | ControlMode::CartesianTwist
        )
    }
}

string_enum! {
    pub enum CommandMode { Absolute = "absolute", Delta = "delta" }
}

string_enum! {
    pub enum GripperConvention {
        NormalizedOpenUnit = "normalized_open_unit",
        NormalizedOpenSymmetric = "normalized_open_symmetric",
        BinaryCloseOne = "binary_close_one", RawJointRad = "raw_joint_rad",
        WidthMeters = "width_meters",
    }
}

string_enum! {
    pub enum QuantDtype {
        Fp32 = "fp32", Fp16 = "fp16", Bf16 = "bf16", Int8 = "int8", Int4 = "int4",
        Fp4Nvfp4 = "fp4_nvfp4",
    }
}

string_enum! {
    pub enum QuantBackend {
        Pytorch = "pytorch", Onnx = "onnx", Tensorrt = "tensorrt", Gguf = "gguf", Mlx = "mlx",
    }
}

string_enum! {
    pub enum StateLayout {
        Smolvla9d = "smolvla_9d", Human300_16d = "human300_16d", Gr1 = "gr1", Rc365 = "rc365",
        SimplerWidowx = "simpler_widowx", SimplerGoogle = "simpler_google",
        LiberoEef8d = "libero_eef8d",
    }
}

string_enum! {
    pub enum ActionRepresentation {
        JointPositions = "joint_positions", JointVelocities = "joint_velocities",
        DeltaEe6dPlusGripper = "delta_ee_6d_plus_gripper", DeltaEe6d = "delta_ee_6d",
        DeltaEe3dPlusGripper = "delta_ee_3d_plus_gripper", CartesianPose = "cartesian_pose",
    }
}

string_enum! {
    pub enum QuaternionConvention { Xyzw = "xyzw", Wxyz = "wxyz" }
}

string_enum! {
    pub enum GoalBuilder { Joint = "joint", Pose = "pose", LookAt = "look_at" }
}

string_enum! {
    pub enum DetectorEngine {
        RtdetrOnnx = "rtdetr_onnx", VlmSidecar = "vlm_sidecar", ZeroshotHf = "zeroshot_hf",
    }
}

string_enum! {
    pub enum DetectorMode { Continuous = "continuous", OnDemand = "on_demand" }
}

/// A whole manifest. Optional blocks are `None` both when absent and when `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default = "default_schema_version")]
    pub schema_version: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub license: LicensePosture,
    #[serde(default = "default_role")]
    pub role: Role,
    pub kind: Kind,
    #[serde(default)]
    pub model_family: Option<ModelFamily>,
    #[serde(default)]
    pub embodiment_tags: Vec<EmbodimentTag>,
    #[serde(default)]
    pub embodiment_extra: Option<EmbodimentExtra>,
    #[serde(default)]
    pub capabilities_required: BTreeMap<String, Value>,
    #[serde(default)]
    pub sensors_required: Vec<SensorRequirement>,
    #[serde(default)]
    pub actuators_required: Vec<ActuatorRequirement>,
    #[serde(default = "default_runtime")]
    pub runtime: Runtime,
    #[serde(default)]
    pub quantization: Option<QuantizationConfig>,
    #[serde(default)]
    pub weights_uri: Option<String>,
    pub chunk_size: u64,
    pub latency_budget: LatencyBudget,
    #[serde(default)]
    pub min_vram_gb: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    pub fallback_skill_id: Option<String>,
    #[serde(default)]
    pub benchmarks: BTreeMap<String, f64>,
    #[serde(default)]
    pub evaluated_tasks: Vec<String>,
    #[serde(default)]
    pub sim_env_control_mode: Option<String>,
    #[serde(default)]
    pub paper_url: Option<String>,
    #[serde(default)]
    pub dataset_uri: Option<String>,
    #[serde(default)]
    pub source_repo: Option<String>,
    pub description: String,
    pub actions: Vec<ActionVerb>,
    #[serde(default)]
    pub objects: Vec<String>,
    #[serde(default)]
    pub scenes: Vec<String>,
    #[serde(default)]
    pub envelope: Option<Value>,
    #[serde(default)]
    pub policy_extras: Option<Value>,
    #[serde(default)]
    pub processors: Option<Processors>,
    #[serde(default)]
    pub image_preprocessing: Option<Value>,
    #[serde(default)]
    pub state_contract: Option<StateContract>,
    #[serde(default)]
    pub action_contract: Option<ActionContract>,
    #[serde(default)]
    pub n_action_steps: Option<u64>,
    #[serde(default)]
    pub starting_pose: Option<Vec<f64>>,
    #[serde(default)]
    pub ros_integration: Option<RosIntegration>,
    #[serde(default)]
    pub detector: Option<DetectorConfig>,
    #[serde(default)]
    pub reward: Option<RewardConfig>,
    #[serde(default)]
    pub reward_rskill_name: Option<String>,
    #[serde(default)]
    pub playbook: Option<PlaybookConfig>,
    #[serde(default)]
    pub goal_params_schema: Option<Value>,
}

fn default_schema_version() -> String {
    "0.1".into()
}
fn default_role() -> Role {
    Role::S1
}
fn default_runtime() -> Runtime {
    Runtime::Pytorch
}

impl Manifest {
    /// Builds the typed model from a document that already passed the schema. An
    /// error names the JSON pointer of the field at fault (found by a second, tracking
    /// pass, so the common, valid case pays nothing for it).
    pub fn from_value(value: &Value) -> Result<Manifest, (String, String)> {
        if let Ok(m) = Manifest::deserialize(value) {
            return Ok(m);
        }
        match serde_path_to_error::deserialize::<_, Manifest>(value) {
            Ok(m) => Ok(m),
            Err(e) => {
                let pointer: String = e
                    .path()
                    .iter()
                    .filter_map(|seg| match seg {
                        serde_path_to_error::Segment::Seq { index } => Some(format!("/{index}")),
                        serde_path_to_error::Segment::Map { key } => {
                            Some(format!("/{}", crate::yaml::escape_pointer(key)))
                        }
                        _ => None,
                    })
                    .collect();
                Err((pointer, e.into_inner().to_string()))
            }
        }
    }

    /// The organisation part of `name`.
    pub fn org(&self) -> &str {
        self.name.split_once('/').map_or("", |(org, _)| org)
    }

    /// Whether the skill runs on any robot.
    pub fn is_embodiment_agnostic(&self) -> bool {
        self.embodiment_tags.contains(&EmbodimentTag::Any)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbodimentExtra {
    pub sensors: Vec<SensorRequirement>,
    pub actuators: Vec<ActuatorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorRequirement {
    pub modality: SensorModality,
    #[serde(default)]
    pub vla_feature_key: Option<String>,
    #[serde(default)]
    pub min_width: Option<u64>,
    #[serde(default)]
    pub min_height: Option<u64>,
    #[serde(default)]
    pub count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActuatorRequirement {
    pub kind: ControlMode,
    pub control_mode_semantics: ControlModeSemantics,
    #[serde(default)]
    pub n_dof: Option<u64>,
    #[serde(default)]
    pub vla_action_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlModeSemantics {
    pub mode: CommandMode,
    #[serde(default)]
    pub gripper_convention: Option<GripperConvention>,
    #[serde(default)]
    pub joint_order: Option<Vec<String>>,
    #[serde(default)]
    pub reference_frame: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantizationConfig {
    #[serde(default)]
    pub dtype: Option<QuantDtype>,
    #[serde(default)]
    pub backend: Option<QuantBackend>,
    #[serde(default)]
    pub per_channel: Option<bool>,
    #[serde(default)]
    pub calibration_dataset: Option<String>,
    #[serde(default)]
    pub extra: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyBudget {
    pub per_chunk_ms: f64,
    #[serde(default)]
    pub warmup_ms: Option<f64>,
    #[serde(default)]
    pub load_ms: Option<f64>,
    #[serde(default)]
    pub max_execution_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Processors {
    pub preprocessor_uri: String,
    pub postprocessor_uri: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateContract {
    #[serde(default)]
    pub layout: Option<StateLayout>,
    #[serde(default)]
    pub dim: Option<u64>,
    #[serde(default)]
    pub bindings: Option<StateBindings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBindings {
    #[serde(default)]
    pub eef_frame: Option<String>,
    #[serde(default)]
    pub base_frame: Option<String>,
    #[serde(default)]
    pub world_frame: Option<String>,
    #[serde(default)]
    pub gripper_qpos_joints: Option<Vec<String>>,
    #[serde(default)]
    pub quaternion_convention: Option<QuaternionConvention>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionContract {
    pub dim: u64,
    #[serde(default)]
    pub representation: Option<ActionRepresentation>,
    #[serde(default)]
    pub slots: Option<Vec<ActionSlot>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSlot {
    pub range: [i64; 2],
    #[serde(default)]
    pub control_mode: Option<ControlMode>,
    #[serde(default)]
    pub discard: Option<bool>,
    #[serde(default)]
    pub ee: Option<String>,
    #[serde(default)]
    pub frame: Option<String>,
    #[serde(default)]
    pub joint_names: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosIntegration {
    pub package: String,
    pub interface_type: String,
    pub interface_name: String,
    pub default_goal_json: String,
    #[serde(default)]
    pub result_trajectory_field: Option<String>,
    #[serde(default)]
    pub ros_dependencies: Option<Vec<String>>,
    #[serde(default)]
    pub goal_builder: Option<GoalBuilder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    pub labels: Vec<String>,
    #[serde(default)]
    pub input_size: Option<[i64; 2]>,
    #[serde(default)]
    pub score_threshold: Option<f64>,
    #[serde(default)]
    pub engine: Option<DetectorEngine>,
    #[serde(default)]
    pub mode: Option<DetectorMode>,
    #[serde(default)]
    pub max_side: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardConfig {
    pub frame_window_s: f64,
    pub target_fps: f64,
    #[serde(default)]
    pub progress_range: Option<[f64; 2]>,
    #[serde(default)]
    pub success_threshold: Option<f64>,
    #[serde(default)]
    pub check_floor: Option<f64>,
    #[serde(default)]
    pub preference: Option<bool>,
    #[serde(default)]
    pub instruction_required: Option<bool>,
    #[serde(default)]
    pub num_bins: Option<u64>,
    #[serde(default)]
    pub plateau_window_s: Option<f64>,
    #[serde(default)]
    pub default_patience_s: Option<f64>,
    #[serde(default)]
    pub plateau_tolerance: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookConfig {
    pub trigger: String,
    pub body_uri: String,
    pub composes_tools: Vec<String>,
    pub done_predicate: String,
    pub max_steps: u64,
}
