//! How the binaries talk to people: errors with a `hint:` on stderr, colour only on a
//! terminal and never with NO_COLOR, and the async runtime they share.

use std::io::IsTerminal;

/// A failure the binary reports: what failed, and what to try.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            hint: None,
            code: 1,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl From<crate::corpus::DiscoverError> for CliError {
    fn from(e: crate::corpus::DiscoverError) -> Self {
        CliError::new(e.to_string()).hint(e.hint())
    }
}

impl From<crate::hub::HubError> for CliError {
    fn from(e: crate::hub::HubError) -> Self {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        err.hint = hint;
        err
    }
}

impl From<crate::install::InstallError> for CliError {
    fn from(e: crate::install::InstallError) -> Self {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        err.hint = hint;
        err
    }
}

impl From<crate::registry::RegistryError> for CliError {
    fn from(e: crate::registry::RegistryError) -> Self {
        CliError::new(e.to_string())
    }
}

/// A tokio runtime for a command's network work.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
}

/// Reads the Hub settings and builds a client.
pub fn hub_client(token_flag: Option<&str>) -> Result<crate::hub::HubClient, CliError> {
    let env = crate::hub::HubEnv::from_env(token_flag);
    Ok(crate::hub::HubClient::new(env)?)
}

/// Whether to colour a stream.
pub fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn paint(text: &str, ansi: &str, color: bool) -> String {
    if color {
        format!("\x1b[{ansi}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn error(e: &CliError) {
    let color = use_color(std::io::stderr().is_terminal());
    eprintln!("{} {}", paint("error:", "1;31", color), e.message);
    if let Some(h) = &e.hint {
        eprintln!("{} {h}", paint("hint:", "1;36", color));
    }
}
