//! License postures and what they allow: the one place that decides whether a skill
//! may be used commercially. The install guard, search and the model-card checks all
//! ask this module, so they can never disagree.

use crate::string_enum;

string_enum! {
    /// A manifest's `license` field: a posture, not an SPDX expression.
    #[derive(Default)]
    pub enum LicensePosture {
        Apache2 = "apache-2.0",
        Mit = "mit",
        Bsd = "bsd",
        PermissiveResearch = "permissive_research",
        NvidiaNonCommercial = "nvidia_non_commercial",
        NvidiaOpenModel = "nvidia_open_model",
        RlwrldNonCommercial = "rlwrld_non_commercial",
        Proprietary = "proprietary",
        #[default]
        Unknown = "unknown",
    }
}

/// What a posture means for a commercial deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommercialUse {
    /// Cleared for commercial use.
    Allowed,
    /// Hard-blocked unless the user declares non-commercial research use.
    NonCommercial,
    /// Not cleared, not blocked: warn loudly and ask for confirmation.
    Unclear,
}

/// The environment variable fleets already set to declare non-commercial use.
pub const ALLOW_NONCOMMERCIAL_ENV: &str = "OPENRAL_ALLOW_NONCOMMERCIAL";
/// The environment variable that opts in to loading pickled weights.
pub const ALLOW_UNSAFE_PICKLE_ENV: &str = "OPENRAL_ALLOW_UNSAFE_PICKLE";
/// The environment variable that opts in to weights repos shipping or asking for
/// Python code (`*.py`, `auto_map` in `config.json`).
pub const ALLOW_REMOTE_CODE_ENV: &str = "OPENRAL_ALLOW_REMOTE_CODE";

impl LicensePosture {
    pub fn commercial_use(self) -> CommercialUse {
        use LicensePosture::*;
        match self {
            Apache2 | Mit | Bsd | NvidiaOpenModel => CommercialUse::Allowed,
            PermissiveResearch | NvidiaNonCommercial | RlwrldNonCommercial => {
                CommercialUse::NonCommercial
            }
            Proprietary | Unknown => CommercialUse::Unclear,
        }
    }

    pub fn commercial_use_allowed(self) -> bool {
        self.commercial_use() == CommercialUse::Allowed
    }

    pub fn is_non_commercial(self) -> bool {
        self.commercial_use() == CommercialUse::NonCommercial
    }

    /// The model card's `license` metadata for this posture, and `license_name`
    /// when the Hub has no id for it (then `license` is `other`).
    pub fn card_license(self) -> (&'static str, Option<&'static str>) {
        use LicensePosture::*;
        match self {
            Apache2 => ("apache-2.0", None),
            Mit => ("mit", None),
            Bsd => ("bsd-3-clause", None),
            Unknown => ("unknown", None),
            PermissiveResearch => ("other", Some("permissive-research")),
            NvidiaNonCommercial => ("other", Some("nvidia-non-commercial")),
            NvidiaOpenModel => ("other", Some("nvidia-open-model")),
            RlwrldNonCommercial => ("other", Some("rlwrld-non-commercial")),
            Proprietary => ("other", Some("proprietary")),
        }
    }

    /// Whether a card's `license` / `license_name` pair agrees with this posture.
    /// BSD accepts every BSD id the Hub knows; everything else must match exactly.
    pub fn card_agrees(self, license: Option<&str>, license_name: Option<&str>) -> bool {
        let (id, name) = self.card_license();
        match (self, license) {
            (LicensePosture::Bsd, Some(l)) => {
                matches!(
                    l,
                    "bsd" | "bsd-2-clause" | "bsd-3-clause" | "bsd-3-clause-clear"
                )
            }
            (_, Some(l)) if l == id => name.is_none() || license_name == name,
            _ => false,
        }
    }
}

/// True when the value of an opt-in environment variable is exactly `1`, as the
/// fleets that already set these variables expect.
pub fn env_opt_in(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// The one list of pickle-bearing formats (which execute code when loaded), defined in
/// `rskill-hub-protocol` for every crate.
pub use rskill_hub_protocol::pickle_formats::{
    NUMPY_EXTENSIONS, PICKLE_EXTENSIONS, is_numpy_file, is_pickle_file, may_hold_pickles,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postures_classify_as_the_spec_says() {
        use LicensePosture::*;
        for p in [Apache2, Mit, Bsd, NvidiaOpenModel] {
            assert_eq!(p.commercial_use(), CommercialUse::Allowed, "{p}");
        }
        for p in [PermissiveResearch, NvidiaNonCommercial, RlwrldNonCommercial] {
            assert!(p.is_non_commercial(), "{p}");
        }
        for p in [Proprietary, Unknown] {
            assert_eq!(p.commercial_use(), CommercialUse::Unclear, "{p}");
        }
        assert_eq!(LicensePosture::ALL.len(), 9);
    }

    #[test]
    fn card_license_agreement() {
        use LicensePosture::*;
        assert!(Apache2.card_agrees(Some("apache-2.0"), None));
        assert!(!Apache2.card_agrees(Some("mit"), None));
        assert!(Bsd.card_agrees(Some("bsd-2-clause"), None));
        assert!(NvidiaNonCommercial.card_agrees(Some("other"), Some("nvidia-non-commercial")));
        assert!(!NvidiaNonCommercial.card_agrees(Some("other"), Some("proprietary")));
        assert!(!Unknown.card_agrees(None, None));
        for p in LicensePosture::ALL {
            let (id, name) = p.card_license();
            assert!(p.card_agrees(Some(id), name), "{p}");
        }
    }
}
