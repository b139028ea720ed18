//! The safe core: owning wrappers of libnanomsg, no PyO3.

pub mod compat;
pub mod constants;
pub mod device;
pub mod error;
pub mod library;
pub mod message;
pub mod socket;
