//! The safe core: owning wrappers of libnanomsg over `ffi`, and nothing of Python (this tree
//! never uses pyo3; `tests/test_layout.py` checks it). The modules are private; the layer
//! above sees the API re-exported here.
//!
//! Dependencies run one way, from the top of this list down:
//! `device`, `poll` > `socket` > `message`, `cmsg` > `backend` > `options`, `library` >
//! `symbols` > `error` > `process`, `sync`, `copy` (and `constants`, which only reads `ffi`).

mod backend;
mod cmsg;
mod constants;
mod copy;
mod device;
mod error;
mod library;
mod message;
mod options;
mod poll;
mod process;
mod socket;
mod symbols;
mod sync;

pub use constants::{protocol_name, CONSTANTS};
pub use copy::copy_bytes;
pub use device::Device;
pub use error::{strerror, NnError, NnResult};
pub use library::{library_version, term, HARDENED, MAX_SOCKETS, NAME, SOCKET_LIMIT_REACHED};
pub use message::NnMsg;
pub use options::{find as find_option, Caveat, Face, Kind, Nng, Only, OptionSpec, OPTIONS};
pub use poll::Poll;
pub use process::install_fork_guard;
pub use socket::{BatchWait, Direction, Guard, Socket, Unlocked, Usage};
pub use symbols::{symbols, version};
pub use sync::lock;
