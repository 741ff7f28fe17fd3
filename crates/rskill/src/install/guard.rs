//! The install guard of the spec: non-commercial postures need an explicit
//! declaration of non-commercial use; proprietary / unknown need a confirmation;
//! pickle-bearing files (the one list of `rskill_hub_protocol::pickle_formats`, and
//! NumPy object arrays or zip checkpoints found by content) need an opt-in; so does a weights repo that ships or asks for Python
//! code (remote code). Pure decisions, so every branch is testable.

use crate::license::{
    ALLOW_NONCOMMERCIAL_ENV, ALLOW_REMOTE_CODE_ENV, ALLOW_UNSAFE_PICKLE_ENV, CommercialUse,
    LicensePosture,
};

/// What the user said (flags, environment, terminal).
#[derive(Debug, Clone, Copy, Default)]
pub struct Consent {
    /// `--non-commercial` or OPENRAL_ALLOW_NONCOMMERCIAL=1.
    pub non_commercial: bool,
    /// `--yes`.
    pub yes: bool,
    /// Whether a person can be asked (stdin and stderr are terminals).
    pub interactive: bool,
    /// OPENRAL_ALLOW_UNSAFE_PICKLE=1.
    pub allow_pickle: bool,
    /// OPENRAL_ALLOW_REMOTE_CODE=1.
    pub allow_remote_code: bool,
}

impl Consent {
    /// Flags plus the environment variables fleets already set.
    pub fn from_flags(non_commercial: bool, yes: bool, interactive: bool) -> Consent {
        Consent {
            non_commercial: non_commercial || crate::license::env_opt_in(ALLOW_NONCOMMERCIAL_ENV),
            yes,
            interactive,
            allow_pickle: crate::license::env_opt_in(ALLOW_UNSAFE_PICKLE_ENV),
            allow_remote_code: crate::license::env_opt_in(ALLOW_REMOTE_CODE_ENV),
        }
    }
}

/// The guard's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Proceed,
    /// Ask the person; proceed only on "yes".
    Confirm(String),
    Refuse {
        reason: String,
        hint: String,
    },
}

/// The license banner shown before anything is downloaded.
pub fn banner(posture: LicensePosture) -> String {
    match posture.commercial_use() {
        CommercialUse::Allowed => format!("license: {posture} (commercial use allowed)"),
        CommercialUse::NonCommercial => format!(
            "license: {posture} — NON-COMMERCIAL: research / evaluation only, never in a commercial deployment"
        ),
        CommercialUse::Unclear => format!(
            "license: {posture} — NOT CLEARED for commercial use: check the terms with the skill's owner"
        ),
    }
}

/// Decides on the license posture.
pub fn license_decision(posture: LicensePosture, consent: &Consent) -> Decision {
    match posture.commercial_use() {
        CommercialUse::Allowed => Decision::Proceed,
        CommercialUse::NonCommercial if consent.non_commercial => Decision::Proceed,
        CommercialUse::NonCommercial => Decision::Refuse {
            reason: format!(
                "license `{posture}` is non-commercial and non-commercial use was not declared"
            ),
            hint: format!(
                "for non-commercial research use, pass --non-commercial or set {ALLOW_NONCOMMERCIAL_ENV}=1"
            ),
        },
        // --yes answers the question; it never bypasses the non-commercial block above.
        CommercialUse::Unclear if consent.yes => Decision::Proceed,
        CommercialUse::Unclear if consent.interactive => Decision::Confirm(format!(
            "license `{posture}` is not cleared for commercial use. Install anyway?"
        )),
        CommercialUse::Unclear => Decision::Refuse {
            reason: format!(
                "license `{posture}` needs confirmation and there is no terminal to ask"
            ),
            hint: "pass --yes to confirm you have checked the license terms".into(),
        },
    }
}

/// Decides on pickled files among `files`, by name (the one list of pickle formats),
/// before anything is downloaded.
pub fn pickle_decision(files: &[String], consent: &Consent) -> Decision {
    let pickles: Vec<String> = files
        .iter()
        .filter(|f| crate::license::is_pickle_file(f))
        .cloned()
        .collect();
    pickle_content_decision(&pickles, consent)
}

