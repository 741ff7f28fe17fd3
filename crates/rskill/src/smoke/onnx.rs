//! Smoke-loading an ONNX model: an ONNX Runtime session, one pass on zeros of the
//! declared input shapes, and the outputs' shapes and values checked.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::*;

/// One input or output of an ONNX graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnnxValue {
    pub name: String,
    /// Element type for tensors (`f32`, `i64`, …); the whole type otherwise.
    pub element_type: String,
    /// Dimensions for tensors (empty for a scalar or a non-tensor).
    pub shape: Vec<OnnxDim>,
}

/// A dimension of an ONNX tensor shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OnnxDim {
    Fixed(u64),
    /// A named dynamic dimension (`batch`).
    Symbolic(String),
    /// A dynamic dimension without a name.
    Unknown,
}

impl fmt::Display for OnnxDim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnnxDim::Fixed(n) => write!(f, "{n}"),
            OnnxDim::Symbolic(s) => f.write_str(s),
            OnnxDim::Unknown => f.write_str("?"),
        }
    }
}

impl fmt::Display for OnnxValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self.shape.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}: {}[{}]",
            self.name,
            self.element_type,
            dims.join(", ")
        )
    }
}

/// What a loaded ONNX model exposes, and how its test pass went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnnxSummary {
    pub path: PathBuf,
    /// The runtime library that loaded it.
    pub runtime: PathBuf,
    pub inputs: Vec<OnnxValue>,
    pub outputs: Vec<OnnxValue>,
    /// The one test pass on zeros.
    pub run: OnnxRun,
}

/// One pass of a model on zeros of its declared input shapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnnxRun {
    /// The concrete input shapes used.
    pub input_shapes: Vec<(String, Vec<i64>)>,
    /// The shapes the outputs came out with.
    pub output_shapes: Vec<(String, Vec<i64>)>,
    /// Wall time of the pass, in milliseconds.
    pub latency_ms: f64,
}

impl fmt::Display for OnnxSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[OnnxValue]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "inputs: {}; outputs: {}; one pass on zeros in {:.2} ms, outputs finite",
            list(&self.inputs),
            list(&self.outputs),
            self.run.latency_ms
        )
    }
}

/// The process's one ONNX Runtime environment (ort allows only one per process), with
/// the library it was loaded from.
static ORT_ENV: Mutex<Option<(PathBuf, ort::environment::Environment)>> = Mutex::new(None);

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Loads the runtime library and creates the environment, once per process. A later
/// call naming another library gets the one already loaded (a process can hold only
/// one ONNX Runtime); the summary says which.
fn ort_environment(
    runtime: &RuntimeInfo,
) -> Result<(PathBuf, ort::environment::Environment), SmokeError> {
    let mut guard = ORT_ENV.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(loaded) = guard.as_ref() {
        return Ok(loaded.clone());
    }
    let fail = |problem: String| SmokeError::Runtime {
        dylib: runtime.dylib.clone(),
        problem,
    };
    let built = catch_unwind(AssertUnwindSafe(|| {
        ort::init_from(&runtime.dylib)
            .map_err(|e| e.to_string())?
            .with_name("rskill")
            .with_telemetry(false)
            .build()
            .map_err(|e| e.to_string())
    }))
    .map_err(|p| fail(format!("ort panicked: {}", panic_text(p))))?
    .map_err(fail)?;
    *guard = Some((runtime.dylib.clone(), built));
    Ok(guard.as_ref().expect("just set").clone())
}

/// Largest input the test pass builds (all inputs together), in elements.
const MAX_RUN_ELEMENTS: u64 = 16 << 20;

/// Loads an ONNX model into an ONNX Runtime session, reports its inputs and outputs,
/// and runs it once on zeros (named dynamic dimensions from `dims`, else 1): every
/// declared output must come out with its declared shape and finite values. The model
/// is loaded from its path, so external data files beside it (`model.onnx_data`) are
/// found the way ONNX Runtime finds them.
pub fn check_onnx(
    path: &Path,
    runtime: &RuntimeInfo,
    dims: &BTreeMap<String, u64>,
) -> Result<OnnxSummary, SmokeError> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(SmokeError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    let (loaded_from, env) = ort_environment(runtime)?;
    let fail = |problem: String| SmokeError::Onnx {
        path: path.to_path_buf(),
        problem,
    };
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<_, String> {
        let session = ort::session::Session::builder(&env)
            .map_err(|e| e.to_string())?
            .with_intra_threads(1)
            .map_err(|e| e.to_string())?
            .commit_from_file(path)
            .map_err(|e| e.to_string())?;
        let describe = |outlets: &[ort::value::Outlet]| -> Vec<OnnxValue> {
            outlets.iter().map(onnx_value).collect()
        };
        Ok((
            describe(session.inputs()),
            describe(session.outputs()),
            session,
        ))
    }))
    .map_err(|p| fail(format!("ort panicked: {}", panic_text(p))))?;
    let (inputs, outputs, mut session) = result.map_err(fail)?;
    let cannot_run = |problem: String| SmokeError::OnnxRun {
        path: path.to_path_buf(),
        problem,
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        run_once(&mut session, &inputs, &outputs, dims)
    }))
    .map_err(|p| cannot_run(format!("ort panicked: {}", panic_text(p))))?
    .map_err(cannot_run)?;
    Ok(OnnxSummary {
        path: path.to_path_buf(),
        runtime: loaded_from,
        inputs,
        outputs,
        run,
    })
}

