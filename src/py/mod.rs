//! The thin Python-facing layer (PyO3).

pub mod blocking;
pub mod data;
pub mod errors;
pub mod functions;
pub mod message;
pub mod socket;