/// Decides on files found to carry pickles (`found`: each named, with why), by name or,
/// once downloaded, by content (NumPy object arrays, zip checkpoints, pickle streams
/// under other names).
pub fn pickle_content_decision(found: &[String], consent: &Consent) -> Decision {
    if found.is_empty() || consent.allow_pickle {
        return Decision::Proceed;
    }
    Decision::Refuse {
        reason: format!(
            "files are pickled ({}): loading them can execute arbitrary code",
            found.join(", ")
        ),
        hint: format!(
            "prefer a safetensors or ONNX upstream; to accept the risk set {ALLOW_UNSAFE_PICKLE_ENV}=1"
        ),
    }
}

/// Decides on remote code: `python` files the weights repo ships, and `auto_map`
/// configs (files whose `config.json` asks for code).
pub fn remote_code_decision(python: &[String], auto_map: &[String], consent: &Consent) -> Decision {
    if (python.is_empty() && auto_map.is_empty()) || consent.allow_remote_code {
        return Decision::Proceed;
    }
    let mut what = Vec::new();
    if !python.is_empty() {
        what.push(format!("ships Python code ({})", python.join(", ")));
    }
    if !auto_map.is_empty() {
        what.push(format!(
            "asks for remote code (auto_map in {})",
            auto_map.join(", ")
        ));
    }
    Decision::Refuse {
        reason: format!(
            "the weights repo {}: loading it with trust_remote_code would run that code",
            what.join(" and ")
        ),
        hint: format!("review the code upstream; to accept it set {ALLOW_REMOTE_CODE_ENV}=1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LicensePosture::*;

    fn consent(non_commercial: bool, yes: bool, interactive: bool) -> Consent {
        Consent {
            non_commercial,
            yes,
            interactive,
            allow_pickle: false,
            allow_remote_code: false,
        }
    }

    #[test]
    fn commercial_postures_proceed() {
        for p in [Apache2, Mit, Bsd, NvidiaOpenModel] {
            assert_eq!(
                license_decision(p, &consent(false, false, false)),
                Decision::Proceed
            );
        }
    }

    #[test]
    fn non_commercial_needs_declaration_and_yes_does_not_bypass() {
        for p in [PermissiveResearch, NvidiaNonCommercial, RlwrldNonCommercial] {
            assert!(matches!(
                license_decision(p, &consent(false, true, true)),
                Decision::Refuse { .. }
            ));
            assert_eq!(
                license_decision(p, &consent(true, false, false)),
                Decision::Proceed
            );
        }
    }

    #[test]
    fn unclear_asks_or_refuses_without_terminal() {
        for p in [Proprietary, Unknown] {
            assert_eq!(
                license_decision(p, &consent(false, true, false)),
                Decision::Proceed
            );
            assert!(matches!(
                license_decision(p, &consent(false, false, true)),
                Decision::Confirm(_)
            ));
            let d = license_decision(p, &consent(false, false, false));
            assert!(matches!(d, Decision::Refuse { ref hint, .. } if hint.contains("--yes")));
            // Declaring non-commercial use does not answer the confirmation.
            assert!(matches!(
                license_decision(p, &consent(true, false, false)),
                Decision::Refuse { .. }
            ));
        }
    }

    #[test]
    fn pickles_need_opt_in() {
        let files = vec!["model.safetensors".to_string(), "extra.pt".to_string()];
        assert!(matches!(
            pickle_decision(&files, &consent(false, true, true)),
            Decision::Refuse { .. }
        ));
        let mut c = consent(false, false, false);
        c.allow_pickle = true;
        assert_eq!(pickle_decision(&files, &c), Decision::Proceed);
        assert_eq!(
            pickle_decision(&["model.onnx".to_string()], &consent(false, false, false)),
            Decision::Proceed
        );
    }

    #[test]
    fn remote_code_needs_opt_in() {
        let py = vec!["modeling_x.py".to_string()];
        let none: Vec<String> = Vec::new();
        let cfg = vec!["acme/w/config.json".to_string()];
        let c = consent(true, true, true);
        assert_eq!(remote_code_decision(&none, &none, &c), Decision::Proceed);
        for (p, a) in [(&py, &none), (&none, &cfg), (&py, &cfg)] {
            let d = remote_code_decision(p, a, &c);
            assert!(
                matches!(&d, Decision::Refuse { hint, .. } if hint.contains("OPENRAL_ALLOW_REMOTE_CODE=1")),
                "{d:?}"
            );
        }
        let allowed = Consent {
            allow_remote_code: true,
            ..c
        };
        assert_eq!(remote_code_decision(&py, &cfg, &allowed), Decision::Proceed);
    }
}