/// The concrete shape of a declared input: fixed dimensions as declared, named ones
/// from `dims`, the rest 1.
fn concrete_shape(value: &OnnxValue, dims: &BTreeMap<String, u64>) -> Vec<i64> {
    value
        .shape
        .iter()
        .map(|d| match d {
            OnnxDim::Fixed(n) => *n as i64,
            OnnxDim::Symbolic(name) => dims.get(name).copied().unwrap_or(1) as i64,
            OnnxDim::Unknown => 1,
        })
        .collect()
}

/// A tensor of zeros of `element_type` and `shape`.
fn zeros(element_type: &str, shape: &[i64]) -> Result<ort::value::DynValue, String> {
    use ort::value::Tensor;
    let n: usize = shape.iter().map(|d| *d as usize).product();
    let shape = shape.to_vec();
    let made = match element_type {
        "f32" => Tensor::from_array((shape, vec![0f32; n])).map(|t| t.into_dyn()),
        "f64" => Tensor::from_array((shape, vec![0f64; n])).map(|t| t.into_dyn()),
        "i64" => Tensor::from_array((shape, vec![0i64; n])).map(|t| t.into_dyn()),
        "i32" => Tensor::from_array((shape, vec![0i32; n])).map(|t| t.into_dyn()),
        "i16" => Tensor::from_array((shape, vec![0i16; n])).map(|t| t.into_dyn()),
        "i8" => Tensor::from_array((shape, vec![0i8; n])).map(|t| t.into_dyn()),
        "u8" => Tensor::from_array((shape, vec![0u8; n])).map(|t| t.into_dyn()),
        "bool" => Tensor::from_array((shape, vec![false; n])).map(|t| t.into_dyn()),
        other => {
            return Err(format!(
                "the test pass cannot build an input of type {other} (f32, f64, i8–i64, u8 and bool are supported)"
            ));
        }
    };
    made.map_err(|e| e.to_string())
}

/// Runs the session once on zeros and checks what comes out.
fn run_once(
    session: &mut ort::session::Session,
    inputs: &[OnnxValue],
    outputs: &[OnnxValue],
    dims: &BTreeMap<String, u64>,
) -> Result<OnnxRun, String> {
    let mut input_shapes = Vec::new();
    let mut values = Vec::new();
    let mut elements: u64 = 0;
    for input in inputs {
        let shape = concrete_shape(input, dims);
        // Dimensions come from the model file: multiply without overflow.
        let count = shape
            .iter()
            .try_fold(1u64, |n, d| n.checked_mul(u64::try_from(*d).ok()?))
            .unwrap_or(u64::MAX);
        elements = elements.saturating_add(count);
        if elements > MAX_RUN_ELEMENTS {
            return Err(format!(
                "the inputs would hold over {MAX_RUN_ELEMENTS} elements; set smaller named dimensions in policy_extras.smoke.dims"
            ));
        }
        values.push((
            std::borrow::Cow::<str>::Owned(input.name.clone()),
            ort::session::SessionInputValue::from(zeros(&input.element_type, &shape)?),
        ));
        input_shapes.push((input.name.clone(), shape));
    }
    let started = std::time::Instant::now();
    let produced = session.run(values).map_err(|e| e.to_string())?;
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut output_shapes = Vec::new();
    for declared in outputs {
        let value = produced
            .get(&declared.name)
            .ok_or_else(|| format!("output `{}` was not produced", declared.name))?;
        let (shape, finite) =
            inspect(value).ok_or_else(|| format!("output `{}` is not a tensor", declared.name))?;
        let fits = shape.len() == declared.shape.len()
            && declared.shape.iter().zip(&shape).all(|(d, got)| match d {
                OnnxDim::Fixed(n) => *n as i64 == *got,
                _ => true,
            });
        if !fits {
            return Err(format!(
                "output `{}` came out with shape {shape:?}, declared {declared}",
                declared.name
            ));
        }
        if !finite {
            return Err(format!(
                "output `{}` holds NaN or infinite values on zero inputs",
                declared.name
            ));
        }
        output_shapes.push((declared.name.clone(), shape));
    }
    Ok(OnnxRun {
        input_shapes,
        output_shapes,
        latency_ms,
    })
}

/// The shape of an output tensor, and whether its values are all finite (always for
/// integer and boolean tensors).
fn inspect(value: &ort::value::DynValue) -> Option<(Vec<i64>, bool)> {
    if let Ok((shape, data)) = value.try_extract_tensor::<f32>() {
        return Some((shape.to_vec(), data.iter().all(|v| v.is_finite())));
    }
    if let Ok((shape, data)) = value.try_extract_tensor::<f64>() {
        return Some((shape.to_vec(), data.iter().all(|v| v.is_finite())));
    }
    match value.dtype() {
        ort::value::ValueType::Tensor { shape, .. } => Some((shape.to_vec(), true)),
        _ => None,
    }
}

fn onnx_value(outlet: &ort::value::Outlet) -> OnnxValue {
    use ort::value::ValueType;
    match outlet.dtype() {
        ValueType::Tensor {
            ty,
            shape,
            dimension_symbols,
        } => OnnxValue {
            name: outlet.name().to_string(),
            element_type: ty.to_string(),
            shape: shape
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    if d >= 0 {
                        OnnxDim::Fixed(d as u64)
                    } else {
                        match dimension_symbols.get(i).filter(|s| !s.is_empty()) {
                            Some(s) => OnnxDim::Symbolic(s.clone()),
                            None => OnnxDim::Unknown,
                        }
                    }
                })
                .collect(),
        },
        other => OnnxValue {
            name: outlet.name().to_string(),
            element_type: other.to_string(),
            shape: Vec::new(),
        },
    }
}
